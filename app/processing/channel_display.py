"""How each channel of a dataset looks on screen: a Qt-free model (psygnal events).

A dataset with a ``channel`` axis is shown either as a composite (the visible
channels, each in its colour, added) or one channel at a time. Each channel has its
own colour, contrast and visibility, kept by channel NAME, so that "DAPI" looks the
same in every dataset (and, saved by the window, after a restart).

The viewer's ``DisplaySettings`` (levels, automatic contrast, lookup table) always
describe the channel shown in the histogram, the *current* one: ``follow_current_channel``
keeps the two in step, so the histogram, the Auto box and the LUT box act on the
current channel's look, and the channel strip on any channel's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from psygnal import SignalGroup, evented

from app.processing.colour_tables import COLOUR_TABLES, default_colour
from app.processing.display import DisplaySettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelLook:
    """One channel's colour, contrast and visibility."""

    colour: str = "Grays"
    #: the pixel values shown as black and as full colour (when not automatic)
    levels: tuple[float, float] = (0.0, 1.0)
    auto_levels: bool = True
    visible: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "colour": self.colour,
            "levels": list(self.levels),
            "auto": self.auto_levels,
            "visible": self.visible,
        }

    @classmethod
    def from_json(cls, value: Any) -> ChannelLook:
        """The look saved by ``to_json``; ``ValueError`` for anything else."""
        if not isinstance(value, dict):
            raise ValueError("not an object")
        colour, levels = value.get("colour"), value.get("levels")
        auto, visible = value.get("auto"), value.get("visible")
        if colour not in COLOUR_TABLES:
            raise ValueError(f"unknown colour {colour!r}")
        if not (
            isinstance(levels, list)
            and len(levels) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
            and levels[1] > levels[0]
        ):
            raise ValueError(f"levels {levels!r} are not [low, high]")
        if not isinstance(auto, bool) or not isinstance(visible, bool):
            raise ValueError("auto and visible must be true or false")
        return cls(colour, (float(levels[0]), float(levels[1])), auto, visible)


@dataclass(frozen=True)
class ChannelShown:
    """What a channel was last drawn with: its levels (the automatic ones when its
    contrast is automatic) and the range of its pixel values (a subsample's)."""

    levels: tuple[float, float]
    data_range: tuple[float, float]


