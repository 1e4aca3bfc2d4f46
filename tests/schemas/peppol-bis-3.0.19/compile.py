"""Compile PEPPOL-EN16931-UBL.sch to PEPPOL-EN16931-UBL.xslt with the vendored SchXslt.

Run from the repository root: ``python tests/schemas/peppol-bis-3.0.19/compile.py``.
The tests load the compiled stylesheet; run this again only when the .sch is replaced.
"""

from __future__ import annotations

from pathlib import Path

from saxonche import PySaxonProcessor

HERE = Path(__file__).parent
PIPELINE = HERE.parent / "schxslt-1.10.1" / "xslt" / "2.0" / "pipeline-for-svrl.xsl"
SOURCE = HERE / "PEPPOL-EN16931-UBL.sch"
TARGET = HERE / "PEPPOL-EN16931-UBL.xslt"


def main() -> None:
    with PySaxonProcessor(license=False) as saxon:
        compiler = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(PIPELINE))
        compiled = compiler.transform_to_string(source_file=str(SOURCE))
    TARGET.write_text(compiled, encoding="utf-8")


if __name__ == "__main__":
    main()
