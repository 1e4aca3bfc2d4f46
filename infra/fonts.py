"""``python -m infra.fonts``: the static Noto Sans the PDFs embed, made from the fontpkg-noto-sans
wheel's variable font (OFL-1.1) and committed in functions/rendering/fonts/.

fpdf2 can instantiate a variable font itself, but that takes seconds per weight on every cold
start; the two weights the house style uses are instantiated here once instead (wdth 100, wght
400 and 700), so a Lambda loads a plain TrueType file in milliseconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import fontpkg_noto_sans
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

TARGET = Path(__file__).resolve().parents[1] / "functions" / "rendering" / "fonts"
VARIABLE = fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf"
WEIGHTS = {"NotoSans-Regular.ttf": 400, "NotoSans-Bold.ttf": 700}


def build(target: Path = TARGET) -> list[Path]:
    written = []
    for name, weight in WEIGHTS.items():
        static = instancer.instantiateVariableFont(
            TTFont(VARIABLE), {"wght": weight, "wdth": 100}, updateFontNames=True
        )
        static.save(target / name)
        written.append(target / name)
    return written


if __name__ == "__main__":
    for path in build():
        print(path, path.stat().st_size)
    sys.exit(0)
