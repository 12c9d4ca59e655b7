"""Image processors: checking their signatures, running them in order, measuring them."""

from app.processing.errors import ErrorPolicy
from app.processing.pipeline import Processor, ProcessorPipeline
from app.processing.signature import callable_arity, describe_callable
from app.processing.stats import ProcessorStats

__all__ = [
    "ErrorPolicy",
    "Processor",
    "ProcessorPipeline",
    "ProcessorStats",
    "callable_arity",
    "describe_callable",
]
