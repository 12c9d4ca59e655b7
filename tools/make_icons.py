"""Render resources/icon/scopeflow.svg into the PNG sizes and the multi-size .ico.

Run after changing the SVG: ``python tools/make_icons.py``. Each size is rendered from
the vector drawing (not scaled down from the largest bitmap), so small icons stay sharp.
The PNGs and the .ico are committed: the app and the installer read them as files.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ICON_FOLDER = Path(__file__).resolve().parent.parent / "resources" / "icon"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # what Windows asks an .ico for


def render_png(svg: Path, size: int) -> bytes:
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PyQt6.QtGui import QGuiApplication, QImage, QPainter
    from PyQt6.QtSvg import QSvgRenderer

    _ = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG drawing")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def main() -> None:
    from PIL import Image

    svg = ICON_FOLDER / "scopeflow.svg"
    rendered = {size: render_png(svg, size) for size in PNG_SIZES}
    for size, png in rendered.items():
        (ICON_FOLDER / f"scopeflow-{size}.png").write_bytes(png)
    images = [Image.open(io.BytesIO(rendered[size])) for size in ICO_SIZES]
    largest = images[-1]
    largest.save(
        ICON_FOLDER / "scopeflow.ico",
        format="ICO",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=images[:-1],
    )
    print(f"Wrote {len(PNG_SIZES)} PNGs and scopeflow.ico ({', '.join(map(str, ICO_SIZES))})")


if __name__ == "__main__":
    main()
