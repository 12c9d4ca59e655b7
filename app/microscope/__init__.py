"""The microscope: loading a Micro-Manager configuration or the simulated microscope."""

from app.microscope.loading import (
    MicroscopeConfigError,
    load_microscope,
    release_microscope,
)
from app.microscope.simulated import SimulatedCameraSettings, configure_simulated_camera

__all__ = [
    "MicroscopeConfigError",
    "SimulatedCameraSettings",
    "configure_simulated_camera",
    "load_microscope",
    "release_microscope",
]

from app.microscope.session import current_core, set_current_core

__all__ += ["current_core", "set_current_core"]
