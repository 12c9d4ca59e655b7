"""Processor parameters tuned live (keyword parameters with a default get a form), and
each processor's time per frame as a live plot in the Processors panel."""

from __future__ import annotations

import enum
import re
import textwrap
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from app import (
    Acquisition,
    ParameterError,
    multi_d_acquisition_events,
    open_dataset,
    set_parameter,
)
from app.processing.parameters import METADATA_KEY, ProcessorParameters, find_parameters
from app.processing.pipeline import Processor, ProcessorPipeline
from app.processing.registry import ProcessorRegistry
from app.processing.replay import process_dataset
from app.scripting import ScriptsFolder, current_registry, set_current_registry
from tests.windows import new_window


def denoise(image, metadata, sigma: float = 1.5, mode: str = "reflect"):
    metadata["sigma_used"] = sigma
    return image, metadata


def add_offset(image, metadata, offset: int = 0):
    """Marks the first row with its offset: what a frame was made with shows in it."""
    image[0, :] = offset
    return image, metadata


class Edge(enum.Enum):
    REFLECT = "reflect"
    WRAP = "wrap"


def _frame():
    return np.zeros((4, 4), np.uint16), {"Axes": {"time": 0}}


# ------------------------------------------------------------ Qt-free: finding them


def test_keyword_parameters_with_defaults_are_tunable_and_take_no_positional_place():
    p = Processor(denoise)
    assert list(p.parameters) == ["sigma", "mode"]
    assert p.arity == 2  # sigma does not receive the event queue
    assert p.parameters.values() == {"sigma": 1.5, "mode": "reflect"}
    assert p.parameters.specs["sigma"].kind is float


def test_which_parameters_are_tunable():
    def many(
        image,
        metadata,
        event_queue,
        a: int = 1,
        b=2.5,  # no hint: the default's type
        c: Literal["x", "y"] = "x",
        d: Edge = Edge.REFLECT,
        e: float | None = None,
        f: np.ndarray | None = None,  # not a form field: keeps its default
        g: Annotated[float, {"min": 0, "max": 10}] = 2.0,
        *,
        h: bool = False,
        path: Path = Path("."),
    ):
        return image, metadata

    specs = {s.name: s for s in find_parameters(many)}
    assert list(specs) == ["a", "b", "c", "d", "e", "g", "h", "path"]
    assert specs["b"].kind is float
    assert specs["c"].choices == ("x", "y")
    assert specs["e"].optional and specs["e"].kind is float
    assert specs["g"].options == {"min": 0, "max": 10}
    assert Processor(many).arity == 3

    def queue_by_default(image, metadata, queue=None):  # pycro-manager's optional queue
        return image, metadata

    assert Processor(queue_by_default).arity == 3
    assert not Processor(queue_by_default).parameters


def test_the_event_queue_after_a_parameter_is_passed_by_keyword():
    seen = {}

    def proc(image, metadata, sigma: float = 1.0, event_queue=None):
        seen.update(sigma=sigma, queue=event_queue)
        return image, metadata

    p = Processor(proc)
    assert p.arity == 3
    ProcessorPipeline([p]).process(*_frame(), "the queue")
    assert seen == {"sigma": 1.0, "queue": "the queue"}


