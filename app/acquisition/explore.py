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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymmcore_plus import CMMCorePlus

from app.acquisition.notifications import AcqNotification, ImageMilestone
from app.acquisition.state import RunState
from app.acquisition.tiled_acquisition import XYTiledAcquisition
from app.acquisition.tiles import COLUMN_AXIS, ROW_AXIS, TileLayout, TilingError, pixel_affine
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

    def describe(self) -> str:
        """What each tile is acquired with, in a line (the Explore window shows it)."""
        channels = ", ".join(
            f"{c.preset}" + (f" {c.exposure_ms:g} ms" if c.exposure_ms is not None else "")
            for c in self.channels
        ) or "the current channel" + (
            f", {self.exposure_ms:g} ms" if self.exposure_ms is not None else ""
        )
        z = self.z_positions
        planes = (
            f"Z {min(z):g} to {max(z):g} µm ({len(z)} planes)" if len(z) > 1
            else f"Z {z[0]:g} µm" if z else "the current Z"
        )  # fmt: skip
        return (
            f"Each tile: {channels} · {planes} · overlap {self.overlap[0]} x {self.overlap[1]} px"
        )

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


class ExplorationEndedError(RuntimeError):
    """Tiles were asked for after the exploration ended (stopped, closed, failed)."""


class TileProgress:
    """Which tiles were asked for, which images of each are saved, and which events
    are still on their way, from the acquisition's notifications (on the notification
    thread). Kept as they come, so the window's questions ("which tiles are queued?")
    never read the dataset's index again.

    Every event ends in IMAGE_SAVED or IMAGE_NOT_SAVED for its axes (a hook or a
    processor that drops it, a failed snap, an abort), so a tile is on its way exactly
    while one of its events has not ended.
    """

    def __init__(self, planes: int) -> None:
        self.planes = max(1, planes)
        self._lock = threading.Lock()
        self._asked: set[Tile] = set()
        self._saved: dict[Tile, set[frozenset[tuple[str, Any]]]] = {}
        self._open: dict[frozenset[tuple[str, Any]], Tile] = {}

    def saved_before(self, coordinates: Iterable[dict[str, Any]]) -> None:
        """The images a reopened map holds; tiles with every plane count as asked."""
        for axes in coordinates:
            self._note_saved(axes)
        with self._lock:
            self._asked.update(t for t, p in self._saved.items() if len(p) >= self.planes)

    def _note_saved(self, axes: dict[str, Any]) -> None:
        tile = _tile_of(axes)
        if tile is not None:
            plane = frozenset((k, v) for k, v in axes.items() if k not in _TILE_AXES)
            with self._lock:
                self._saved.setdefault(tile, set()).add(plane)

    def ask(self, tiles: Iterable[Tile], events: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self._asked.update(tiles)
            for event in events:
                tile = _tile_of(event["axes"])
                if tile is not None:
                    self._open[frozenset(event["axes"].items())] = tile

    def note(self, notification: AcqNotification) -> None:
        """The acquisition's notification listener."""
        milestone = notification.milestone
        if milestone not in (ImageMilestone.IMAGE_SAVED, ImageMilestone.IMAGE_NOT_SAVED):
            return
        axes = notification.payload
        if not isinstance(axes, dict):
            return
        if milestone == ImageMilestone.IMAGE_SAVED:
            self._note_saved(axes)
        with self._lock:
            self._open.pop(frozenset(axes.items()), None)

    def asked(self, tile: Tile) -> bool:
        with self._lock:
            return tile in self._asked

    def on_their_way(self) -> set[Tile]:
        with self._lock:
            return set(self._open.values())

    def acquired(self) -> set[Tile]:
        """Tiles with at least one image saved."""
        with self._lock:
            return set(self._saved)


class Exploration:
    """One map being explored: tiles asked for by place, the stage moved on the map."""

    def __init__(
        self, acquisition: XYTiledAcquisition, settings: ExploreSettings, progress: TileProgress
    ) -> None:
        """Made by ``start`` and ``resume`` (``progress`` must be the acquisition's
        notification listener)."""
        self.acquisition = acquisition
        self.settings = settings
        self.progress = progress
        self._asking = threading.Lock()

    @staticmethod
    def _listening(
        progress: TileProgress, kwargs: dict[str, Any]
    ) -> Callable[[AcqNotification], None]:
        """``progress`` hears the notifications, and so does the caller's listener."""
        theirs = kwargs.pop("notification_callback_fn", None)
        if theirs is None:
            return progress.note

        def both(notification: AcqNotification) -> None:
            progress.note(notification)
            theirs(notification)

        return both

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
        progress = TileProgress(len(settings.events((0, 0))))
        acquisition = XYTiledAcquisition(
            settings.overlap,
            directory,
            name,
            core=core,
            summary_extra={SUMMARY_KEY: settings.to_json()},
            notification_callback_fn=cls._listening(progress, acquisition_kwargs),
            **acquisition_kwargs,
        )
        return cls(acquisition, settings, progress)

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
        coordinates = saved.get_image_coordinates_list()
        saved.close()
        if isinstance(recorded, dict):
            settings = ExploreSettings.from_json(recorded)
        _check_same_camera(core, layout)
        overlap = (layout.overlap_x, layout.overlap_y)
        kept = ExploreSettings(
            overlap, settings.channels, settings.z_positions, settings.exposure_ms
        )
        progress = TileProgress(len(kept.events((0, 0))))
        progress.saved_before(coordinates)
        acquisition = XYTiledAcquisition(
            overlap,
            storage=TiledNDTiffSink.resume(path),
            layout=layout,
            core=core,
            notification_callback_fn=cls._listening(progress, acquisition_kwargs),
            **acquisition_kwargs,
        )
        return cls(acquisition, kept, progress)

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
        return self.progress.asked(tile)

    def pending(self) -> set[Tile]:
        """Tiles with an event still on its way (the map shows them as queued); none
        once the acquisition is over, whatever happened to them."""
        if self.acquisition.is_finished():
            return set()
        return self.progress.on_their_way()

    def acquired(self) -> set[Tile]:
        """Tiles with at least one image saved."""
        return self.progress.acquired()

    def acquire(self, tiles: Iterable[Tile]) -> list[Tile]:
        """Queue the tiles not asked for before, in the order given, and return them;
        a tile a reopened map holds in part gets only its missing planes.
        ``ExplorationEndedError`` once the exploration is over."""
        status = self.acquisition.status
        if status.is_over or status.state is RunState.FINISHING:
            raise ExplorationEndedError(
                f"The exploration has ended ({status.reason}): Acquire > Go on exploring "
                "the map shown adds tiles to the map"
            )
        with self._asking:
            new = [t for t in dict.fromkeys(tiles) if not self.progress.asked(t)]
            if not new:
                return []
            dataset = self.dataset
            events = [
                event
                for tile in new
                for event in self.settings.events(tile)
                if not dataset.has_image(**event["axes"])
            ]
            self.progress.ask(new, events)
            if events:
                self.acquisition.acquire(events)
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
        busy = self.pending()
        if busy:
            raise StageBusyError(
                f"The stage is busy with {len(busy)} tile(s) being acquired: "
                "double-click again when they are done"
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


_TILE_AXES = (ROW_AXIS, COLUMN_AXIS)


def _tile_of(axes: dict[str, Any]) -> Tile | None:
    row, column = axes.get(ROW_AXIS), axes.get(COLUMN_AXIS)
    if isinstance(row, int) and isinstance(column, int):
        return row, column
    return None


def _check_same_camera(core: CMMCorePlus, layout: TileLayout) -> None:
    """New tiles must land where the map says: the same image size, and the same
    micrometres per pixel (an objective changed since would misplace them)."""
    if (layout.width, layout.height) != (core.getImageWidth(), core.getImageHeight()):
        raise TilingError(
            f"This map's tiles are {layout.width}x{layout.height} px and the camera's "
            f"images {core.getImageWidth()}x{core.getImageHeight()}: set the camera as "
            "it was (binning, ROI) to go on with it"
        )
    now = pixel_affine(core)
    scale_map, scale_now = math.hypot(*layout.affine[:2]), math.hypot(*now[:2])
    if not math.isclose(scale_map, scale_now, rel_tol=0.01):
        raise TilingError(
            f"This map was acquired at {scale_map:g} µm per pixel and the microscope is at "
            f"{scale_now:g} now: choose the objective it was acquired with to go on with it"
        )
