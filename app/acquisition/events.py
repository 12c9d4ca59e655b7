"""Acquisition events: pycro-manager's event dicts, checked and turned into useq events.

An event is a dict describing one image: where the hardware goes and which
``axes`` identify the image in the dataset. The keys are pycro-manager's:

``axes``            {axis name: int or str}; names the image in storage (required)
``x``, ``y``        XY stage position, µm
``z``               focus stage position, µm
``exposure``        camera exposure, ms
``config_group``    [group, preset], e.g. ["Channel", "DAPI"]
``min_start_time``  seconds after the acquisition started, before which not to start
``properties``      [[device, property, value], ...]
``stage_positions`` [[stage device, position µm], ...] for stages other than the focus
``camera``          the camera device to use for this image
``keep_shutter_open`` keep the shutter open after this image
``tags``            {str: value}, copied into the image's metadata
``timeout_ms``      how long to wait for each frame of a hardware sequence (a
                    camera waiting for an external trigger), instead of the default

Events are checked when they are submitted, so a typo fails in the caller's line,
not minutes later on the engine thread.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import useq

EVENT_KEYS = frozenset(
    {
        "axes",
        "x",
        "y",
        "z",
        "exposure",
        "config_group",
        "min_start_time",
        "properties",
        "stage_positions",
        "camera",
        "keep_shutter_open",
        "tags",
        "timeout_ms",
        "timeout",  # pycro-manager's own tests name it so: the same, in ms
    }
)

#: Key under which the original event dict travels in ``useq.MDAEvent.metadata``.
EVENT_METADATA_KEY = "scopeflow_event"


class InvalidEventError(ValueError):
    """An acquisition event is malformed; the message names the event and the key."""


def _fail(event: Any, why: str) -> InvalidEventError:
    return InvalidEventError(f"Invalid acquisition event {event!r}: {why}")


def _is_number(value: Any) -> bool:
    try:
        if type(value) is float or type(value) is int:  # most events' (ABCs are slower)
            return math.isfinite(value)
        return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an int too large for a float (10**400)
        return False


#: an event's keys whose values are numbers (``timeout``: pycro-manager's tests' key)
_NUMBER_KEYS = ("x", "y", "z", "exposure", "min_start_time", "timeout_ms", "timeout")


def normalize_event(event: Any) -> dict[str, Any]:
    """Return a checked copy of one event dict (numpy scalars become Python numbers).

    Plain ``dict``, ``int``, ``float`` and ``str`` are recognised before the abstract
    types (``Mapping``, ``Integral``, ``Real``), and a ``config_group`` list of two str
    before the general check: every event of a plan passes here in the click on Start.
    999 events took 3.4 ms, 1.9 ms with the plain types recognised first, and 1.5 ms
    with the config group's too and a plain dict's items read with its own ``get``
    (against 1.8, in turn in one process)."""
    if type(event) is not dict and isinstance(event, useq.MDAEvent):
        return event_from_useq(event)
    if type(event) is not dict and not isinstance(event, Mapping):
        raise InvalidEventError(
            "An acquisition event must be a dict (or a useq.MDAEvent), "
            f"got {type(event).__name__}: {event!r}"
        )
    event = _axes_from_top_level_tile_keys(event)
    # a plain dict's own view and get (a Mapping's keys() need not be a set, and a dict
    # subclass may read its items its own way)
    plain = type(event) is dict
    get = event.get if plain else functools.partial(_item_or_none, event)
    unknown = (event.keys() if plain else set(event)) - EVENT_KEYS
    if unknown:
        raise _fail(event, f"unknown key(s) {sorted(unknown)}; valid keys are {sorted(EVENT_KEYS)}")
    out: dict[str, Any] = {}
    axes = event.get("axes")
    if type(axes) is not dict and not isinstance(axes, Mapping):
        raise _fail(event, "'axes' is required and must be a dict such as {'time': 0}")
    out["axes"] = {}
    for name, value in axes.items():
        if not isinstance(name, str) or not name:
            raise _fail(event, f"axis names must be non-empty strings, got {name!r}")
        if type(value) is int or type(value) is str:
            out["axes"][name] = value
        elif isinstance(value, Integral) and not isinstance(value, bool):
            out["axes"][name] = int(value)
        elif isinstance(value, str):
            out["axes"][name] = value
        else:
            raise _fail(event, f"axis {name!r} must be an int or a str, got {value!r}")
    for key in _NUMBER_KEYS:
        value = get(key)
        if value is not None:
            if not _is_number(value):
                raise _fail(event, f"{key!r} must be a finite number, got {value!r}")
            out[key] = float(value)
    if ("x" in out) != ("y" in out):
        raise _fail(event, "'x' and 'y' must be given together")
    if out.get("exposure", 1.0) <= 0:
        raise _fail(event, f"'exposure' must be positive, got {out['exposure']}")
    if out.get("timeout_ms", 1.0) <= 0:
        raise _fail(event, f"'timeout_ms' must be positive, got {out['timeout_ms']}")
    if out.get("min_start_time", 0.0) < 0:
        raise _fail(event, "'min_start_time' must not be negative")
    group = get("config_group")
    if type(group) is list and len(group) == 2 and type(group[0]) is type(group[1]) is str:
        out["config_group"] = [group[0], group[1]]  # most events' (the check below is slower)
    elif "config_group" in event:
        if (
            not isinstance(group, Sequence)
            or isinstance(group, str)
            or len(group) != 2
            or not all(isinstance(g, str) for g in group)
        ):
            raise _fail(event, "'config_group' must be [group, preset], two strings")
        out["config_group"] = [group[0], group[1]]
    if "properties" in event:
        props = []
        for item in event["properties"]:
            if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 3:
                raise _fail(event, f"each property must be [device, property, value], got {item!r}")
            props.append([str(item[0]), str(item[1]), item[2]])
        out["properties"] = props
    if "stage_positions" in event:
        stages = []
        for item in event["stage_positions"]:
            if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
                raise _fail(event, f"each stage position must be [stage, position], got {item!r}")
            if not _is_number(item[1]):
                raise _fail(event, f"stage position must be a number, got {item[1]!r}")
            stages.append([str(item[0]), float(item[1])])
        out["stage_positions"] = stages
    if "camera" in event:
        if not isinstance(event["camera"], str):
            raise _fail(event, "'camera' must be a device label (str)")
        out["camera"] = event["camera"]
    if "keep_shutter_open" in event:
        out["keep_shutter_open"] = bool(event["keep_shutter_open"])
    if "tags" in event:
        tags = event["tags"]
        if not isinstance(tags, Mapping) or not all(isinstance(k, str) for k in tags):
            raise _fail(event, "'tags' must be a dict with str keys")
        out["tags"] = dict(tags)
    return out


#: only ``checked_events`` makes ``CheckedEvents``: made otherwise, they would skip a check
_CHECKED_HERE = object()


class CheckedEvents(tuple[dict[str, Any], ...]):
    """A plan's events, checked ahead of ``acquire`` (made by ``checked_events`` only):
    ``acquire`` places them and checks them against the hardware, but does not check
    each again. The window checks its plan's events while the user reads the estimate,
    and Start hands them over: checked in the click, 999 events took 1.5 ms of the
    window's thread there. The engine runs its dicts; a hook gets a copy of each (as
    of any event), so one that changes an event does not change these."""

    __slots__ = ()

    def __new__(cls, events: Iterable[dict[str, Any]], made_by: object = None) -> CheckedEvents:
        if made_by is not _CHECKED_HERE:
            raise TypeError("CheckedEvents are made by checked_events(events), which checks each")
        return super().__new__(cls, events)


def checked_events(events: Any) -> CheckedEvents:
    """``events`` (what ``acquire`` takes, a generator read whole), each checked
    (``normalize_event``): raises ``InvalidEventError`` at the first invalid one, and
    at None (``acquire``'s end of the acquisition is not an event)."""
    return CheckedEvents(
        (normalize_event(event) for event in iter_events(events)), made_by=_CHECKED_HERE
    )


def _item_or_none(event: Mapping[str, Any], key: str) -> Any:
    """``event[key]``, or None: through the mapping's own ``__getitem__`` (a dict
    subclass's ``get`` would skip it)."""
    return event[key] if key in event else None  # noqa: SIM401


def _axes_from_top_level_tile_keys(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """pycro-manager's older tile keys, ``row`` and ``col`` beside ``axes``, become the
    ``row`` and ``column`` axes, with its deprecation warning."""
    if "row" not in event and "col" not in event:
        return event
    warnings.warn(
        "'row' and 'col' as top-level event keys are deprecated (as in pycro-manager): "
        "put 'row' and 'column' in the event's 'axes'",
        DeprecationWarning,
        stacklevel=4,
    )
    moved = {k: v for k, v in event.items() if k not in ("row", "col")}
    axes = dict(event.get("axes") or {})
    if "row" in event:
        axes["row"] = event["row"]
    if "col" in event:
        axes["column"] = event["col"]
    moved["axes"] = axes
    return moved


def iter_events(events: Any) -> Iterator[Any]:
    """Flatten what ``acquire`` accepts (a dict, a list, a generator, nested lists, useq)."""
    if events is None or isinstance(events, Mapping | useq.MDAEvent):
        yield events
    elif isinstance(events, useq.MDASequence):
        yield from events.iter_events()
    elif isinstance(events, Iterable) and not isinstance(events, str | bytes):
        for item in events:
            if type(item) is dict:  # a plan's events: no generator each (999: 0.36 -> 0.04 ms)
                yield item
            else:
                yield from iter_events(item)
    else:
        raise InvalidEventError(
            "acquire() takes an event dict, a list or generator of them, a useq.MDASequence "
            f"or a useq.MDAEvent; got {type(events).__name__}: {events!r}"
        )


_USEQ_AXES = {"t": "time", "z": "z", "c": "channel", "p": "position", "g": "grid"}


def event_from_useq(event: useq.MDAEvent) -> dict[str, Any]:
    """Express a useq event as an event dict (useq's axis letters become pycro-manager names)."""
    axes: dict[str, int | str] = {}
    for key, value in event.index.items():
        axes[_USEQ_AXES.get(key, key)] = int(value)
    out: dict[str, Any] = {"axes": axes}
    if event.channel is not None:
        out["config_group"] = [event.channel.group, event.channel.config]
        axes["channel"] = event.channel.config
    if event.exposure is not None:
        out["exposure"] = float(event.exposure)
    if event.x_pos is not None and event.y_pos is not None:
        out["x"], out["y"] = float(event.x_pos), float(event.y_pos)
    if event.z_pos is not None:
        out["z"] = float(event.z_pos)
    if event.min_start_time is not None:
        out["min_start_time"] = float(event.min_start_time)
    if event.properties:
        out["properties"] = [list(p) for p in event.properties]
    if event.keep_shutter_open:
        out["keep_shutter_open"] = True
    if event.pos_name:
        out["tags"] = {"PositionName": event.pos_name}
    return normalize_event(out)


def to_useq(event: dict[str, Any]) -> useq.MDAEvent:
    """The useq event that pymmcore-plus's MDAEngine executes for an event dict.

    The dict itself rides along in the event's metadata, so each frame the engine
    returns carries the event that produced it, even after hardware sequencing merges
    several events into one burst.
    """
    axes = event["axes"]
    index = {k: v for k, v in axes.items() if isinstance(v, int)}
    if "time" in index:
        index["t"] = index["time"]
    properties: list[tuple[str, str, Any]] = [tuple(p) for p in event.get("properties", ())]
    for stage, position in event.get("stage_positions", ()):
        properties.append((stage, "Position", position))
    if "camera" in event:
        properties.append(("Core", "Camera", event["camera"]))
    fields: dict[str, Any] = {
        "index": index,
        "exposure": event.get("exposure"),
        "x_pos": event.get("x"),
        "y_pos": event.get("y"),
        "z_pos": event.get("z"),
        "min_start_time": event.get("min_start_time"),
        "properties": properties or None,
        "keep_shutter_open": event.get("keep_shutter_open", False),
        "metadata": {EVENT_METADATA_KEY: event},
    }
    if "config_group" in event:
        group, preset = event["config_group"]
        fields["channel"] = {"config": preset, "group": group}
    return useq.MDAEvent.model_validate(fields)


class HardwareEventChecker:
    """Checks an event against the loaded hardware, so a typo in a preset or device
    name fails when the event is submitted instead of being skipped with a warning
    deep in the engine (pymmcore-plus only logs what it cannot set)."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self._devices = set(core.getLoadedDevices())
        self._groups = {
            g: set(core.getAvailableConfigs(g)) for g in core.getAvailableConfigGroups()
        }

    def __call__(self, event: dict[str, Any]) -> None:
        if "config_group" in event:
            group, preset = event["config_group"]
            if group not in self._groups:
                raise _fail(
                    event, f"no config group {group!r}; the groups are {sorted(self._groups)}"
                )
            if preset not in self._groups[group]:
                raise _fail(
                    event,
                    f"group {group!r} has no preset {preset!r}; "
                    f"its presets are {sorted(self._groups[group])}",
                )
        for device, prop, _ in event.get("properties", ()):
            if device not in self._devices:
                raise _fail(event, f"no device {device!r} is loaded")
            if not self._core.hasProperty(device, prop):
                raise _fail(event, f"device {device!r} has no property {prop!r}")
        for stage, _ in event.get("stage_positions", ()):
            if stage not in self._devices:
                raise _fail(event, f"no stage {stage!r} is loaded")
        if "camera" in event and event["camera"] not in self._devices:
            raise _fail(event, f"no camera {event['camera']!r} is loaded")
        if ("x" in event) and not self._core.getXYStageDevice():
            raise _fail(event, "it sets 'x' and 'y' but no XY stage is loaded")
        if ("z" in event) and not self._core.getFocusDevice():
            raise _fail(event, "it sets 'z' but no focus stage is loaded")