def test_values_are_checked_against_the_hint():
    def proc(
        image,
        metadata,
        n: int = 1,
        x: float = 0.5,
        on: bool = True,
        edge: Edge = Edge.REFLECT,
        mode: Literal["a", "b"] = "a",
        limited: Annotated[int, {"min": 0, "max": 5}] = 1,
        maybe: float | None = None,
    ):
        return image, metadata

    params = ProcessorParameters.of(proc)
    assert params.set("n", "7") == 7
    assert params.set("n", 3.0) == 3
    assert params.set("x", "1e-3") == 0.001
    assert params.set("x", 2) == 2.0
    assert params.set("on", "false") is False
    assert params.set("edge", "WRAP") is Edge.WRAP
    assert params.set("edge", "reflect") is Edge.REFLECT
    assert params.set("mode", "b") == "b"
    assert params.set("maybe", "") is None
    for name, bad, says in [
        ("n", "abc", "n must be a whole number (int), not 'abc'"),
        ("n", 2.5, "whole number"),
        ("n", True, "n must be an int"),
        ("x", "two", "x must be a number (float), not 'two'"),
        ("on", "maybe", "on must be true or false"),
        ("edge", "mirror", "edge must be one of 'REFLECT', 'WRAP'"),
        ("mode", "c", "mode must be one of 'a', 'b'"),
        ("limited", 6, "limited must be at most 5"),
        ("nope", 1, "no tunable parameter 'nope'"),
    ]:
        with pytest.raises(ParameterError, match=re.escape(says)):
            params.set(name, bad)
    assert params["n"] == 3  # a refused value changes nothing
    assert params.user_values()["edge"] == "REFLECT"  # plain JSON for settings


def test_a_change_applies_from_the_next_frame_and_is_written_in_the_metadata():
    registry = ProcessorRegistry()
    registry.register(denoise)
    pipeline = ProcessorPipeline(registry.for_acquisition())
    ((_, md),) = pipeline.process(*_frame(), None)
    assert md["sigma_used"] == 1.5
    assert md[METADATA_KEY] == {"denoise": {"sigma": 1.5, "mode": "reflect"}}
    assert registry.set_parameter("denoise", "sigma", "2") == 2.0
    ((_, md),) = pipeline.process(*_frame(), None)
    assert md["sigma_used"] == 2.0
    assert md[METADATA_KEY] == {"denoise": {"sigma": 2.0, "mode": "reflect"}}
    with pytest.raises(ParameterError, match="denoise: sigma must be a number"):
        registry.set_parameter("denoise", "sigma", "abc")


def test_a_processor_without_parameters_adds_nothing_to_the_metadata():
    def plain(image, metadata):
        return image, metadata

    ((_, md),) = ProcessorPipeline([plain]).process(*_frame(), None)
    assert METADATA_KEY not in md


def test_each_frame_runs_on_one_consistent_snapshot():
    """Two parameters changed together are never seen half changed by a frame."""

    def pair(image, metadata, a: int = 0, b: int = 0):
        if a != b:
            metadata["torn"] = (a, b)
        return image, metadata

    p = Processor(pair)
    pipeline = ProcessorPipeline([p])
    stop = threading.Event()

    def writer():
        value = 0
        while not stop.is_set():
            value += 1
            p.parameters.update({"a": value, "b": value})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(3000):
            ((_, md),) = pipeline.process(*_frame(), None)
            assert "torn" not in md
            assert md[METADATA_KEY]["pair"]["a"] == md[METADATA_KEY]["pair"]["b"]
    finally:
        stop.set()
        thread.join()


def test_state_saves_and_restores_the_values_the_user_set():
    registry = ProcessorRegistry()
    registry.register(denoise)
    registry.set_parameter("denoise", "sigma", 3.0)
    state = registry.state()
    assert state == [
        {"name": "denoise", "enabled": True, "live": False, "parameters": {"sigma": 3.0}}
    ]
    again = ProcessorRegistry()
    again.register(denoise)
    again.restore_state(state)
    assert again.get("denoise").parameters.values() == {"sigma": 3.0, "mode": "reflect"}
    # a hand-edited value that does not fit is skipped, not an error
    again.restore_state([{"name": "denoise", "parameters": {"sigma": "x", "gone": 1}}])
    assert again.get("denoise").parameters["sigma"] == 3.0


