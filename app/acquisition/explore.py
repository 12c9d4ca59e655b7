"""Explore: a map acquired tile by tile where the user points, as Micro-Magellan's.

The rule this module keeps: an exploration is one ``XYTiledAcquisition`` that stays
open while the user explores, and a tile is asked for once. Clicking a tile already
acquired, or already on its way, queues nothing; each tile asked for runs with the
settings the exploration started with (channels, exposure, Z planes), so every tile of
the map has the same planes. Moving the stage waits for no tile: it is refused, with
the reason, while tiles are on their way (the stage is theirs then).

An exploration saved before is gone on with by reopening its map
(``Exploration.resume``): its grid comes from the map's summary metadata, so new tiles
land where the old ones say the sample is.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymmcore_plus import CMMCorePlus

from app.acquisition.tiled_acquisition import XYTiledAcquisition
from app.acquisition.tiles import COLUMN_AXIS, ROW_AXIS, TileLayout, TilingError
from app.storage.tiled_dataset import TiledDataset
from app.storage.tiled_ndtiff_sink import TiledNDTiffSink

Tile = tuple[int, int]


@dataclass(frozen=True)
class ExploreChannel:
    """A channel each tile is acquired in: a preset of a configuration group, and an
    exposure (None: the camera's exposure at the time)."""

    group: str
    preset: str
    exposure_ms: float | None = None


@dataclass(frozen=True)
class ExploreSettings:
    """What every tile of an exploration is acquired with.

    ``channels`` empty: the microscope as it is, no channel axis. ``z_positions``
    (focus, µm) empty: the focus as it is, no z axis; else one plane per position, the
    ``z`` axis counting them. ``overlap`` is (x, y) pixels.
    """

    overlap: tuple[int, int] = (0, 0)
    channels: tuple[ExploreChannel, ...] = ()
    z_positions: tuple[float, ...] = ()
    exposure_ms: float | None = None

    def events(self, tile: Tile) -> list[dict[str, Any]]:
        row, column = tile
        planes: list[tuple[int | None, float | None]] = (
            [(i, z) for i, z in enumerate(self.z_positions)] if self.z_positions else [(None, None)]
        )
        channels: list[ExploreChannel | None] = list(self.channels) or [None]
        events = []
        for z_index, z in planes:
            for channel in channels:
                axes: dict[str, Any] = {ROW_AXIS: row, COLUMN_AXIS: column}
                event: dict[str, Any] = {"axes": axes}
                if z_index is not None:
                    axes["z"] = z_index
                    event["z"] = z
                if channel is not None:
                    axes["channel"] = channel.preset
                    event["config_group"] = [channel.group, channel.preset]
                exposure = channel.exposure_ms if channel is not None else None
                if exposure is None:
                    exposure = self.exposure_ms
                if exposure is not None:
                    event["exposure"] = exposure
                events.append(event)
        return events

    def to_json(self) -> dict[str, Any]:
        """What a map records of how it was explored (its summary metadata)."""
        return {
            "overlap": list(self.overlap),
            "channels": [[c.group, c.preset, c.exposure_ms] for c in self.channels],
            "z_positions": list(self.z_positions),
            "exposure_ms": self.exposure_ms,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ExploreSettings:
        return cls(
            overlap=(int(value["overlap"][0]), int(value["overlap"][1])),
            channels=tuple(ExploreChannel(str(g), str(p), e) for g, p, e in value["channels"]),
            z_positions=tuple(float(z) for z in value["z_positions"]),
            exposure_ms=value.get("exposure_ms"),
        )


SUMMARY_KEY = "ScopeflowExplore"


class StageBusyError(RuntimeError):
    """The stage was asked to move while tiles are on their way."""


@dataclass
class _Requests:
    asked: set[Tile] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Exploration:
    """One map being explored: tiles asked for by place, the stage moved on the map."""

    def __init__(self, acquisition: XYTiledAcquisition, settings: ExploreSettings) -> None:
        self.acquisition = acquisition
        self.settings = settings
        self._requests = _Requests()
        dataset = self.dataset
        self._requests.asked.update(_tiles_saved(dataset))

    @classmethod
    def start(
        cls,
        core: CMMCorePlus,
        directory: str | os.PathLike[str],
        name: str,
        settings: ExploreSettings,
        **acquisition_kwargs: Any,
    ) -> Exploration:
        """A new map in ``directory/name_N``, tile (0, 0) where the stage is now."""
        acquisition = XYTiledAcquisition(
            settings.overlap,
            directory,
            name,
            core=core,
            summary_extra={SUMMARY_KEY: settings.to_json()},
            **acquisition_kwargs,
        )
        return cls(acquisition, settings)

    @classmethod
    def resume(
        cls,
        core: CMMCorePlus,
        path: str | os.PathLike[str],
        settings: ExploreSettings,
        **acquisition_kwargs: Any,
    ) -> Exploration:
        """Go on exploring a map saved before. Its grid (origin, overlap, transform) is
        the map's, and so are its channels and Z planes when an exploration made it
        (``settings`` serves a map acquired otherwise), so new tiles match old ones."""
        saved = TiledDataset.open(Path(path))
        layout = TileLayout.from_summary_metadata(saved.summary_metadata)
        recorded = saved.summary_metadata.get(SUMMARY_KEY)
        saved.close()
        if isinstance(recorded, dict):
            settings = ExploreSettings.from_json(recorded)
        if (layout.width, layout.height) != (core.getImageWidth(), core.getImageHeight()):
            raise TilingError(
                f"This map's tiles are {layout.width}x{layout.height} px and the camera's "
                f"images {core.getImageWidth()}x{core.getImageHeight()}: set the camera as "
                "it was (binning, ROI) to go on with it"
            )
        overlap = (layout.overlap_x, layout.overlap_y)
        acquisition = XYTiledAcquisition(
            overlap,
            storage=TiledNDTiffSink.resume(path),
            layout=layout,
            core=core,
            **acquisition_kwargs,
        )
        kept = ExploreSettings(
            overlap, settings.channels, settings.z_positions, settings.exposure_ms
        )
        return cls(acquisition, kept)

    @property
    def layout(self) -> TileLayout:
        return self.acquisition.layout

    @property
    def dataset(self) -> TiledDataset:
        dataset = self.acquisition.get_dataset()
        assert isinstance(dataset, TiledDataset)
        return dataset

    def asked(self, tile: Tile) -> bool:
        """Whether a tile was acquired, or is on its way."""
        with self._requests.lock:
            return tile in self._requests.asked

    def pending(self) -> set[Tile]:
        """Tiles asked for and not all saved yet (the map shows them as queued)."""
        with self._requests.lock:
            asked = set(self._requests.asked)
        return asked - _tiles_saved(self.dataset, complete_only=len(self._planes()))

    def _planes(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in e["axes"].items() if k not in (ROW_AXIS, COLUMN_AXIS)}
            for e in self.settings.events((0, 0))
        ]

    def acquire(self, tiles: Iterable[Tile]) -> list[Tile]:
        """Queue the tiles not asked for before, in the order given; returns them.
        Raises ``AcqAlreadyCompleteException`` once the exploration is finished."""
        with self._requests.lock:
            new = [t for t in dict.fromkeys(tiles) if t not in self._requests.asked]
            if not new:
                return []
            events = [event for tile in new for event in self.settings.events(tile)]
            self.acquisition.acquire(events)
            self._requests.asked.update(new)
        return new

    def tiles_in(self, y0: float, x0: float, y1: float, x1: float) -> list[Tile]:
        """The tiles under a rectangle of the map (full-resolution map pixels, any two
        corners), row by row, snaking so that the stage moves little."""
        top, bottom = sorted((y0, y1))
        left, right = sorted((x0, x1))
        first_row, first_column = self.layout.tile_at_pixel(top, left)
        last_row, last_column = self.layout.tile_at_pixel(
            math.nextafter(bottom, -math.inf), math.nextafter(right, -math.inf)
        )
        last_row, last_column = max(first_row, last_row), max(first_column, last_column)
        tiles: list[Tile] = []
        for i, row in enumerate(range(first_row, last_row + 1)):
            columns = range(first_column, last_column + 1)
            tiles.extend((row, c) for c in (columns if i % 2 == 0 else reversed(columns)))
        return tiles

    def move_stage_to(self, y: float, x: float) -> tuple[float, float]:
        """Centre the camera on a map pixel; returns the stage position (µm).
        ``StageBusyError`` while tiles are on their way."""
        if self.acquisition.status.events_pending or self.pending():
            raise StageBusyError(
                "Tiles are being acquired: the stage moves once they are done (or Stop)"
            )
        x_um, y_um = self.layout.stage_at_pixel(y, x)
        core = self.acquisition.core
        core.setXYPosition(x_um, y_um)
        return x_um, y_um

    def stage_pixel(self) -> tuple[float, float]:
        """Where the camera is on the map now (full-resolution map pixels, y and x)."""
        core = self.acquisition.core
        return self.layout.pixel_at_stage(core.getXPosition(), core.getYPosition())

    def stop(self) -> None:
        """No more tiles: those queued still run, then the map's files are closed."""
        self.acquisition.mark_finished()

    def abort(self) -> None:
        """Stop now: queued tiles are dropped; what was acquired stays in the map."""
        self.acquisition.abort()


def _tiles_saved(dataset: TiledDataset, complete_only: int = 0) -> set[Tile]:
    """(row, column) of the tiles in the map; with ``complete_only`` N, only those
    with N images (every plane of the exploration)."""
    counts: dict[Tile, int] = {}
    for coordinates in dataset.get_image_coordinates_list():
        row, column = coordinates.get(ROW_AXIS), coordinates.get(COLUMN_AXIS)
        if isinstance(row, int) and isinstance(column, int):
            counts[row, column] = counts.get((row, column), 0) + 1
    return {tile for tile, n in counts.items() if n >= complete_only}
