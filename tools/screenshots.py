"""Screenshots of the main window's states, for looking at and for the README.

Run under a display (Xvfb on a server): ``python tools/screenshots.py OUTDIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("SCOPEFLOW_NO_DIALOGS", "1")

from app.microscope import load_microscope  # noqa: E402  (pymmcore before Qt)
from app.processing.registry import ProcessorRegistry  # noqa: E402
from app.processing.views import show_image  # noqa: E402


def subtract_background(image, metadata):
    """Running background estimate, subtracted (a microscopist's everyday processor)."""
    background = getattr(subtract_background, "background", None)
    frame = image.astype(np.float32)
    background = frame if background is None else 0.95 * background + 0.05 * frame
    subtract_background.background = background
    image[:] = np.clip(frame - 0.5 * background, 0, 65535).astype(image.dtype)
    return image, metadata


def threshold_view(image, metadata):
    show_image("threshold", (image > image.mean() + 2 * image.std()).astype(np.uint8) * 255)
    return image, metadata


def broken_focus_metric(image, metadata):
    raise ValueError("focus metric: image too dark to measure")


def main(outdir: str) -> None:
    from PyQt6.QtCore import QSettings, QTimer
    from PyQt6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    core = load_microscope()
    app = QApplication(sys.argv)
    registry = ProcessorRegistry()
    registry.register(subtract_background, source="scripts/background.py")
    registry.register(threshold_view, source="console")
    settings = QSettings(str(out / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(core, registry, settings)
    window.acquisition_panel.directory.setText(str(out / "data"))
    window.resize(1400, 900)
    window.show()

    steps = []

    def step(delay_ms, action):
        steps.append((delay_ms, action))

    def shot(name):
        return lambda: window.grab().save(str(out / f"{name}.png"))

    def start_acquisition():
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
        window.processors_panel.table.selectRow(2)

    step(500, window.snap)
    step(800, shot("idle"))
    step(100, lambda: window.microscope_panel.live_button.setChecked(True))
    step(1500, shot("live"))
    step(100, lambda: window.microscope_panel.live_button.setChecked(False))
    step(200, start_acquisition)
    step(2500, shot("acquiring"))
    step(100, window.controller.abort)
    step(1500, add_broken)
    step(2000, select_broken)
    step(800, shot("error"))
    step(100, app.quit)

    elapsed = 0
    for delay, action in steps:
        elapsed += delay
        QTimer.singleShot(elapsed, action)
    app.exec()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
