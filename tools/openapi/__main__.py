"""``python -m tools.openapi [--check]``: write openapi.yaml, or exit 1 when it is not current."""

from __future__ import annotations

import argparse
import sys

from tools.openapi.build import DOCUMENT, OVERLAY, document, read
from tools.openapi.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render(document(read(OVERLAY)))
    if not args.check:
        DOCUMENT.write_text(text)
        return 0
    if DOCUMENT.read_text() == text:
        return 0
    print(f"{DOCUMENT.name} is not what `make openapi` generates; run it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
