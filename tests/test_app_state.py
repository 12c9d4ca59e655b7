"""One explicit application state: what the scripting API's ambient calls reach."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from app import Acquisition, Core, processor, show_image
from app.acquisition import active
from app.appstate import AppState
from app.processing.registry import ProcessorRegistry
from app.processing.views import current_views
from app.scripting.decorator import current_registry


def test_installing_a_state_routes_the_scripting_api_to_it(core):
    before = (current_registry(), current_views(), active.current_shown())
    state = AppState(core, ProcessorRegistry())
    state.install()
    try:

        @processor("through_the_state")
        def through(image, metadata):
            return image, metadata

        assert "through_the_state" in state.registry
        show_image("a view", np.zeros((4, 4), np.uint8))
        assert state.views.latest("a view").shape == (4, 4)
        with Acquisition() as acq:
            acq.acquire({"axes": {"time": 0}})
            assert state.shown.newest() is acq
        assert acq.core is state.core is Core().core
        state.shown.set_viewer_provider(lambda acquisition: "the window's viewer")
        assert acq.get_viewer() == "the window's viewer"
        state.uninstall()
        assert acq.get_viewer() is None
    finally:
        AppState(core, before[0], before[1], before[2]).install()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread priorities read on Linux")
def test_closing_one_of_two_windows_leaves_the_other_its_waits_and_yielding_workers(
    qtbot, core, tmp_path
):
    from app.acquisition.priority import lower_worker_priority
    from app.acquisition.waiting import wait_for
    from tests.windows import new_window

    def worker_priority() -> int:
        seen = []

        def worker() -> None:
            lower_worker_priority()  # what an acquisition's worker does first
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        return seen[0]

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    first = new_window(qtbot, core, tmp_path / "first.json")
    second = new_window(qtbot, core, tmp_path / "second.json")
    waited = []
    first.state.wait = lambda event, timeout: waited.append("first") or event.wait(timeout)
    first.state.install()  # the newest again, with its wait
    second.state.install()
    second.close()  # the newest closes: the first window's state is the API's again
    assert worker_priority() > mine
    wait_for(threading.Event(), 0)
    assert waited == ["first"]
    first.close()  # the last one: headless again
    assert worker_priority() == mine
    wait_for(threading.Event(), 0)
    assert waited == ["first"]
