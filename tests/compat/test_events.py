"""Events: multi_d_acquisition_events against pycro-manager's own, and submitting them."""

from __future__ import annotations

import inspect

import pycromanager
import pytest

from app import (
    AcqAlreadyCompleteException,
    Acquisition,
    InvalidEventError,
    multi_d_acquisition_events,
)

CASES = {
    "nothing": {},
    "time": {"num_time_points": 5},
    "interval": {"num_time_points": 3, "time_interval_s": 2.5},
    "interval list": {"num_time_points": 3, "time_interval_s": [0, 1.5, 4]},
    "z": {"z_start": -2, "z_end": 2, "z_step": 0.5},
    "z not whole steps": {"z_start": 0, "z_end": 1, "z_step": 0.4},
    "z not whole steps 2": {"z_start": 0, "z_end": 1, "z_step": 0.6},
    "z downwards": {"z_start": 3, "z_end": 0, "z_step": -1},
    "channels": {"channel_group": "Channel", "channels": ["DAPI", "FITC"]},
    "exposures": {
        "channel_group": "Channel",
        "channels": ["DAPI", "FITC"],
        "channel_exposures_ms": [10, 20],
    },
    "xy": {"xy_positions": [[0, 0], [10, 5], [-3, 7]]},
    "xy labels": {"xy_positions": [[0, 0], [10, 5]], "position_labels": ["left", "right"]},
    "xyz": {"xyz_positions": [[0, 0, 1], [10, 5, 2]]},
    "xyz stack": {"xyz_positions": [[0, 0, 1], [10, 5, 2]], "z_start": 0, "z_end": 2, "z_step": 1},
    "xyz labels": {
        "xyz_positions": [[0, 0, 1], [10, 5, 2]],
        "position_labels": ["a", "b"],
        "z_start": -1,
        "z_end": 1,
        "z_step": 1,
    },
}
ORDERS = ["tpcz", "tpzc", "ptcz", "pczt", "ctpz", "tcz", "zc", "pt"]
FULL = {
    "num_time_points": 2,
    "time_interval_s": 1,
    "z_start": 0,
    "z_end": 1,
    "z_step": 1,
    "channel_group": "Channel",
    "channels": ["DAPI", "FITC"],
    "channel_exposures_ms": [5, 7],
    "xyz_positions": [[1, 2, 3], [4, 5, 6]],
    "position_labels": ["p1", "p2"],
}


@pytest.mark.parametrize("case", CASES)
def test_same_events_as_pycro_manager(case):
    kwargs = CASES[case]
    assert multi_d_acquisition_events(**kwargs) == pycromanager.multi_d_acquisition_events(**kwargs)


@pytest.mark.parametrize("order", ORDERS)
def test_same_events_in_every_order(order):
    kwargs = dict(FULL)
    if "p" not in order:  # pycro-manager's Z values turn into arrays then: no positions
        del kwargs["xyz_positions"], kwargs["position_labels"]
    elif "z" not in order:  # xyz positions need a "z" (see the next test): XY ones here
        kwargs["xy_positions"] = [p[:2] for p in kwargs.pop("xyz_positions")]
    ours = multi_d_acquisition_events(**kwargs, order=order)
    assert ours == pycromanager.multi_d_acquisition_events(**kwargs, order=order)
    assert len(ours) == 2 ** sum(letter in order for letter in "tpcz")


def test_xyz_positions_without_z_in_the_order_keep_their_z():
    # pycro-manager drops each position's Z when the order has no "z"; Scopeflow keeps it
    events = multi_d_acquisition_events(xyz_positions=[[1, 2, 3], [4, 5, 6]], order="tp")
    assert events == [
        {"axes": {"position": 0}, "x": 1.0, "y": 2.0, "z": 3.0},
        {"axes": {"position": 1}, "x": 4.0, "y": 5.0, "z": 6.0},
    ]


def test_keep_shutter_open_flags():
    events = multi_d_acquisition_events(
        channel_group="Channel",
        channels=["DAPI", "FITC"],
        z_start=0,
        z_end=1,
        z_step=1,
        keep_shutter_open_between_channels=True,
    )
    assert all(e["keep_shutter_open"] for e in events)
    events = multi_d_acquisition_events(z_start=0, z_end=1, z_step=1)
    assert not any("keep_shutter_open" in e for e in events)
    events = multi_d_acquisition_events(
        z_start=0, z_end=1, z_step=1, keep_shutter_open_between_z_steps=True
    )
    assert events == [
        {"axes": {"z": 0}, "z": 0.0, "keep_shutter_open": True},
        {"axes": {"z": 1}, "z": 1.0, "keep_shutter_open": True},
    ]


def test_no_extra_slice_from_floating_point():
    # np.arange(0, 1.1 + 0.1, 0.1) has a 13th value, 1.2, past z_end; not here
    zs = [e["z"] for e in multi_d_acquisition_events(z_start=0, z_end=1.1, z_step=0.1)]
    assert len(zs) == 12 and zs[-1] == pytest.approx(1.1)
    theirs = pycromanager.multi_d_acquisition_events(z_start=0, z_end=1.1, z_step=0.1)
    assert len(theirs) == 13


