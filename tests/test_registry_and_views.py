import numpy as np
import pytest

from app import Acquisition, ProcessorRegistry, open_dataset
from app.processing.views import ImageViews


def _double(image, metadata):
    image[:] = image * 2
    return image, metadata


def _plus_one(image, metadata):
    image[:] = image + 1
    return image, metadata


def test_register_replace_keeps_place_and_switches():
    registry = ProcessorRegistry()
    changes = []
    registry.changed.connect(lambda: changes.append(1))
    registry.register(_double, "a")
    registry.register(_plus_one, "b")
    registry.set_enabled("a", False)
    registry.set_live("a", True)
    registry.register(_plus_one, "a")  # a new version of "a"
    assert registry.names() == ["a", "b"]
    assert registry.get("a").fn is _plus_one
    assert registry.get("a").enabled is False and registry.get("a").live is True
    registry.move("b", 0)
    assert registry.names() == ["b", "a"]
    registry.unregister("b")
    assert registry.names() == ["a"]
    assert len(changes) == 7
    with pytest.raises(KeyError, match="No processor named 'zzz'"):
        registry.get("zzz")


def test_register_checks_arity():
    with pytest.raises(TypeError, match="image processor"):
        ProcessorRegistry().register(lambda image: image, "bad")


def test_state_round_trip_restores_order_and_switches():
    registry = ProcessorRegistry()
    for name in "abc":
        registry.register(_double, name)
    registry.set_enabled("b", False)
    registry.move("c", 0)
    state = registry.state()
    fresh = ProcessorRegistry()
    for name in "abcd":
        fresh.register(_double, name)
    fresh.restore_state(state)
    assert fresh.names() == ["c", "a", "b", "d"]
    assert fresh.get("b").enabled is False


def test_disabled_registry_entry_is_skipped_in_an_acquisition(core, tmp_path):
    registry = ProcessorRegistry()
    registry.register(_plus_one, "plus")
    registry.register(_double, "double")
    registry.set_enabled("double", False)

    def zero(image, metadata):
        image[:] = 0
        return image, metadata

    with Acquisition(tmp_path, "reg", image_process_fn=[zero, *registry.for_acquisition()]) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert (open_dataset(acq.dataset_path).read_image(time=0) == 1).all()


def test_named_views_keep_the_latest_image():
    views = ImageViews()
    added = []
    views.added.connect(added.append)
    views.show("mask", np.zeros((4, 4), np.uint8))
    views.show("mask", np.ones((4, 4), np.uint8))
    assert added == ["mask"]
    assert views.latest("mask").max() == 1
    with pytest.raises(TypeError, match="numpy array"):
        views.show("bad", [1, 2, 3])
