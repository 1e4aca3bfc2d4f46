"""QR codes for the PDFs, made by segno: the module matrix of a text, ready to draw."""

from __future__ import annotations

import segno


def matrix(text: str, *, error: str = "m") -> list[list[bool]]:
    """The modules of ``text``'s QR code (True: dark), its quiet zone left out.

    Byte mode in UTF-8, at the given error correction level exactly (``m``, 15%, is what the
    EPC QR code prescribes), in the smallest version that holds it."""
    code = segno.make(text, error=error, micro=False, encoding="utf-8", boost_error=False)
    return [[bool(module) for module in row] for row in code.matrix_iter(border=0)]
