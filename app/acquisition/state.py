"""An acquisition's life as one explicit state, and the snapshot everyone reads.

As pymmcore-plus's runner keeps a run state and a finish reason, an acquisition is in
one ``RunState`` at a time, changed only by ``AcquisitionFlow`` under its lock:

    RUNNING <-> PAUSING            pause() / resume()
    RUNNING | PAUSING -> FINISHING mark_finished(), event_queue.put(None)
    any live state -> ABORTING     abort(), or an error that stops it
    FINISHING -> FINISHED          the last event ran and every frame is stored
    ABORTING  -> ABORTED | FAILED  once acquired frames are processed and stored

``AcquisitionStatus`` is an immutable snapshot of it, with the counts and the reason
it ended: what the window, ``scopeflow run`` and scripts read (``acq.status``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class RunState(Enum):
    RUNNING = "running"
    #: paused, or asked to pause (a camera burst under way finishes first)
    PAUSING = "pausing"
    #: no more events from the caller: the pending ones run, frames drain
    FINISHING = "finishing"
    #: asked to stop (by the user or an error): no more events; acquired frames drain
    ABORTING = "aborting"
    FINISHED = "finished"
    ABORTED = "aborted"
    FAILED = "failed"

    @property
    def is_over(self) -> bool:
        return self in (RunState.FINISHED, RunState.ABORTED, RunState.FAILED)

    @property
    def is_stopping(self) -> bool:
        """No event may start any more."""
        return self in (RunState.ABORTING, RunState.ABORTED, RunState.FAILED)


class FinishReason(Enum):
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"


@dataclass(frozen=True)
class AcquisitionStatus:
    """One moment of an acquisition, safe to keep and to read from any thread."""

    state: RunState
    #: why it ended (None while it runs)
    finish_reason: FinishReason | None
    #: a sentence a person can read: "running", "aborted by the user", the error...
    reason: str
    counts: dict[str, int] = field(default_factory=dict)
    events_submitted: int = 0
    events_pending: int = 0
    #: frames waiting between the threads
    queue_depths: dict[str, int] = field(default_factory=dict)
    error: BaseException | None = None
    elapsed_s: float = 0.0
    #: a processor on one image for longer than ``LONG_CALL_S``, and for how long
    #: ("image processor denoise, 12 s on one image"): what a run that seems stuck
    #: waits for (None: none)
    long_call: str | None = None

    @property
    def is_over(self) -> bool:
        return self.state.is_over
