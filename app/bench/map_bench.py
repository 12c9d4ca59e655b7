"""``scopeflow bench map``: drawing a tiled map of many tiles, zoomed out.

A synthetic map (default 20 x 20 tiles of 512x512 uint16 camera images, 32 pixels of
overlap, one plane) is written with the tiled NDTiff writer into a temporary folder
and opened from disk, as File > Open dataset opens it. Then, each the median of
several runs:

- a redraw of the whole map zoomed out to fit a viewer area of 1200x900 screen pixels
  (``screen=``): what the map view's worker thread does (choose the level,
  read the tiles under the view, map them to 8 bits: ``processing/map_render.py``);
  beside reading the same number of bytes with one ``np.fromfile`` (the floor for any
  reader of those bytes), and beside drawing the same view from full resolution (every
  tile read, one pixel in k kept), what a viewer without a pyramid would do;
- the paint of that result on the GUI thread (set the image, repaint the viewer), when
  the caller gives a ``paint`` function (Qt lives in ``app/ui``: ``map_benchmark.py``);
- a redraw zoomed in, one map pixel per screen pixel, beside ``np.fromfile`` of its
  bytes.

The first redraw of each kind is reported too: it opens the tiles' files. Files are in
the page cache for every contender (they were just written): these are not disk reads.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.bench.report import median
from app.processing.channel_display import ChannelDisplay
from app.processing.contrast import robust_levels, to_uint8
from app.processing.display import DisplaySettings
from app.processing.map_render import (
    MapRequest,
    RenderedMap,
    map_bounds,
    map_pixels_per_screen_pixel,
    render_map,
)
from app.storage.tile_pyramid import Region, tiles_of
from app.storage.tiled_dataset import TiledDataset
from app.storage.tiled_ndtiff_sink import TiledNDTiffSink

TARGET_MS = 50.0  # issue 19: a zoomed-out redraw of a map of 400 tiles
#: the GUI thread's part: ms for each run, painting ``frame`` on ``screen`` pixels
PaintTimer = Callable[[RenderedMap, tuple[int, int], int], list[float]]


def write_synthetic_map(
    folder: str | Path, tiles: int, size: int, overlap: int, seed: int = 0
) -> Path:
    """A ``tiles`` x ``tiles`` map of ``size`` x ``size`` uint16 camera images overlapping
    by ``overlap`` pixels, with content in every pixel (noise and an offset per tile:
    nothing a reader could skip); the dataset's folder."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 1000, (size, size), dtype=np.uint16)
    sink = TiledNDTiffSink.create(folder, "bench_map", {"PixelSize_um": 1.0}, (overlap, overlap))
    try:
        for row in range(tiles):
            for column in range(tiles):
                tile = np.roll(noise, row * 7 + column * 13, axis=1) + np.uint16(
                    100 * ((row + column) % 20)
                )
                sink.put({"row": row, "column": column}, tile, {"BitDepth": 16})
    finally:
        sink.finish()
    return sink.path


