"""XYTiledAcquisition: pycro-manager's tiled acquisition, in one process, without Java.

Events name tiles with ``row`` and ``column`` axes; each gets its stage position from
the grid (``tiles.TileLayout``: tile (0, 0) where the stage is when the acquisition
starts) unless it gives ``x`` and ``y`` itself. Images are saved as pycro-manager
saves a tiled acquisition (``TiledNDTiffSink``): a multi-resolution NDTiff pyramid
whose summary metadata holds the overlap, so ``ndtiff`` stitches it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from app.acquisition.acquisition import DEFAULT_NAME, Acquisition, ProcessorLike
from app.acquisition.tiles import TileLayout, parse_overlap
from app.storage.sink import ImageSink
from app.storage.tiled_ndtiff_sink import TiledNDTiffSink


class XYTiledAcquisition(Acquisition):
    """Tiles of a region larger than one field of view, saved as one stitchable map.

    Positional arguments follow pycro-manager's ``XYTiledAcquisition`` in its order:
    ``tile_overlap`` (pixels: an int, or ``(x, y)`` as pycro-manager takes it),
    ``directory``, ``name``, ``max_multi_res_index`` (the most downsampled levels the
    pyramid gets: 0 for none; by default as many as the map's size needs), then
    ``image_process_fn``, the hooks, ``show_display``, ``image_saved_fn``... Every
    keyword ``Acquisition`` takes is taken here too. The map needs a directory, an XY
    stage and a calibrated pixel size; without one the error says which.

    ``layout`` (a ``TileLayout``) converts between tiles, stitched pixels and stage
    positions. Scopeflow adds the keyword ``layout=``: a grid to use instead of one
    starting where the stage is (going on with a saved map, whose tiles must keep
    their places); ``summary_extra=``: entries added to the map's summary metadata.
    """

    def __init__(
        self,
        tile_overlap: int | tuple[int, int],
        directory: str | os.PathLike[str] | None = None,
        name: str | None = None,
        max_multi_res_index: int | None = None,
        image_process_fn: ProcessorLike | Sequence[ProcessorLike] | None = None,
        pre_hardware_hook_fn: Callable[..., Any] | None = None,
        post_hardware_hook_fn: Callable[..., Any] | None = None,
        post_camera_hook_fn: Callable[..., Any] | None = None,
        show_display: bool = True,
        image_saved_fn: Callable[..., Any] | None = None,
        saving_queue_size: int | None = None,
        timeout: Any = None,
        port: Any = None,
        debug: bool = False,
        *,
        layout: TileLayout | None = None,
        summary_extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.tile_overlap = parse_overlap(tile_overlap)
        if layout is not None and (layout.overlap_x, layout.overlap_y) != self.tile_overlap:
            raise ValueError(
                f"tile_overlap {self.tile_overlap} is not the layout's "
                f"({layout.overlap_x}, {layout.overlap_y})"
            )
        self._given_layout = layout
        self._summary_extra = dict(summary_extra or {})
        if max_multi_res_index is not None and (
            not isinstance(max_multi_res_index, int) or max_multi_res_index < 0
        ):
            raise ValueError(
                f"max_multi_res_index must be an int, 0 or more, got {max_multi_res_index!r}"
            )
        self.max_multi_res_index = max_multi_res_index
        storage = kwargs.get("storage")
        if directory is None and not isinstance(storage, ImageSink):
            raise ValueError(
                "XYTiledAcquisition saves a multi-resolution NDTiff map: give directory= "
                "(the folder to save it in)"
            )
        if isinstance(storage, str) and storage != "ndtiff":
            raise ValueError(f"XYTiledAcquisition saves NDTiff only, not storage={storage!r}")
        if isinstance(storage, str):
            del kwargs["storage"]  # "ndtiff": what the tiled sink writes
        super().__init__(
            directory,
            name if name is not None else DEFAULT_NAME,
            image_process_fn,
            pre_hardware_hook_fn=pre_hardware_hook_fn,
            post_hardware_hook_fn=post_hardware_hook_fn,
            post_camera_hook_fn=post_camera_hook_fn,
            show_display=show_display,
            image_saved_fn=image_saved_fn,
            saving_queue_size=saving_queue_size,
            timeout=timeout,
            port=port,
            debug=debug,
            **kwargs,
        )

    def _make_sink(
        self,
        storage: str | ImageSink | None,
        directory: str | os.PathLike[str] | None,
        name: str,
        ram_limit_gb: float | None,
    ) -> ImageSink:
        # the grid is fixed now: tile (0, 0) where the stage is as the acquisition starts
        self.layout = self._given_layout or TileLayout.from_core(self.core, self.tile_overlap)
        if isinstance(storage, ImageSink):
            return storage
        assert directory is not None  # checked in __init__
        summary = {
            **self._summary_metadata(),
            **self.layout.summary_metadata(),
            **self._summary_extra,
        }
        return TiledNDTiffSink.create(
            directory, name, summary, self.tile_overlap, self.max_multi_res_index
        )

    def _event_placement(self) -> Callable[[dict[str, Any]], dict[str, Any]]:
        return self.layout.place
