"""Process dataset…: the replay on a worker thread, with a progress dialog."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QWidget

from app.processing.pipeline import Processor
from app.processing.replay import process_dataset
from app.ui.common.progress_task import TaskResult, run_with_progress


def run_replay(parent: QWidget, source: str, processors: list[Processor]) -> TaskResult:
    """Replay ``processors`` over ``source`` into ``<name>_processed_N`` beside it; the
    result's ``value`` is the new dataset's folder."""
    folder = Path(source)

    def work(on_progress, should_stop) -> str:
        return str(
            process_dataset(
                folder,
                processors,
                folder.parent,
                f"{folder.name}_processed",
                on_progress=on_progress,
                should_stop=should_stop,
            )
        )

    return run_with_progress(parent, "Process dataset", f"Processing {source}…", work)
