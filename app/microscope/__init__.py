"""The microscope: loading a Micro-Manager configuration or the simulated microscope."""

from app.microscope.headless import start_headless, stop_headless
from app.microscope.loading import (
    MicroscopeConfigError,
    load_microscope,
    release_microscope,
)
from app.microscope.session import current_core, set_current_core
from app.microscope.simulated import SimulatedCameraSettings, configure_simulated_camera
from app.microscope.snake_case_core import Core

__all__ = [
    "Core",
    "MicroscopeConfigError",
    "SimulatedCameraSettings",
    "configure_simulated_camera",
    "current_core",
    "load_microscope",
    "release_microscope",
    "set_current_core",
    "start_headless",
    "stop_headless",
]
