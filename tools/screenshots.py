"""Screenshots of the main window's states, for looking at and for the README.

Run under a display (Xvfb on a server): ``python tools/screenshots.py OUTDIR``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("SCOPEFLOW_NO_DIALOGS", "1")

from app.microscope import load_microscope
from app.processing.registry import ProcessorRegistry
from app.processing.views import show_image
from app.settings_store import SettingsStore


def threshold_view(image, metadata):
    show_image("threshold", (image > image.mean() + 2 * image.std()).astype(np.uint8) * 255)
    return image, metadata


def broken_focus_metric(image, metadata):
    raise ValueError("focus metric: image too dark to measure")


class _Hover:
    """The mouse resting over a tile of the Explore map (a screenshot has no mouse)."""

    def __init__(self, layout, row, column):
        step_y, step_x = layout.step
        self._point = ((column + 0.5) * step_x, (row + 0.5) * step_y)

    def isExit(self):
        return False

    def pos(self):
        from PyQt6.QtCore import QPointF

        return QPointF(*self._point)


def main(outdir: str) -> None:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from app.appstate import AppState
    from app.ui.shell.main_window import MainWindow

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    core = load_microscope()
    app = QApplication(sys.argv)
    registry = ProcessorRegistry()
    registry.register(threshold_view, source="console")
    settings = SettingsStore(str(out / "settings.json"))
    scripts = out / "scripts"
    shutil.rmtree(scripts, ignore_errors=True)
    shutil.copytree(Path(__file__).resolve().parent.parent / "scripts", scripts)
    (scripts / "threshold_mask.py").write_text(
        "from app import processor\n\n@processor\ndef threshold_mask(image, metadata)\n"
        "    return image > 100, metadata\n",
        encoding="utf-8",
    )
    window = MainWindow(AppState(core, registry), settings, scripts_folder=scripts)
    window.acquisition_panel.data_directory = str(out / "data")
    window.resize(1400, 900)
    window.show()

    steps = []

    def step(delay_ms, action):
        steps.append((delay_ms, action))

    def shot(name):
        return lambda: window.grab().save(str(out / f"{name}.png"))

    def start_acquisition():
        window.registry.set_enabled("subtract_background", True)
        panel = window.acquisition_panel
        panel.time_box.setChecked(True)
        panel.time_points.setValue(200)
        panel.interval.setValue(0.05)
        panel.channel_box.setChecked(True)
        panel.set_channel("FITC", True, 20)
        window.docks["Acquisition"].raise_()
        panel.start_button.click()

    def add_broken():
        registry.register(broken_focus_metric, source="scripts/focus.py")
        window.acquisition_panel.time_points.setValue(5)
        window.acquisition_panel.start_button.click()

    def select_broken():
        window.processors_panel.table.selectRow(
            window.registry.names().index("broken_focus_metric")
        )

    step(500, window.camera.snap)
    step(800, shot("idle"))

    def console_demo():
        dock = window.docks["Console"]
        dock.raise_()
        dock.setFloating(True)
        dock.resize(1000, 520)

    def type_in_console(code):
        return lambda: window.console.execute(code)

    def scripts_demo():
        window.docks["Scripts"].raise_()
        window.scripts_panel.select("threshold_mask.py")

    step(600, console_demo)
    step(500, type_in_console("processors.set_enabled('focus_score', True)"))
    step(500, type_in_console("processors"))
    step(
        500,
        type_in_console(
            "@processor('edges', position=0)\n"
            "def edges(image, metadata):\n"
            "    wide = image.astype(np.float32)\n"
            "    metadata['EdgeStrength'] = float(np.abs(np.diff(wide, axis=1)).mean())\n"
            "    return image, metadata\n"
        ),
    )
    step(500, type_in_console("core.getProperty('Camera', 'Mode'), core.getImageWidth()"))
    step(800, lambda: window.console.grab().save(str(out / "console.png")))
    step(100, lambda: window.docks["Console"].setFloating(False))
    step(100, scripts_demo)
    step(600, shot("scripts"))
    step(100, lambda: window.docks["Processors"].raise_())
    step(100, lambda: window.microscope_panel.live_button.setChecked(True))
    step(1500, shot("live"))
    step(100, lambda: window.microscope_panel.live_button.setChecked(False))
    step(200, start_acquisition)
    step(2500, shot("acquiring"))
    step(100, window.controller.abort)
    step(1500, add_broken)
    step(2000, select_broken)
    step(800, shot("error"))

    def in_memory_plan():
        registry.unregister("broken_focus_metric")
        panel = window.acquisition_panel
        panel.save_box.setChecked(False)
        panel.time_points.setValue(8)
        window.docks["Acquisition"].raise_()

    step(100, in_memory_plan)
    # the estimate against what an acquisition kept in memory may take
    step(1200, shot("in-memory-plan"))
    step(100, window.acquisition_panel.start_button.click)
    step(3000, shot("in-memory"))

    def explore_demo():
        explore = window.explore.start()
        explore.resize(1100, 800)
        step_y, step_x = explore.exploration.layout.step
        explore.ask_tiles(0, 0, 2.5 * step_y, 3.5 * step_x)  # a drag over 3 x 4 tiles
        explore.ask_tiles(3.5 * step_y, 1.5 * step_x, 3.5 * step_y, 1.5 * step_x)  # a click

    def explore_shot(name):
        def take():
            explore = window.explore.window
            explore.picker.hoverEvent(_Hover(explore.exploration.layout, 3, 2))
            explore.grab().save(str(out / f"{name}.png"))

        return take

    step(500, explore_demo)
    step(600, explore_shot("explore-acquiring"))
    step(8000, lambda: window.explore.window.map_view.fit())
    step(1500, explore_shot("explore"))
    step(100, lambda: window.explore.close())
    step(500, app.quit)

    elapsed = 0
    for delay, action in steps:
        elapsed += delay
        QTimer.singleShot(elapsed, action)
    app.exec()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