def test_the_scripting_api_sets_them(core, tmp_path):
    previous = current_registry()
    registry = ProcessorRegistry()
    set_current_registry(registry)
    try:
        registry.register(add_offset, source="test")
        assert set_parameter("add_offset", "offset", 42) == 42
        with pytest.raises(ParameterError, match="add_offset: offset must be a whole number"):
            set_parameter("add_offset", "offset", "lots")
        with Acquisition(tmp_path, "api", image_process_fn=registry.for_acquisition()) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=2))
        dataset = open_dataset(acq.dataset_path)
        for t in range(2):
            assert (dataset.read_image(time=t)[0] == 42).all()
            assert dataset.read_metadata(time=t)[METADATA_KEY] == {"add_offset": {"offset": 42}}
        # a plain function given to an Acquisition runs with its defaults
        with Acquisition(tmp_path, "plain", image_process_fn=add_offset) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=1))
        assert (open_dataset(acq.dataset_path).read_image(time=0)[0] == 0).all()
    finally:
        set_current_registry(previous)


def test_replay_runs_with_the_values_set(core, tmp_path):
    with Acquisition(tmp_path, "raw") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    p = Processor(add_offset)
    p.parameters.set("offset", 9)
    out = process_dataset(acq.dataset_path, [p], tmp_path, "replayed")
    processed = open_dataset(out)
    assert (processed.read_image(time=1)[0] == 9).all()
    assert processed.read_metadata(time=1)[METADATA_KEY] == {"add_offset": {"offset": 9}}


SCRIPT = """
from app import processor

@processor
def smooth(image, metadata, sigma: {hint} = {default}, passes: int = 1):
    metadata["version"] = {version}
    return image, metadata
"""


def test_a_reloaded_script_keeps_the_values_the_user_set(tmp_path):
    registry = ProcessorRegistry()
    folder = ScriptsFolder(tmp_path, registry)
    script = tmp_path / "smooth.py"

    def write(version, hint="float", default="1.5"):
        script.write_text(
            textwrap.dedent(SCRIPT).format(version=version, hint=hint, default=default),
            encoding="utf-8",
        )
        assert folder.scan() == [script]

    write(1)
    registry.set_parameter("smooth", "sigma", 2.5)
    running = registry.get("smooth")  # as an acquisition started before the reload holds it
    write(2)  # the same parameters: the same values, shared with the running version
    assert registry.get("smooth").parameters is running.parameters
    registry.set_parameter("smooth", "passes", 3)
    ((_, md),) = ProcessorPipeline([running]).process(*_frame(), None)
    assert md[METADATA_KEY]["smooth"] == {"sigma": 2.5, "passes": 3}
    registry.get("smooth").parameters.reset("passes")
    write(3, default="4.0")  # a new default: the user's value stays
    params = registry.get("smooth").parameters
    assert params.values() == {"sigma": 2.5, "passes": 1}
    write(4, default="4.0")
    registry.get("smooth").parameters.reset("sigma")
    assert registry.get("smooth").parameters["sigma"] == 4.0  # the file's new default
    registry.set_parameter("smooth", "sigma", 3.0)
    registry.set_parameter("smooth", "passes", 2)
    write(5, hint="str", default="'wide'")  # sigma changed type: its new default
    assert registry.get("smooth").parameters.values() == {"sigma": "wide", "passes": 2}


def test_the_time_per_frame_is_kept_with_when_it_ended():
    p = Processor(denoise)
    pipeline = ProcessorPipeline([p])
    before = time.perf_counter()
    for _ in range(5):
        pipeline.process(*_frame(), None)
    ends, ms = p.stats.timeline(before)
    assert len(ends) == len(ms) == 5
    assert (np.diff(ends) >= 0).all() and ends[0] >= before
    assert (ms >= 0).all()
    later, _ = p.stats.timeline(ends[-1] + 1)
    assert len(later) == 0


# ------------------------------------------------------------ the window


def _type_into(qtbot, form, name: str, text: str) -> None:
    """As a user: select the field's text, type, press Enter."""
    line = form.field(name).native
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def _finished(window) -> bool:
    return not window.controller.running and window.acquisition_panel.start_button.isEnabled()


