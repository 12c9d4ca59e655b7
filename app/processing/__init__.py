"""Image processors: checking their signatures, running them in order, measuring them."""

from app.processing.errors import ErrorPolicy
from app.processing.pipeline import Processor, ProcessorPipeline
from app.processing.registry import ProcessorRegistry
from app.processing.signature import callable_arity, describe_callable
from app.processing.stats import ProcessorStats
from app.processing.views import ImageViews, current_views, show_image, show_plot

__all__ = [
    "ErrorPolicy",
    "ImageViews",
    "Processor",
    "ProcessorPipeline",
    "ProcessorRegistry",
    "ProcessorStats",
    "callable_arity",
    "current_views",
    "describe_callable",
    "show_image",
    "show_plot",
]
