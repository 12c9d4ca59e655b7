"""``scopeflow bench tiles``: what the pyramid costs when tiles are saved.

A map's downsampled levels are written as its tiles arrive (``TiledNDTiffSink``). This
saves the same tiles (a snake over a square grid, each tile with content: noise, so no
writer is flattered) three ways, side by side and interleaved run after run: into a
tiled map with its pyramid, into a plain NDTiff dataset (``NDTiffSink``, the same
writer without a pyramid), and with a raw ``write()`` of the same bytes. Every
contender's clock stops once its files are on disk (an fsync of each). Reported: MB/s
of tiles, each reference's time over the tiled sink's (above 1: the tiled sink is
faster), the slowest tile's put (the saving thread's longest pause), and the bytes on
disk the pyramid adds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

import numpy as np

from app.bench.report import median
from app.bench.throughput import folder_bytes, sync_folder


def _tiles(size: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(90, 4000, size=(size, size), dtype=np.uint16) for _ in range(count)]


def _snake(side: int) -> list[tuple[int, int]]:
    return [
        (row, column)
        for row in range(side)
        for column in (range(side) if row % 2 == 0 else reversed(range(side)))
    ]


def _timed_puts(sink: Any, tiles: list[np.ndarray], side: int) -> dict[str, float]:
    """Put the tiles in a snake, then finish (which fsyncs): the seconds, and the
    slowest put."""
    slowest = 0.0
    start = time.perf_counter()
    for i, (row, column) in enumerate(_snake(side)):
        began = time.perf_counter()
        sink.put({"row": row, "column": column}, tiles[i % len(tiles)], {})
        slowest = max(slowest, time.perf_counter() - began)
    sink.finish()
    return {"seconds": time.perf_counter() - start, "slowest_s": slowest}


def _tiled(folder: str, tiles: list[np.ndarray], side: int, overlap: int) -> dict[str, float]:
    from app.storage.tiled_ndtiff_sink import TiledNDTiffSink

    sink = TiledNDTiffSink.create(folder, "map", {}, (overlap, overlap))
    timed = _timed_puts(sink, tiles, side)
    full = folder_bytes(str(sink.path / "Full resolution"))
    return {
        **timed,
        "pyramid": (folder_bytes(str(sink.path)) - full) / full,
        "levels": sink.dataset.levels,
    }


def _plain(folder: str, tiles: list[np.ndarray], side: int) -> dict[str, float]:
    from app.storage.ndtiff_sink import NDTiffSink

    return _timed_puts(NDTiffSink(folder, "plain", {}), tiles, side)


def _raw(folder: str, tiles: list[np.ndarray], side: int) -> dict[str, float]:
    path = os.path.join(folder, "raw.bin")
    start = time.perf_counter()
    with open(path, "wb") as file:
        for i in range(side * side):
            file.write(tiles[i % len(tiles)].data)
        file.flush()
        os.fsync(file.fileno())
    sync_folder(folder)
    return {"seconds": time.perf_counter() - start, "slowest_s": float("nan")}


def bench_tiles(
    size: int = 2048, side: int = 10, runs: int = 3, folder: str | None = None
) -> list[dict[str, Any]]:
    """``side`` x ``side`` tiles of ``size`` x ``size`` uint16, 10% overlap."""
    tiles = _tiles(size, 4)
    overlap = size // 10
    megabytes = side * side * tiles[0].nbytes / 1e6
    results: dict[str, list[dict[str, float]]] = {"tiled": [], "plain": [], "raw": []}
    for _ in range(runs):
        for name in results:
            scratch = tempfile.mkdtemp(prefix=f"scopeflow-bench-{name}-", dir=folder)
            try:
                if name == "tiled":
                    results[name].append(_tiled(scratch, tiles, side, overlap))
                elif name == "plain":
                    results[name].append(_plain(scratch, tiles, side))
                else:
                    results[name].append(_raw(scratch, tiles, side))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    seconds = {name: median([r["seconds"] for r in rows]) for name, rows in results.items()}
    tiled = results["tiled"]
    labels = {
        "tiled": "tiled map (NDTiff + pyramid)",
        "plain": "plain NDTiff, no pyramid",
        "raw": "raw write() + fsync",
    }
    rows = []
    for name, label in labels.items():
        rows.append(
            {
                "writer": label,
                "tiles": side * side,
                "MB/s": megabytes / seconds[name],
                "ratio": seconds[name] / seconds["tiled"],  # above 1: the tiled map is faster
                "slowest put (ms)": 1000 * median([r["slowest_s"] for r in results[name]]),
                "pyramid bytes / full resolution": (
                    median([r["pyramid"] for r in tiled]) if name == "tiled" else float("nan")
                ),
                "levels": tiled[0]["levels"] if name == "tiled" else 1,
            }
        )
    return rows
