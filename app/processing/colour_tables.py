"""Colour tables: how 8-bit display values become colours, and each channel's first
colour (DAPI blue, FITC green, ...). Plain numpy, no Qt: the viewer's lookup tables,
the channel strip's colour box and the composite of channels all read these."""

from __future__ import annotations

import functools
import re

import numpy as np

#: black to one colour, as a fluorescence channel looks (Blue is lightened: pure blue,
#: and the darker blue before, were too dim on a screen to see a dim DAPI by)
SINGLE_COLOURS: dict[str, tuple[int, int, int]] = {
    "Grays": (255, 255, 255),
    "Green": (0, 255, 0),
    "Red": (255, 0, 0),
    "Blue": (70, 150, 255),
    "Magenta": (255, 0, 255),
    "Cyan": (0, 255, 255),
    "Yellow": (255, 255, 0),
}
#: perceptual maps, by their name in matplotlib's (and the ``cmap`` package's) catalogue
CATALOGUE_MAPS: dict[str, str] = {"Viridis": "viridis", "Inferno": "inferno"}
#: every table, in the order the menus list them
COLOUR_TABLES: tuple[str, ...] = (*SINGLE_COLOURS, *CATALOGUE_MAPS)

#: the colour a channel starts with when its name says its dye or filter (lower case,
#: letters and digits only); the first match wins
CHANNEL_COLOURS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("dapi", "hoechst", "bfp", "405"), "Blue"),
    (("cfp", "cyan"), "Cyan"),
    (("yfp", "yellow"), "Yellow"),
    (("fitc", "gfp", "488", "green"), "Green"),
    (("cy5", "647", "farred"), "Magenta"),
    (("rhodamine", "tritc", "cy3", "rfp", "mcherry", "texasred", "561", "594", "red"), "Red"),
)
#: channels whose name says nothing take these in turn
DEFAULT_CYCLE: tuple[str, ...] = ("Green", "Magenta", "Cyan", "Yellow", "Red", "Blue")


def default_colour(channel: object, index: int) -> str:
    """The colour of a channel nobody chose one for: by its name, else the
    ``index``-th of the cycle (``index``: its place among the dataset's channels)."""
    key = re.sub(r"[^a-z0-9]", "", str(channel).lower())
    for words, colour in CHANNEL_COLOURS:
        if any(word in key for word in words):
            return colour
    return DEFAULT_CYCLE[index % len(DEFAULT_CYCLE)]


@functools.cache
def colour_table(name: str) -> np.ndarray:
    """The table of ``name``: 256 RGB rows of uint8, row ``v`` the colour of value ``v``
    (read-only; ``ValueError`` for an unknown name)."""
    if name in SINGLE_COLOURS:
        ramp = np.linspace(0.0, 1.0, 256)[:, None] * np.array(SINGLE_COLOURS[name])[None, :]
        table = np.round(ramp).astype(np.uint8)
    elif name in CATALOGUE_MAPS:
        from cmap import Colormap  # numpy only; loaded when a channel first uses one

        rgba = Colormap(CATALOGUE_MAPS[name]).lut(256)
        table = np.round(np.asarray(rgba)[:, :3] * 255).astype(np.uint8)
    else:
        raise ValueError(f"No colour table {name!r}; there are {list(COLOUR_TABLES)}")
    table.setflags(write=False)
    return table
