"""The embedded IPython console: qtconsole on an in-process kernel (no network port)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from qtconsole.inprocess import QtInProcessKernelManager
from qtconsole.rich_jupyter_widget import RichJupyterWidget


class ConsoleWidget(RichJupyterWidget):
    """An IPython console whose namespace is the app's. Code runs on the GUI thread."""

    def __init__(self, namespace: dict[str, Any], banner: str) -> None:
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger warnings
        super().__init__()
        self.banner = banner  # before the kernel connects, so it is the one shown
        self.kernel_banner = ""
        self.kernel_manager = QtInProcessKernelManager()
        self.kernel_manager.start_kernel(show_banner=False)
        self.kernel_manager.kernel.gui = "qt"
        self.kernel_client = self.kernel_manager.client()
        self.kernel_client.start_channels()
        self.shell.push(namespace)

    @property
    def shell(self):
        return self.kernel_manager.kernel.shell

    @property
    def namespace(self) -> dict[str, Any]:
        return self.shell.user_ns

    def set_core(self, core: Any) -> None:
        """``core`` and ``mmc`` name the new microscope (a configuration was loaded)."""
        self.shell.push({"core": core, "mmc": core})

    def run_file(self, path: str) -> None:
        """Run a script in the console's namespace, as ``__main__``: its variables stay."""
        self.execute(f"%run -i {_quote(path)}", hidden=False)

    def shutdown(self) -> None:
        if self.kernel_client is None:
            return  # shut down already
        # IPython's shell is one for the process (the next console gets it again): what
        # this window put in its namespace, and its outputs, must not keep it alive
        self.shell.reset(new_session=False)
        self.kernel_client.stop_channels()
        # the kernel's replies travel on a zero-delay timer: one still on its way must
        # find no handler here (it drew a prompt into a deleted text box and raised,
        # when a window closed right after the console ran something); qtconsole's own
        # setter disconnects the old client's channels
        self.kernel_client = None
        _stop_iopub_thread(self.kernel_manager.kernel)
        self.kernel_manager.shutdown_kernel()


def _stop_iopub_thread(kernel: Any) -> None:
    """Stop ipykernel's IOPub thread with its pending tasks cancelled on its own loop.

    ipykernel 7 cancels its housekeeping task only after the loop stopped, so the task
    is left pending and asyncio prints "Task was destroyed but it is pending!" at exit.
    The thread is being stopped, so every task of its loop can go.
    """
    thread = getattr(kernel, "iopub_thread", None)
    if thread is None or not thread.thread.is_alive():
        return
    done = threading.Event()

    def cancel_pending() -> None:  # runs on the IOPub thread's loop
        for task in asyncio.all_tasks():
            task.cancel()
        done.set()

    thread.io_loop.add_callback(cancel_pending)
    done.wait(1.0)
    time.sleep(0.01)  # let the loop process the cancellation
    thread.stop()


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "/").replace('"', '\\"') + '"'
