"""The console and the scripts folder inside the app, driven as a user drives them."""

from __future__ import annotations

import asyncio
import inspect
import textwrap

import numpy as np
import psutil
from PyQt6.QtCore import Qt

from app import open_dataset


def _run_in_console(qtbot, window, code: str, done: str, timeout: int = 30000) -> None:
    """Type ``code`` into the console; wait until the name ``done`` exists there."""
    window.console.execute(textwrap.dedent(code) + f"\n{done} = True\n")
    qtbot.waitUntil(lambda: window.console.namespace.get(done) is True, timeout=timeout)


def test_console_namespace_and_banner(window, core):
    namespace = window.console.namespace
    for name in (
        "core",
        "mmc",
        "window",
        "viewer",
        "Acquisition",
        "multi_d_acquisition_events",
        "np",
        "processors",
        "processor",
        "register",
        "unregister",
        "set_parameter",
        "show_image",
    ):
        assert name in namespace, name
        assert name in window.console.banner or name in ("mmc",), name
    assert namespace["core"] is core
    assert namespace["processors"] is window.registry


def test_a_closed_console_hears_nothing_more_from_its_kernel(qtbot, window):
    """The kernel's answers come through its IOPub thread and a zero-delay timer, so
    one can arrive after the window closed and its console's widgets were deleted (a
    window closed as soon as made, in ``bench gui``): it raised "wrapped C/C++ object
    of type QTextEdit has been deleted". Once shut down, the console listens to none of
    its old client's channels."""
    console = window.console
    client = console.kernel_client
    channels = (client.shell_channel, client.iopub_channel, client.stdin_channel)
    assert all(c.receivers(c.message_received) for c in channels)
    console.shutdown()
    assert not any(c.receivers(c.message_received) for c in channels)


def test_console_opens_no_network_port(window):
    assert psutil.Process().net_connections(kind="inet") == []


def test_processor_defined_in_the_console_appears_and_applies(qtbot, window):
    _run_in_console(
        qtbot,
        window,
        """
        @processor("from_console")
        def from_console(image, metadata):
            image[:3, :3] = 3333
            return image, metadata
        """,
        "defined",
    )
    assert window.registry.names() == ["from_console"]
    qtbot.waitUntil(lambda: window.processors_panel.table.rowCount() == 1, timeout=3000)
    assert "from_console" in window.processors_panel.table.item(0, 2).text()
    window.acquisition_panel.start_button.click()
    qtbot.waitUntil(
        lambda: not window.controller.running and window.controller.acquisition is not None,
        timeout=30000,
    )
    image = open_dataset(window.controller.acquisition.dataset_path).read_image(time=0)
    assert (image[:3, :3] == 3333).all()


def test_acquisition_from_the_console_shows_in_the_viewer(qtbot, window, tmp_path):
    shown_before = window.display.displayed
    _run_in_console(
        qtbot,
        window,
        f"""
        with Acquisition(directory={str(tmp_path)!r}, name="console") as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=40, time_interval_s=0.02))
        """,
        "finished",
    )
    acq = window.console.namespace["acq"]
    assert acq.counts.saved == 40
    assert window.display.displayed - shown_before >= 5  # the window kept drawing during the block


def test_a_console_acquisition_kept_in_memory_uses_the_panels_memory_then_it_is_made_again(
    qtbot, window
):
    """The window's request for its plan's memory is the process's: an acquisition from
    the console uses it up, and the window asks again for its own Start (#21)."""
    from app.storage.warm_memory import WarmMemory, set_warm_memory

    memory = WarmMemory(block_bytes=1024**2, retained_bytes=0)
    set_warm_memory(memory)
    try:
        panel = window.acquisition_panel
        panel.save_box.setChecked(False)
        qtbot.waitUntil(lambda: memory.ready_bytes > 0, timeout=5000)
        asked = memory.ready_bytes
        _run_in_console(
            qtbot,
            window,
            """
            with Acquisition(name="console") as acq:
                acq.acquire(multi_d_acquisition_events(num_time_points=3))
            """,
            "finished",
        )
        assert window.console.namespace["acq"].counts.saved == 3
        assert memory.cold_blocks == 0  # it used the memory made ready
        qtbot.waitUntil(lambda: memory.ready_bytes == asked, timeout=5000)  # asked again
        assert memory.wait_ready(10.0)
    finally:
        memory.make_ready(0)
        set_warm_memory(None)