@evented
@dataclass
class ChannelDisplay:
    """The channels of what is shown, and how each looks.

    Changed on the GUI thread; read by the thread that prepares frames. Each field is
    replaced whole, never changed in place, so that thread sees the old value or the
    new one, never a mix.
    """

    #: one signal per field, made by psygnal's ``evented`` (declared for type checkers)
    events: ClassVar[SignalGroup]

    #: the channel values of what is shown (the dataset's), in the sliders' order
    names: tuple[Any, ...] = ()
    #: each channel's look, by name (``str(value)``): every channel seen, shown or not
    looks: dict[str, ChannelLook] = field(default_factory=dict)
    #: the visible channels added in their colours (False: one channel at a time)
    composite: bool = True
    #: the channel the sliders are on: the one in the histogram, the only one drawn
    #: when not composite (None: what is shown has no channel axis)
    current: Any = None
    #: what each channel was last drawn with (for the channel strip)
    shown: dict[str, ChannelShown] = field(default_factory=dict)

    @property
    def composite_active(self) -> bool:
        """Channels are drawn added: composite mode, and more than one channel."""
        return self.composite and len(self.names) > 1

    def look(self, name: Any) -> ChannelLook:
        """``name``'s look; a channel never seen gets its default colour."""
        look = self.looks.get(str(name))
        if look is None:
            index = self.names.index(name) if name in self.names else len(self.names)
            look = ChannelLook(colour=default_colour(name, index))
        return look

    def set_look(self, name: Any, **changes: Any) -> None:
        """Change some of ``name``'s look (``colour=``, ``levels=``, ``auto_levels=``,
        ``visible=``); nothing is emitted when nothing changes."""
        look = replace(self.look(name), **changes)
        if self.looks.get(str(name)) != look:
            self.looks = {**self.looks, str(name): look}

    def add_names(self, names: Iterable[Any]) -> None:
        """Channels found in what is shown (kept in the order first seen); each gets
        its remembered look, or its default one from now on."""
        new = [name for name in dict.fromkeys(names) if name not in self.names]
        if not new:
            return
        self.names = (*self.names, *new)
        unseen = {str(name): self.look(name) for name in new if str(name) not in self.looks}
        if unseen:
            self.looks = {**self.looks, **unseen}

    def keep_names(self, names: Iterable[Any]) -> None:
        """Only ``names`` of the channels are left (in their order); the current one,
        if it goes, is no longer current."""
        kept = set(names)
        left = tuple(name for name in self.names if name in kept)
        if left != self.names:
            self.names = left
            if self.current not in kept:
                self.current = None

    def clear_names(self) -> None:
        """What is shown now has no channels yet (another dataset, Live, a snap)."""
        self.names = ()
        self.current = None

    def note_shown(self, shown: Mapping[str, ChannelShown]) -> None:
        if any(self.shown.get(name) != value for name, value in shown.items()):
            self.shown = {**self.shown, **shown}

    # ------------------------------------------------------------ saved as JSON
    def looks_to_json(self) -> dict[str, Any]:
        return {name: look.to_json() for name, look in self.looks.items()}

    def restore_looks(self, saved: Mapping[str, Any]) -> None:
        """Looks saved by ``looks_to_json``; an unusable entry (a hand-edited file) is
        ignored with a warning, the others are kept."""
        looks = dict(self.looks)
        for name, value in saved.items():
            try:
                looks[str(name)] = ChannelLook.from_json(value)
            except ValueError as exc:
                logger.warning("Ignored the saved look of channel %r (%s): %r", name, exc, value)
        self.looks = looks


def follow_current_channel(channels: ChannelDisplay, settings: DisplaySettings) -> None:
    """Keep ``settings`` (the histogram's, the Auto box's and the LUT box's model) on
    the current channel's look, both ways.

    When the current channel changes, or its look is changed elsewhere (the channel
    strip), ``settings`` takes that look; when ``settings`` change (the histogram's
    levels dragged, the Auto box, the LUT box), the current channel's look takes them
    (levels only when not automatic: automatic levels change with every frame).
    Without a current channel (Live, a snap), ``settings`` get back what they were
    before a channel was shown.
    """
    state: dict[str, Any] = {"loading": False, "current": None, "unchanneled": None}

    def snapshot() -> ChannelLook:
        return ChannelLook(settings.lookup_table, settings.levels, settings.auto_levels)

    def load(look: ChannelLook) -> None:
        state["loading"] = True
        try:
            settings.lookup_table = look.colour
            settings.auto_levels = look.auto_levels
            if not look.auto_levels:
                settings.levels = look.levels
        finally:
            state["loading"] = False

    def current_changed() -> None:
        before, now = state["current"], channels.current
        state["current"] = now
        if before is None and now is not None:
            state["unchanneled"] = snapshot()
        if now is not None:
            load(channels.look(now))
        elif before is not None and state["unchanneled"] is not None:
            load(state["unchanneled"])

    def looks_changed() -> None:
        if channels.current is not None:
            load(channels.look(channels.current))

    def settings_changed() -> None:
        name = channels.current
        if name is None or state["loading"]:
            return
        look = channels.look(name)
        levels = settings.levels if not settings.auto_levels else look.levels
        channels.set_look(
            name, colour=settings.lookup_table, auto_levels=settings.auto_levels, levels=levels
        )

    channels.events.current.connect(current_changed)
    channels.events.looks.connect(looks_changed)
    for signal in (
        settings.events.lookup_table,
        settings.events.auto_levels,
        settings.events.levels,
    ):
        signal.connect(settings_changed)