def test_a_processor_with_parameters_gets_a_form(qtbot, window):
    panel = window.processors_panel
    assert panel.parameters_area.isHidden()  # no processor has any
    window.registry.register(denoise, source="test")
    qtbot.waitUntil(lambda: "denoise" in panel.forms)
    form = panel.forms["denoise"]
    assert form.title() == "denoise"
    assert form.field("sigma").value == "1.5"
    assert form.field("mode").value == "reflect"
    assert panel.parameters_area.isVisible()
    _type_into(qtbot, form, "sigma", "2.25")
    assert window.registry.get("denoise").parameters["sigma"] == 2.25
    # set from the console: the form follows on the panel's timer
    window.console.namespace["set_parameter"]("denoise", "mode", "nearest")
    assert window.registry.get("denoise").parameters["mode"] == "nearest"
    qtbot.waitUntil(lambda: form.field("mode").value == "nearest", timeout=3000)


def test_forms_made_while_shown_keep_their_height(qtbot, window):
    """Two processors with parameters registered one after the other (a script with
    two of them, a reload) once left the forms' area 2 px high: nothing to see."""
    panel = window.processors_panel
    window.docks["Processors"].raise_()

    def offset(image, metadata, amount: int = 0):
        return image, metadata

    window.registry.register(denoise, source="test")
    window.registry.register(offset, source="test")
    qtbot.waitUntil(lambda: set(panel.forms) == {"denoise", "offset"})
    qtbot.waitUntil(lambda: panel.parameters_area.height() >= 100, timeout=3000)
    window.registry.register(denoise, source="test")  # reloaded: the same forms
    window.registry.register(offset, name="offset", source="again")
    qtbot.wait(50)
    assert panel.parameters_area.height() >= 100


def test_every_kind_of_parameter_gets_a_field(qtbot):
    from app.ui.processors.parameter_form import ParameterForm

    def every(
        image,
        metadata,
        count: int = 1,
        scale=2.5,
        mode: Literal["x", "y"] = "x",
        edge: Edge = Edge.REFLECT,
        cutoff: float | None = None,
        gain: Annotated[float, {"min": 0, "max": 10, "widget_type": "FloatSlider"}] = 2.0,
        invert: bool = False,
        folder: Path = Path("."),
        label: str = "cells",
    ):
        return image, metadata

    params = ProcessorParameters.of(every)
    form = ParameterForm("every", params, params.set)
    qtbot.addWidget(form)
    kinds = {name: type(widget).__name__ for name, widget in form.widgets.items()}
    assert kinds == {
        "count": "LineEdit",
        "scale": "LineEdit",
        "mode": "ComboBox",
        "edge": "ComboBox",
        "cutoff": "LineEdit",
        "gain": "FloatSlider",
        "invert": "CheckBox",
        "folder": "FileEdit",
        "label": "LineEdit",
    }
    form.field("edge").value = Edge.WRAP  # as a user picks in the drop-down
    form.field("gain").value = 7.5
    form.field("invert").value = True
    form.field("mode").value = "y"
    assert params.values() == {
        "count": 1,
        "scale": 2.5,
        "mode": "y",
        "edge": Edge.WRAP,
        "cutoff": None,
        "gain": 7.5,
        "invert": True,
        "folder": Path("."),
        "label": "cells",
    }
    params.update({"count": 4, "edge": "REFLECT"})  # set elsewhere: the form follows
    form.sync()
    assert form.field("count").value == "4"
    assert form.field("edge").value is Edge.REFLECT


def test_a_bad_value_is_refused_with_a_message(qtbot, window):
    window.registry.register(add_offset, source="test")
    qtbot.waitUntil(lambda: "add_offset" in window.processors_panel.forms)
    form = window.processors_panel.forms["add_offset"]
    _type_into(qtbot, form, "offset", "abc")
    assert form.message.isVisible()
    assert form.message.text() == (
        "Refused: offset must be a whole number (int), not 'abc'. Kept 0."
    )
    assert form.field("offset").value == "0"  # the field shows the value in use
    assert window.registry.get("add_offset").parameters["offset"] == 0
    _type_into(qtbot, form, "offset", "12")
    assert not form.message.isVisible()
    assert window.registry.get("add_offset").parameters["offset"] == 12