def _timed(work: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """ms of each run of ``work``, and its last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(1000 * (time.perf_counter() - start))
    return times, result


def _bytes_read(dataset: TiledDataset, frame: RenderedMap) -> int:
    """What a redraw read: every tile of its level under the region drawn."""
    height, width = frame.image.shape
    scale = int(frame.placement.scale)
    x0, y0 = int(frame.placement.x) // scale, int(frame.placement.y) // scale
    region = Region(y0, y0 + height, x0, x0 + width)
    tile_h, tile_w = dataset.tile_shape
    count = sum(1 for _ in tiles_of(region, dataset.tile_shape))
    return count * tile_h * tile_w * dataset.dtype.itemsize


def _fromfile_ms(folder: Path, nbytes: int, runs: int) -> float:
    """One ``np.fromfile`` of ``nbytes`` (from the page cache, as the map's tiles)."""
    path = folder / "reference.bin"
    np.arange(nbytes // 2, dtype=np.uint16).tofile(path)
    np.fromfile(path, np.uint16)  # in the page cache, as the tiles are
    times, _ = _timed(lambda: np.fromfile(path, np.uint16), runs)
    path.unlink()
    return median(times)


def _full_resolution(dataset: TiledDataset, bounds: Region, stride: int) -> np.ndarray:
    """The view drawn without a pyramid: every full-resolution tile, one pixel in
    ``stride`` kept, mapped to 8 bits."""
    image = dataset.read_region(0, {}, bounds.y0, bounds.y1, bounds.x0, bounds.x1)
    shown = image[::stride, ::stride]
    return to_uint8(shown, *robust_levels(shown))


def bench_map(
    tiles: int = 20,
    size: int = 512,
    overlap: int = 32,
    screen: tuple[int, int] = (1200, 900),
    runs: int = 11,
    reference_runs: int = 3,
    folder: str | None = None,
    paint: PaintTimer | None = None,
) -> list[dict[str, Any]]:
    """The table's rows (see the module's docstring); the map is written under
    ``folder`` (default: the temporary folder) and removed."""
    work = Path(tempfile.mkdtemp(prefix="scopeflow-map-bench-", dir=folder))
    try:
        dataset = TiledDataset.open(write_synthetic_map(work, tiles, size, overlap))
        try:
            return _measure(dataset, work, screen, runs, reference_runs, paint)
        finally:
            dataset.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _views(bounds: Region, screen: tuple[int, int]) -> tuple[MapRequest, MapRequest]:
    """The whole map fitted to the screen (the view takes the screen's aspect, as the
    viewer's does), and one map pixel per screen pixel in its middle."""
    width, height = screen
    per = max((bounds.x1 - bounds.x0) / width, (bounds.y1 - bounds.y0) / height)
    cx, cy = (bounds.x0 + bounds.x1) / 2, (bounds.y0 + bounds.y1) / 2

    def around(per_pixel: float) -> tuple[float, float, float, float]:
        half_w, half_h = per_pixel * width / 2, per_pixel * height / 2
        return cx - half_w, cy - half_h, cx + half_w, cy + half_h

    return MapRequest({}, around(per), screen), MapRequest({}, around(1.0), screen)


def _measure(
    dataset: TiledDataset,
    work: Path,
    screen: tuple[int, int],
    runs: int,
    reference_runs: int,
    paint: PaintTimer | None,
) -> list[dict[str, Any]]:
    bounds = map_bounds(dataset)
    assert bounds is not None
    whole, zoomed = _views(bounds, screen)
    results, frame = _redraw(dataset, "whole map, zoomed out", whole, work, runs)
    stride = max(1, int(map_pixels_per_screen_pixel(whole.view, screen)))
    full, _ = _timed(lambda: _full_resolution(dataset, bounds, stride), reference_runs)
    reference = "the same view from full resolution (no pyramid)"
    results.append({**results[0], "reference": reference, "ref ms": median(full)})
    if paint is not None:
        painted = paint(frame, screen, runs)
        results.append(
            {
                "redraw": "whole map, zoomed out: its paint on the GUI thread",
                "level": frame.level,
                "drawn px": results[0]["drawn px"],
                "MB read": 0.0,
                "median ms": median(painted),
                "first ms": painted[0],
                "target ms": float("nan"),
                "reference": "-",
                "ref ms": float("nan"),
            }
        )
    results += _redraw(dataset, "zoomed in 1:1", zoomed, work, runs)[0]
    for row in results:
        row["ratio"] = row["ref ms"] / row["median ms"]  # above 1: the map's redraw is faster
    return results


def _redraw(
    dataset: TiledDataset, name: str, request: MapRequest, work: Path, runs: int
) -> tuple[list[dict[str, Any]], RenderedMap]:
    """The redraw of ``request`` (the worker thread's part) beside ``np.fromfile`` of the
    bytes it read; the row, and what it drew."""
    channels, settings = ChannelDisplay(), DisplaySettings()

    def redraw() -> RenderedMap | None:
        return render_map(dataset, request, channels, settings)

    first, _ = _timed(redraw, 1)
    times, frame = _timed(redraw, runs)
    nbytes = _bytes_read(dataset, frame)
    row = {
        "redraw": name,
        "level": frame.level,
        "drawn px": f"{frame.display.shape[1]}x{frame.display.shape[0]}",
        "MB read": nbytes / 1e6,
        "median ms": median(times),
        "first ms": first[0],
        "target ms": TARGET_MS,
        "reference": "np.fromfile, same bytes",
        "ref ms": _fromfile_ms(work, nbytes, runs),
    }
    return [row], frame
