"""The fonts of the PDFs: Noto Sans, with Noto fallbacks for the scripts it lacks.

Noto Sans (Latin, Greek, Cyrillic, Vietnamese) is the house face, in its regular and bold
weights (static instances in fonts/ beside this module, see infra/fonts.py and fonts/README.md).
Text in a script it lacks is drawn in a fallback: Noto Sans Arabic (fontpkg-noto-sans-arabic),
DejaVu Sans's Hebrew letters (fonts/, a subset of Debian's fonts-dejavu-core), then Noto Sans
CJK (noto-cjk-sans-jp-regular: Chinese, Japanese and Korean). A fallback is loaded the first
time a document needs one of its characters, so a document in Latin script never pays for
parsing a 16 MB CJK font. The fallbacks have one weight: bold text in them is drawn regular.

Every font is embedded as the subset of glyphs the document uses (fpdf2 subsets TrueType and
OpenType fonts). Text in a right-to-left script or with combining marks is shaped with HarfBuzz,
so Arabic is joined and laid right to left; other text is not, as shaping costs a third of a
document's rendering time and changes nothing in it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT = "NotoSans"
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
HOUSE_FACES = {"": FONTS_DIR / "NotoSans-Regular.ttf", "B": FONTS_DIR / "NotoSans-Bold.ttf"}


def _arabic() -> Path:
    import fontpkg_noto_sans_arabic

    return Path(fontpkg_noto_sans_arabic.ROOT) / "files" / "NotoSansArabic[wdth,wght].ttf"


def _cjk() -> Path:
    import noto_cjk_sans_jp_regular

    return Path(str(noto_cjk_sans_jp_regular.FONT_PATH))


@dataclass(frozen=True)
class Fallback:
    """A font for the characters the house face lacks; ``locate`` finds its file."""

    family: str
    locate: Callable[[], Path]


def _hebrew() -> Path:
    return FONTS_DIR / "DejaVuSans-Hebrew.ttf"


FALLBACKS = (
    Fallback("NotoSansArabic", _arabic),
    Fallback("DejaVuSansHebrew", _hebrew),
    Fallback("NotoSansCJK", _cjk),
)


def add_house_fonts(document: FPDF) -> None:
    """Registers the house face (regular and bold)."""
    for style, path in HOUSE_FACES.items():
        document.add_font(FONT, style, path)


def prepare(document: FPDF, text: str) -> None:
    """Before ``text`` is drawn: the fallbacks it needs loaded, shaping on if it needs it."""
    font = document.current_font
    if isinstance(font, TTFFont):
        for char in set(text) - {"\n"}:
            if ord(char) not in font.cmap:
                fallback_font(document, char, "")
    document.set_text_shaping(needs_shaping(text))


def needs_shaping(text: str) -> bool:
    """Right-to-left letters (Arabic, Hebrew, ...) or combining marks."""
    return any(
        unicodedata.bidirectional(char) in {"R", "AL"} or unicodedata.combining(char)
        for char in text
    )


def fallback_font(document: FPDF, char: str, style: str) -> str | None:
    """The key of the first fallback font that has ``char`` (loading it on first use), if any.

    Whatever ``style`` asks for: a fallback has one weight, parsed and embedded once."""
    for fallback in FALLBACKS:
        key = fallback.family.lower()
        if key not in document.fonts:
            document.add_font(fallback.family, "", fallback.locate())
            loaded = [f.family for f in FALLBACKS if f.family.lower() in document.fonts]
            document.set_fallback_fonts(loaded, exact_match=False)
        font = document.fonts[key]
        if isinstance(font, TTFFont) and ord(char) in font.cmap:
            return key
    return None
