"""Events, the engine, Acquisition, hooks, notifications, futures."""

from app.acquisition.acquisition import AcqAlreadyCompleteException, Acquisition
from app.acquisition.cameras import CamerasDifferError
from app.acquisition.events import InvalidEventError
from app.acquisition.futures import (
    AcquisitionEndedError,
    AcquisitionFuture,
    ImageNotSavedError,
    MilestoneUnreachableError,
)
from app.acquisition.multi_d import multi_d_acquisition_events
from app.acquisition.notifications import AcqNotification
from app.acquisition.tiled_acquisition import XYTiledAcquisition
from app.acquisition.tiles import TileLayout, TilingError

__all__ = [
    "AcqAlreadyCompleteException",
    "AcqNotification",
    "Acquisition",
    "AcquisitionEndedError",
    "AcquisitionFuture",
    "CamerasDifferError",
    "ImageNotSavedError",
    "InvalidEventError",
    "MilestoneUnreachableError",
    "TileLayout",
    "TilingError",
    "XYTiledAcquisition",
    "multi_d_acquisition_events",
]
