"""Image processors: checking their signatures, running them in order, measuring them."""

from app.processing.dask_processor import DaskCluster, on_dask
from app.processing.errors import ErrorPolicy
from app.processing.parameters import ParameterError, ProcessorParameters
from app.processing.pipeline import Processor, ProcessorPipeline
from app.processing.registry import ProcessorRegistry
from app.processing.signature import callable_arity, describe_callable
from app.processing.stats import ProcessorStats
from app.processing.views import ImageViews, current_views, show_image, show_plot
from app.processing.z_stack import ZStack, z_stack

__all__ = [
    "DaskCluster",
    "ErrorPolicy",
    "ImageViews",
    "ParameterError",
    "Processor",
    "ProcessorParameters",
    "ProcessorPipeline",
    "ProcessorRegistry",
    "ProcessorStats",
    "ZStack",
    "callable_arity",
    "current_views",
    "describe_callable",
    "on_dask",
    "show_image",
    "show_plot",
    "z_stack",
]
