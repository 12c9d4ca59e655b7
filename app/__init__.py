"""Scopeflow: microscope acquisition with Python image processors in the stream of frames.

The scripting API follows pycro-manager's; a pycro-manager script runs after
changing ``from pycromanager import ...`` to ``from app import ...``.
"""

from app.acquisition import (
    AcqAlreadyCompleteException,
    AcqNotification,
    Acquisition,
    AcquisitionEndedError,
    AcquisitionFuture,
    CamerasDifferError,
    ImageNotSavedError,
    InvalidEventError,
    MilestoneUnreachableError,
    TileLayout,
    TilingError,
    XYTiledAcquisition,
    multi_d_acquisition_events,
)
from app.microscope import (
    Core,
    MicroscopeConfigError,
    SimulatedCameraSettings,
    current_core,
    load_microscope,
    set_current_core,
    start_headless,
    stop_headless,
)
from app.preferences import data_folder
from app.processing import (
    ErrorPolicy,
    ParameterError,
    Processor,
    ProcessorRegistry,
    on_dask,
    show_image,
    show_plot,
    z_stack,
)
from app.scripting import processor, register, set_parameter, unregister
from app.storage import (
    DiskFullError,
    ImageSink,
    RAMDataset,
    StorageFullError,
    open_dataset,
    prepare_memory,
)

#: pycro-manager's earlier name for opening a saved dataset
Dataset = open_dataset

__version__ = "0.1.0"

__all__ = [
    "AcqAlreadyCompleteException",
    "AcqNotification",
    "Acquisition",
    "AcquisitionEndedError",
    "AcquisitionFuture",
    "CamerasDifferError",
    "Core",
    "Dataset",
    "DiskFullError",
    "ErrorPolicy",
    "ImageNotSavedError",
    "ImageSink",
    "InvalidEventError",
    "MicroscopeConfigError",
    "MilestoneUnreachableError",
    "ParameterError",
    "Processor",
    "ProcessorRegistry",
    "RAMDataset",
    "SimulatedCameraSettings",
    "StorageFullError",
    "TileLayout",
    "TilingError",
    "XYTiledAcquisition",
    "current_core",
    "data_folder",
    "load_microscope",
    "multi_d_acquisition_events",
    "on_dask",
    "open_dataset",
    "prepare_memory",
    "processor",
    "register",
    "set_current_core",
    "set_parameter",
    "show_image",
    "show_plot",
    "start_headless",
    "stop_headless",
    "unregister",
    "z_stack",
]
