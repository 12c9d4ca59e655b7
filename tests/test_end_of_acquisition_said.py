"""#12 saying what happened: aborted is aborted, failed is failed with its cause, never
"Finished"; a processor's error names the line that raised."""

from __future__ import annotations

import numpy as np

from app.acquisition.state import AcquisitionStatus, FinishReason, RunState
from app.acquisition.summary import describe_end
from app.processing.pipeline import Processor, ProcessorPipeline


def _status(state, **kwargs):
    defaults = {"finish_reason": None, "reason": "", "counts": {"saved": 3}}
    return AcquisitionStatus(state=state, **{**defaults, **kwargs})


def test_each_ending_is_said_as_it_is():
    assert describe_end(_status(RunState.FINISHED), " in /d").startswith(
        "Finished: 3 images saved in /d"
    )
    aborted = describe_end(_status(RunState.ABORTED, counts={"saved": 2, "unprocessed": 4}), "")
    assert aborted.startswith("Aborted: 2 images saved") and "4 saved without processing" in aborted
    failed = describe_end(
        _status(RunState.FAILED, finish_reason=FinishReason.FAILED, error=OSError("disk full")),
        " in /d",
    )
    assert failed.startswith("Failed: OSError: disk full. 3 images saved in /d")
    assert "Finished" not in failed


def test_a_processor_error_names_the_line_that_raised():
    def faulty(image, metadata):
        scale = 2
        return image / (scale - 2) if False else image[10**9], metadata  # the bad line

    pipeline = ProcessorPipeline([Processor(faulty)], on_error="skip")
    pipeline.process(np.zeros((2, 2)), {"Axes": {"time": 0}}, None)
    failure = pipeline.failures[0]
    def_line = faulty.__code__.co_firstlineno
    assert failure.raised_at == f"{__file__}:{def_line + 2}"
    assert f"at {__file__}:{def_line + 2}" in str(failure)


def _running_time_lapse(qtbot, window):
    """A long time-lapse started from the panel (kept in memory), two images in."""
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(200)
    panel.interval.setValue(0.05)
    panel.save_box.setChecked(False)
    panel.start_button.click()
    acq = window.controller.acquisition
    qtbot.waitUntil(lambda: acq.status.counts["saved"] >= 2, timeout=10000)
    return panel, acq


def test_the_window_says_aborted_not_finished(qtbot, window):
    panel, _ = _running_time_lapse(qtbot, window)
    panel.abort_button.click()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30000)
    assert panel.progress_label.text().startswith("Aborted: ")


def test_the_window_says_failed_with_the_cause(qtbot, window):
    panel, acq = _running_time_lapse(qtbot, window)
    # the error's dialog waits for the user: the progress line says the failure already
    said_meanwhile = []
    shown = window.show_error_message
    window.show_error_message = lambda message: (
        said_meanwhile.append(panel.progress_label.text()),
        shown(message),
    )
    acq.abort(RuntimeError("the sample holder is loose"))  # as a worker reports an error
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30000)
    text = panel.progress_label.text()
    assert text.startswith("Failed: RuntimeError: the sample holder is loose."), text
    assert said_meanwhile == [text]
    assert "Failed: RuntimeError" in window.statusBar().currentMessage()
