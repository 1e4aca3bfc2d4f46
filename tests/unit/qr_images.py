"""QR codes read back by a decoder (zxing-cpp): modules drawn as a grey image, or an SVG's."""

from __future__ import annotations

import re

import zxingcpp


def image(modules: list[list[bool]], *, scale: int = 4, quiet: int = 4) -> memoryview:
    """An 8-bit grey image of the modules (black on white, with the quiet zone around)."""
    count = len(modules)
    side = (count + 2 * quiet) * scale
    pixels = bytearray()
    for y in range(side):
        for x in range(side):
            row, column = y // scale - quiet, x // scale - quiet
            dark = 0 <= row < count and 0 <= column < count and modules[row][column]
            pixels.append(0 if dark else 255)
    return memoryview(bytes(pixels)).cast("B", shape=[side, side])


def svg_modules(svg: str) -> list[list[bool]]:
    """The modules an SVG of functions.rendering.qr_code.svg draws (its quiet zone included)."""
    [size] = re.findall(r'viewBox="0 0 (\d+) \1"', svg)
    modules = [[False] * int(size) for _ in range(int(size))]
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg):
        modules[int(y)][int(x)] = True
    return modules


def decode(modules: list[list[bool]]) -> zxingcpp.Barcode | None:
    return zxingcpp.read_barcode(image(modules))
