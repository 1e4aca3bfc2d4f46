"""QR codes for the PDFs and pages, made by segno: the module matrix of a text, ready to draw,
or an SVG image of it."""

from __future__ import annotations

import segno


def matrix(text: str, *, error: str = "m") -> list[list[bool]]:
    """The modules of ``text``'s QR code (True: dark), its quiet zone left out.

    Byte mode in UTF-8, at the given error correction level exactly (``m``, 15%, is what the
    EPC QR code prescribes), in the smallest version that holds it."""
    code = segno.make(text, error=error, micro=False, encoding="utf-8", boost_error=False)
    return [[bool(module) for module in row] for row in code.matrix_iter(border=0)]


def svg(text: str, *, title: str, error: str = "m", quiet: int = 4) -> str:
    """``text``'s QR code as an inline SVG element: one path of unit squares, a white quiet zone
    of ``quiet`` modules, scaled by its container (``title`` for screen readers, escaped)."""
    from html import escape

    modules = matrix(text, error=error)
    size = len(modules) + 2 * quiet
    dark = "".join(
        f"M{x + quiet} {y + quiet}h1v1h-1z"
        for y, row in enumerate(modules)
        for x, module in enumerate(row)
        if module
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><title>{escape(title)}</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{dark}" fill="#000"/></svg>'
    )