def test_a_value_typed_during_live_changes_the_next_frame(qtbot, window):
    seen: list[int] = []

    def marked(image, metadata, offset: int = 0):
        seen.append(offset)
        image[0, :] = offset
        return image, metadata

    carried: list[dict] = []

    def after(image, metadata):  # the next processor sees what the frame carries
        carried.append(metadata.get(METADATA_KEY))
        return image, metadata

    window.registry.register(marked, source="test", live=True)
    window.registry.register(after, source="test", live=True)
    qtbot.waitUntil(lambda: "marked" in window.processors_panel.forms)
    window.microscope_panel.live_button.setChecked(True)
    try:
        qtbot.waitUntil(lambda: len(seen) >= 3 and window.viewer.image is not None, timeout=10000)
        assert (window.viewer.image[0] == 0).all()
        stats = window.registry.get("marked").stats
        frames_before = stats.frames_in
        _type_into(qtbot, window.processors_panel.forms["marked"], "offset", "77")
        qtbot.waitUntil(lambda: (window.viewer.image[0] == 77).all(), timeout=10000)
        # every frame that started after the change ran with it (the one running while
        # it was typed may have had either value)
        assert set(seen[frames_before + 1 :]) == {77}
        assert carried[0] == {"marked": {"offset": 0}}
        assert carried[-1] == {"marked": {"offset": 77}}
    finally:
        window.microscope_panel.live_button.setChecked(False)


def test_a_value_typed_during_an_acquisition_changes_the_images_saved_after_it(qtbot, window):
    window.registry.register(add_offset, source="test")
    qtbot.waitUntil(lambda: "add_offset" in window.processors_panel.forms)
    stats = window.registry.get("add_offset").stats
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(40)
    panel.interval.setValue(0.05)
    panel.name.setText("tuned")
    panel.start_button.click()
    qtbot.waitUntil(lambda: stats.frames_in >= 5, timeout=20000)
    _type_into(qtbot, window.processors_panel.forms["add_offset"], "offset", "500")
    qtbot.waitUntil(lambda: _finished(window), timeout=60000)
    dataset = open_dataset(window.controller.acquisition.dataset_path)
    offsets = []
    for t in range(40):
        image, metadata = dataset.read_image(time=t), dataset.read_metadata(time=t)
        offset = metadata[METADATA_KEY]["add_offset"]["offset"]
        assert (image[0] == offset).all()  # the pixels and the metadata agree
        offsets.append(offset)
    assert offsets[0] == 0 and offsets[-1] == 500
    switch = offsets.index(500)
    assert offsets[switch:] == [500] * (40 - switch)  # from the change on, every image


def test_the_values_survive_a_new_window(qtbot, core, tmp_path):
    settings_path = str(tmp_path / "settings.json")
    registry = ProcessorRegistry()
    registry.register(denoise, source="test")
    first = new_window(qtbot, core, settings_path, tmp_path, registry=registry)
    qtbot.waitUntil(lambda: "denoise" in first.processors_panel.forms)
    _type_into(qtbot, first.processors_panel.forms["denoise"], "sigma", "0.75")
    first.close()

    again = ProcessorRegistry()
    again.register(denoise, source="test")
    second = new_window(qtbot, core, settings_path, tmp_path, registry=again)
    qtbot.waitUntil(lambda: again.get("denoise").parameters["sigma"] == 0.75, timeout=5000)
    qtbot.waitUntil(
        lambda: second.processors_panel.forms["denoise"].field("sigma").value == "0.75",
        timeout=3000,
    )
    second.close()


