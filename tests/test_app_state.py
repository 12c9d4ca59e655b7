"""One explicit application state: what the scripting API's ambient calls reach."""

from __future__ import annotations

import numpy as np

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
