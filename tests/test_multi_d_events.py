import pytest

from app import multi_d_acquisition_events


def test_time_z_channel_order_and_values():
    events = multi_d_acquisition_events(
        num_time_points=2,
        time_interval_s=1.5,
        z_start=0,
        z_end=1,
        z_step=0.5,
        channel_group="Channel",
        channels=["DAPI", "FITC"],
        channel_exposures_ms=[5, 20],
        order="tcz",
    )
    assert len(events) == 2 * 2 * 3
    assert events[0] == {
        "axes": {"time": 0, "channel": "DAPI", "z": 0},
        "config_group": ["Channel", "DAPI"],
        "exposure": 5.0,
        "z": 0.0,
        "min_start_time": 0.0,
    }
    assert [e["z"] for e in events[:3]] == [0.0, 0.5, 1.0]
    assert events[3]["axes"] == {"time": 0, "channel": "FITC", "z": 0}
    assert events[3]["exposure"] == 20.0
    assert events[6]["min_start_time"] == 1.5
    assert events[6]["axes"]["time"] == 1


def test_float_step_reaches_z_end_exactly():
    events = multi_d_acquisition_events(z_start=0, z_end=6, z_step=0.4)
    assert len(events) == 16
    assert events[-1]["z"] == pytest.approx(6.0)


def test_positions_with_labels_and_relative_z():
    events = multi_d_acquisition_events(
        xyz_positions=[[1, 2, 10], [3, 4, 20]],
        position_labels=["A1", "B2"],
        z_start=-1,
        z_end=1,
        z_step=1,
    )
    assert [e["axes"]["position"] for e in events] == ["A1"] * 3 + ["B2"] * 3
    assert [e["z"] for e in events] == [9.0, 10.0, 11.0, 19.0, 20.0, 21.0]
    assert events[3]["x"] == 3.0 and events[3]["y"] == 4.0


def test_time_interval_list_gives_cumulative_start_times():
    events = multi_d_acquisition_events(num_time_points=3, time_interval_s=[0, 2, 3])
    assert [e["min_start_time"] for e in events] == [0.0, 2.0, 5.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"z_start": 0, "z_end": 1}, "together"),
        ({"channels": ["DAPI"]}, "channel_group"),
        (
            {"channel_group": "Channel", "channels": ["DAPI"], "channel_exposures_ms": [1, 2]},
            "one exposure",
        ),
        ({"xy_positions": [[0, 0]], "xyz_positions": [[0, 0, 0]]}, "cannot both"),
        (
            {"order": "tzp", "xy_positions": [[0, 0]], "z_start": 0, "z_end": 1, "z_step": 1},
            "before z",
        ),
        ({"order": "tx"}, "letters"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        multi_d_acquisition_events(**kwargs)


def test_planned_axes_are_each_axis_values_in_the_order_they_come():
    """What the window lays out at Start: each camera's image its own channel, as saved."""
    from app.acquisition.planned_axes import planned_axes

    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["FITC", "DAPI"], order="tc"
    )
    assert planned_axes(events) == {"time": [0, 1], "channel": ["FITC", "DAPI"]}
    assert planned_axes(events[:2], ("Left", "Right")) == {
        "time": [0],
        "channel": ["FITC-Left", "FITC-Right", "DAPI-Left", "DAPI-Right"],
    }
    odd = [{"axes": {"time": 0, "tag": ["a"]}}, {"exposure": 5}, {"axes": {"time": 3}}]
    assert planned_axes(odd) == {"time": [0, 3]}  # unhashable and missing axes left out


def test_events_share_nothing():
    """A hook or a script may change an event in place: the others stay as they were."""
    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"], order="tc"
    )
    events[0]["axes"]["time"] = 99
    events[0]["config_group"][1] = "Cy5"
    assert events[2] == {
        "axes": {"time": 1, "channel": "DAPI"},
        "config_group": ["Channel", "DAPI"],
    }
    assert events[1]["config_group"] == ["Channel", "FITC"]
    again = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"], order="tc"
    )
    assert again[0] == {"axes": {"time": 0, "channel": "DAPI"}, "config_group": ["Channel", "DAPI"]}


def test_a_whole_number_of_steps_far_from_zero_adds_no_slice():
    """The panel's Z-stack is its range added to the Z of now: at a focus of 330 mm,
    floating point puts 2 steps of 0.01 µm 1e-9 of a step past 2 (a third slice was
    added)."""
    from app.acquisition.multi_d import last_slice_within, slices_within

    here = 330_000.0
    events = multi_d_acquisition_events(
        z_start=here - 1.0, z_end=here + (-1.0 + 2 * 0.01), z_step=0.01
    )
    assert len(events) == 3
    assert last_slice_within(here - 1.0, here + (-1.0 + 2 * 0.01), 0.01) == pytest.approx(
        here - 0.98, abs=1e-9
    )
    assert slices_within(-1.0, 1.0, 5.0) == [-1.0]  # never past the end typed
    assert slices_within(1.3, 0.0, -0.5) == pytest.approx([1.3, 0.8, 0.3])


@pytest.mark.parametrize(
    "function", ["last_slice_within", "slices_within", "multi_d_acquisition_events"]
)
def test_a_step_going_away_from_the_end_is_refused(function):
    """A step of the wrong sign gives no slice in pycro-manager's rule: said, as a step
    of 0 is, by every function that takes one (one slice was made at the start)."""
    import app.acquisition.multi_d as multi_d

    call = getattr(multi_d, function)
    arguments = {"z_start": 0.0, "z_end": 3.0, "z_step": -1.0}
    with pytest.raises(ValueError, match=r"does not go from z_start 0\.0 towards z_end 3\.0"):
        call(**arguments)
    with pytest.raises(ValueError, match="z_step must not be 0"):
        call(**{**arguments, "z_step": 0})