def test_hot_reload_in_the_app(qtbot, window):
    script = window.scripts.path / "brighten.py"
    script.write_text(
        "from app import processor\n\n@processor\ndef brighten(image, metadata):\n"
        "    return image, metadata\n",
        encoding="utf-8",
    )
    qtbot.waitUntil(lambda: "brighten" in window.registry, timeout=3000)
    qtbot.waitUntil(lambda: window.scripts_panel.table.rowCount() == 1, timeout=15000)
    assert window.scripts_panel.table.item(0, 1).text().startswith("loaded ")
    script.write_text(
        "from app import processor\n\n@processor\ndef brighten(image, metadata)\n", encoding="utf-8"
    )
    qtbot.waitUntil(lambda: "error" in window.scripts_panel.table.item(0, 1).text(), timeout=3000)
    window.scripts_panel.table.selectRow(0)
    assert "brighten.py, line 4" in window.scripts_panel.details.toPlainText()
    assert "brighten" in window.registry  # the last working version stays
    row = window.registry.names().index("brighten")
    # the sign is on its source (the file did not load), not its name (no frame error)
    assert "⚠" in window.processors_panel.table.item(row, 3).text()
    assert "⚠" not in window.processors_panel.table.item(row, 2).text()
    assert "could not be loaded" in window.processors_panel.table.item(row, 3).toolTip()
    script.unlink()
    qtbot.waitUntil(lambda: "brighten" not in window.registry, timeout=3000)


def test_run_button_executes_a_script_in_the_console_namespace(qtbot, window):
    script = window.scripts.path / "acquire_three.py"
    script.write_text(
        textwrap.dedent(
            """
            from app import Acquisition, multi_d_acquisition_events

            if __name__ == "__main__":
                with Acquisition(show_display=True) as acq:
                    acq.acquire(multi_d_acquisition_events(num_time_points=3))
                result = acq.counts.acquired
            """
        ),
        encoding="utf-8",
    )
    qtbot.waitUntil(lambda: window.scripts_panel.table.rowCount() == 1, timeout=15000)
    assert (
        window.scripts_panel.table.item(0, 1).text().startswith("script ")
    )  # no processor: on demand
    window.scripts_panel.table.selectRow(0)
    qtbot.mouseClick(window.scripts_panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.console.namespace.get("result") == 3, timeout=30000)


def test_process_dataset_from_the_window(qtbot, window, core, tmp_path):
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(tmp_path, "raw") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))

    def double(image, metadata):
        image[:] = np.clip(image.astype(np.uint32) * 2, 0, 65535).astype(np.uint16)
        return image, metadata

    window.registry.register(double, "double", source="test")
    out = window.replay.process_dataset(acq.dataset_path)
    assert out is not None and out.endswith("raw_1_processed_1")
    raw, processed = open_dataset(acq.dataset_path), open_dataset(out)
    assert sorted(raw.axes.get("time", [])) == [0, 1], acq.status
    assert sorted(processed.axes["time"]) == [0, 1]
    assert np.array_equal(
        processed.read_image(time=1), raw.read_image(time=1).astype(np.uint32).clip(0, 32767) * 2
    )


def test_matplotlib_inline_and_completion_in_the_console(qtbot, window):
    _run_in_console(
        qtbot,
        window,
        """
        %matplotlib inline
        import matplotlib.pyplot as plt
        figure = plt.figure()
        plt.plot([1, 3, 2])
        plt.show()
        """,
        "plotted",
    )
    assert window.console.namespace["figure"] is not None
    reply = window.console.kernel_manager.kernel.do_complete("multi_d", 7)  # what Tab asks
    if inspect.isawaitable(reply):
        reply = asyncio.new_event_loop().run_until_complete(reply)
    assert "multi_d_acquisition_events" in reply["matches"]


def test_the_viewer_follows_an_acquisition_started_from_a_script(qtbot, window, tmp_path):
    from app import Acquisition, multi_d_acquisition_events

    acq = Acquisition(directory=tmp_path, name="from_script")  # as a script would
    acq.acquire(multi_d_acquisition_events(num_time_points=6, time_interval_s=0.05))
    acq.mark_finished()
    qtbot.waitUntil(lambda: "from_script" in window.viewer.title.text(), timeout=10000)
    assert str(acq.dataset_path) in window.viewer.title.text()
    acq.await_completion(timeout=30)
    qtbot.waitUntil(
        lambda: (
            "time" in window.sliders.current_axes()  # its slider is made (else KeyError)
            and window.sliders.slider("time").maximum() == 5
        ),
        timeout=10000,
    )
    window.microscope_panel.snap_button.click()
    assert window.viewer.title.text() == "Snap (not saved)"


def test_the_console_opens_tall_enough_to_use(qtbot, window):
    window.docks["Console"].raise_()
    qtbot.wait(50)
    line = window.console.fontMetrics().lineSpacing()
    assert window.console.height() >= 10 * line
