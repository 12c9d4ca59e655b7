"""What happens when user code (a processor, hook or callback) raises."""

from __future__ import annotations

import enum


class ErrorPolicy(enum.StrEnum):
    """The choice a microscopist makes between stopping and carrying on.

    ``ABORT`` stops the acquisition; what was saved stays readable and the original
    exception is raised when the acquisition is awaited. ``SKIP`` drops the frame that
    failed and goes on. ``PASS_THROUGH`` disables the processor that failed and passes
    frames on unprocessed. Every error is recorded with its traceback either way.
    """

    ABORT = "abort"
    SKIP = "skip"
    PASS_THROUGH = "pass_through"