def test_constructor_order_is_pycro_managers():
    theirs = list(inspect.signature(pycromanager.Acquisition.__init__).parameters)[1:]
    ours = list(inspect.signature(Acquisition.__init__).parameters)[1:]
    assert ours[: len(theirs)] == theirs
    assert inspect.signature(Acquisition.__init__).parameters["name"].default == "default_acq_name"


def test_positional_arguments_in_pycro_managers_order(core, tmp_path):
    notes, saved = [], []
    acq = Acquisition(
        tmp_path,
        "positional",
        lambda image, metadata: (image, metadata),
        None,
        None,
        None,
        None,
        notes.append,
        lambda axes, dataset: saved.append(axes),
    )
    with acq:
        acq.acquire({"axes": {"time": 0}})
    assert saved == [{"time": 0}] and notes
    assert acq.dataset_path.endswith("positional_1")


@pytest.mark.parametrize("name", [None, "default_acq_name"])
def test_the_default_name(core, tmp_path, name):
    kwargs = {} if name is None else {"name": name}
    with Acquisition(directory=tmp_path, show_display=False, **kwargs) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert acq.dataset_path.endswith("default_acq_name_1")
    with Acquisition(show_display=False) as in_ram:
        in_ram.acquire({"axes": {"time": 0}})
    assert in_ram.get_dataset().name == "default_acq_name"


@pytest.mark.parametrize("events", [[], {}, [{}, {}], "time"], ids=["[]", "{}", "[{}, {}]", "str"])
def test_invalid_submissions_raise(directory, events):
    with pytest.raises(InvalidEventError), Acquisition(directory, "acq", show_display=False) as acq:
        acq.acquire(events)


def test_acquire_after_mark_finished_raises(directory):
    acq = Acquisition(directory, "acq", show_display=False)
    acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()
    with pytest.raises(AcqAlreadyCompleteException):
        acq.acquire({"axes": {"time": 1}})
    acq.await_completion()
    assert sorted(acq.get_dataset().axes["time"]) == [0]


def test_acquire_none_ends_the_acquisition(directory):
    acq = Acquisition(directory, "acq", show_display=False)
    acq.acquire(
        [{"axes": {"time": 0}}, {"axes": {"time": 1}}],
    )
    assert acq.acquire(None) is None
    acq.await_completion(timeout=20)
    assert acq.counts.saved == 2


def test_an_abort_with_no_events_does_not_hang(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        acq.abort()
    assert acq.is_finished()


def test_only_the_events_of_one_call_are_sequenced_together(directory):
    calls = []

    def hook(events):
        calls.append(len(events) if isinstance(events, list) else 1)
        return events

    with Acquisition(directory, "acq", show_display=False, pre_hardware_hook_fn=hook) as acq:
        for t in range(3):
            acq.acquire({"axes": {"time": t}})
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert calls == [1, 1, 1, 3]


def test_an_unknown_device_fails_at_acquire(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        with pytest.raises(InvalidEventError, match="NoSuchDevice"):
            acq.acquire({"axes": {"time": 0}, "properties": [["NoSuchDevice", "P", 1]]})
        acq.acquire({"axes": {"time": 1}})
    assert acq.counts.saved == 1


def test_with_a_hook_an_unknown_device_fails_when_the_event_runs(directory):
    # The hook may rewrite or cancel events, so they are checked after it has run.
    acq = Acquisition(directory, "acq", show_display=False, pre_hardware_hook_fn=lambda e: e)
    acq.acquire({"axes": {"time": 0}})
    acq.acquire({"axes": {"time": 1}, "config_group": ["Channel", "NoSuchPreset"]})
    acq.mark_finished()
    with pytest.raises(InvalidEventError, match="NoSuchPreset"):
        acq.await_completion(timeout=20)
    assert acq.get_dataset().has_image(time=0)


def test_debug_is_accepted(core):
    with Acquisition(debug=True, show_display=False) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert acq.counts.saved == 1


def test_java_bridge_settings_are_accepted(directory):
    acq = Acquisition(
        directory, "acq", port=4827, timeout=500, core_log_debug=True, saving_queue_size=3
    )
    with acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert acq.saving_queue_size == 3 and acq.counts.saved == 5


def test_get_viewer_is_none_headless(directory):
    with Acquisition(directory, "acq") as acq:
        acq.acquire({"axes": {"time": 0}})
    assert acq.get_viewer() is None


@pytest.mark.parametrize("key", ["slm_pattern", "stage"])
def test_keys_scopeflow_does_not_take_are_named(directory, key):
    with Acquisition(directory, "acq") as acq, pytest.raises(InvalidEventError, match="valid keys"):
        acq.acquire({"axes": {"time": 0}, key: 1})


def test_old_top_level_row_and_col_keys_become_axes_with_a_warning(directory):
    """As in pycro-manager: deprecated, moved into the event's axes."""
    with (
        Acquisition(directory, "acq") as acq,
        pytest.warns(DeprecationWarning, match="'row' and 'col'"),
    ):
        acq.acquire({"axes": {"time": 0}, "row": 1, "col": 2})
    assert acq.get_dataset().has_image(time=0, row=1, column=2)
