"""Process dataset…: the replay on a worker thread, with a progress dialog."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtWidgets import QWidget

from app.processing.pipeline import Processor
from app.processing.registry import ProcessorRegistry
from app.processing.replay import process_dataset
from app.ui.common.file_dialogs import FileDialogs
from app.ui.common.progress_task import TaskResult, run_with_progress
from app.ui.common.seams import Messages

logger = logging.getLogger(__name__)


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


class DatasetReplay:
    """File > Process dataset…: the processors enabled for acquisitions replayed over a
    dataset on disk; the result is opened with ``open_dataset``."""

    def __init__(
        self,
        parent: QWidget,
        registry: ProcessorRegistry,
        dialogs: FileDialogs,
        messages: Messages,
        open_dataset: Callable[[str], None],
    ) -> None:
        self.parent = parent
        self.registry = registry
        self.dialogs = dialogs
        self.messages = messages
        self.open_dataset = open_dataset

    def choose_dataset_to_process(self) -> None:
        folder = self.dialogs.folder_to_open("Process a dataset with the enabled processors")
        if folder:
            self.process_dataset(folder)

    def process_dataset(self, folder: str) -> str | None:
        """Replay the enabled processors over a dataset into ``<name>_processed_N``."""
        result = run_replay(self.parent, folder, self.registry.for_acquisition())
        if result.error:
            self.messages.show_error_message(f"Processing {folder} failed: {result.error}")
            return None
        logger.info("Processed %s into %s", folder, result.value)
        self.messages.show_status(f"Processed dataset written to {result.value}")
        if result.value:
            self.open_dataset(result.value)
        return result.value
