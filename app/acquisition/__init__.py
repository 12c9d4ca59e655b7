"""Events, the engine, Acquisition, hooks, notifications, futures."""

from app.acquisition.acquisition import Acquisition
from app.acquisition.events import InvalidEventError
from app.acquisition.futures import AcquisitionEndedError, AcquisitionFuture
from app.acquisition.multi_d import multi_d_acquisition_events
from app.acquisition.notifications import AcqNotification

__all__ = [
    "AcqNotification",
    "Acquisition",
    "AcquisitionEndedError",
    "AcquisitionFuture",
    "InvalidEventError",
    "multi_d_acquisition_events",
]