def _time_plot_of(qtbot, window, *processors):
    """The processors panel and its time plot, shown, with a curve for each of
    ``processors`` (registered)."""
    for function in processors:
        window.registry.register(function, source="test")
    panel = window.processors_panel
    plot = panel.time_plot
    qtbot.waitUntil(lambda: set(plot.curves) == {f.__name__ for f in processors})
    window.docks["Processors"].raise_()  # the plot is drawn while it can be seen
    qtbot.waitUntil(plot.isVisible)
    return panel, plot


def test_the_time_plot_has_a_curve_per_processor_with_the_statistics(qtbot, window):
    def plain(image, metadata):
        return image, metadata

    panel, plot = _time_plot_of(qtbot, window, denoise, plain)
    pipeline = ProcessorPipeline(window.registry.for_acquisition())
    for _ in range(10):
        pipeline.process(*_frame(), None)
    panel.refresh_stats()
    for name in ("denoise", "plain"):
        x, y = plot.curves[name].xData, plot.curves[name].yData  # all of it, as drawn
        _ends, ms = window.registry.get(name).stats.timeline(time.perf_counter() - 30)
        assert np.allclose(y, ms) and len(y) == 10
        assert (x <= 0).all() and (x > -30).all()  # seconds before now
    # the row's colour is its curve's
    from app.ui.processors.processors_panel import NAME

    row = window.registry.names().index("plain")
    colour = panel.table.item(row, NAME).data(Qt.ItemDataRole.DecorationRole)
    assert colour == plot.curves["plain"].opts["pen"].color()
    window.registry.unregister("plain")
    qtbot.waitUntil(lambda: set(plot.curves) == {"denoise"})


def test_a_refresh_draws_and_counts_again_only_the_processors_that_took_frames(qtbot, window):
    """Most of a pipeline's processors are switched off: a refresh while acquiring
    leaves their empty curves and their rows as they are (each cost the GUI thread at
    every refresh), and still follows one that starts taking frames."""
    from app.ui.processors.processors_panel import FRAMES

    def plain(image, metadata):
        return image, metadata

    def idle(image, metadata):
        return image, metadata

    panel, plot = _time_plot_of(qtbot, window, plain, idle)
    window.registry.set_enabled("idle", False)
    pipeline = ProcessorPipeline(window.registry.for_acquisition())
    pipeline.process(*_frame(), None)
    panel.refresh_stats()  # the first refresh draws every curve
    drawn: list[str] = []
    for name, curve in plot.curves.items():
        curve.sigPlotChanged.connect(lambda _item, name=name: drawn.append(name))
    numbers: list[int] = []
    panel.table.itemChanged.connect(lambda item: numbers.append(item.row()))
    for _ in range(3):
        pipeline.process(*_frame(), None)
        panel.refresh_stats()
    assert drawn == ["plain"] * 3  # the idle processor's empty curve is left alone
    plain_row = window.registry.names().index("plain")
    assert numbers and set(numbers) == {plain_row}  # and its row
    assert panel.table.item(plain_row, FRAMES).text() == "4"
    header = panel.table.horizontalHeader()
    measured: list[int] = []  # a column sized to its contents, measured again
    header.setSectionResizeMode = lambda column, mode: measured.append(column)
    panel.refresh_stats()  # no frame since: nothing to show again, nothing measured
    assert measured == [] and "idle" not in drawn  # (the other curve moves with time)
    del header.setSectionResizeMode
    window.registry.set_enabled("idle", True)  # it starts taking frames: followed at once
    pipeline = ProcessorPipeline(window.registry.for_acquisition())
    pipeline.process(*_frame(), None)
    panel.refresh_stats()
    assert "idle" in drawn and len(plot.curves["idle"].yData) == 1
    idle_row = window.registry.names().index("idle")
    assert panel.table.item(idle_row, FRAMES).text() == "1"


def test_the_time_plots_axis_reaches_a_millisecond_and_grows_for_a_slow_processor(qtbot, window):
    """Processors under a millisecond leave the y axis at 1 ms (following their times
    re-scaled it, and laid the plot out again, as the first frames came); a slow one
    takes the top up. (The times are given: measured ones vary on a loaded machine.)"""
    from app.ui.processors.processor_times_plot import MIN_TOP_MS

    def plain(image, metadata):
        return image, metadata

    def slow(image, metadata):
        return image, metadata

    panel, plot = _time_plot_of(qtbot, window, plain, slow)
    for _ in range(5):
        window.registry.get("plain").stats.record(0.00002, 1)
    panel.refresh_stats()
    assert list(plot.curves["plain"].yData) == [0.02] * 5  # ms
    assert plot.getViewBox().viewRange()[1][1] == MIN_TOP_MS
    for _ in range(5):
        window.registry.get("slow").stats.record(0.004, 1)
    panel.refresh_stats()
    assert plot.getViewBox().viewRange()[1][1] == 5.0  # 4 ms, with room


def test_the_time_plot_draws_thousands_of_frames_as_each_bins_lowest_and_highest():
    from app.ui.processors.processor_times_plot import peak_envelope

    x = np.linspace(-30, 0, 2048, endpoint=False)
    y = np.full(2048, 2.0)
    y[1000] = 250.0  # one slow frame
    y[1500] = 0.5  # one quick one
    ex, ey = peak_envelope(x, y, -30.0, 0.0, bins=300)
    assert len(ex) == len(ey) == 600  # two points a bin: its lowest, its highest
    assert ey.max() == 250.0 and ey.min() == 0.5  # neither is averaged away
    slow_at = ex[np.argmax(ey)]
    assert abs(slow_at - x[1000]) <= 30 / 300  # where it was, to a bin
    few_x, few_y = peak_envelope(x[:10], y[:10], -30.0, 0.0, bins=300)
    assert np.array_equal(few_x, x[:10])
    assert np.array_equal(few_y, y[:10])


def test_the_time_plots_axes_drawn_from_their_cache_follow_a_new_range(qtbot):
    """The axes (and their grid) are drawn from a pixmap kept between refreshes: when a
    slow processor moves the top of the plot, they show the new range exactly as axes
    drawn afresh do."""
    from PyQt6.QtWidgets import QGraphicsItem

    from app.ui.processors.processor_times_plot import ProcessorTimesPlot

    def shown(cached: bool):
        plot = ProcessorTimesPlot()
        qtbot.addWidget(plot)
        if not cached:
            for side in ("left", "bottom"):
                plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.NoCache)
        plot.resize(360, 150)
        plot.show()
        plot.set_processors(["slow"])
        x = np.linspace(-29, -1, 50)
        plot.curves["slow"].setData(x, np.full(50, 0.6))
        plot.grab()  # drawn once at the first range: the cache is made
        plot.curves["slow"].setData(x, np.full(50, 40.0))
        plot.setYRange(0, 50, padding=0)  # as ``refresh`` moves it
        qtbot.wait(50)
        return plot.grab().toImage()

    assert shown(cached=True) == shown(cached=False)


def test_a_processors_numbers_are_read_together():
    """The table shows frames, mean and p99 from one reading (a frame recorded between
    two of them would leave a count beside another count's mean until the next frame)."""
    from app.processing.stats import ProcessorStats

    stats = ProcessorStats()
    assert stats.numbers() == (0, 0, 0.0, 0.0)
    for seconds in (0.001, 0.003, 0.002):
        stats.record(seconds, 1)
    stats.record_error(0.010, "boom", "Traceback")
    frames, errors, mean_ms, p99_ms = stats.numbers()
    assert (frames, errors) == (4, 1)
    assert mean_ms == pytest.approx(4.0) == stats.mean_ms
    assert p99_ms == pytest.approx(10.0) == stats.p99_ms
