"""`make lake-backfill`: write the running local stack's books into its lake, once.

A stack created before the lake has books the landing worker never saw. This runs the same use
case a deployed stack's operator runs (``functions.lake.backfill.backfill``) in this process,
against the stack's moto with its functions' environment: the rows land through the lake's
Firehose streams in the lake bucket, ``lake/<table>/dt=<day>/``. Landing twice is harmless (the
lake's readers keep one row per key).

    python -m infra.local.lake_backfill [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from infra.local.collect import READY_FILE, NoStackError
from infra.local.snapshot import NO_STACK, connect


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.lake_backfill",
        description="Write the running local stack's books into its lake.",
    )
    parser.add_argument("--ready-file", type=Path, default=READY_FILE)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    try:
        connect(args.ready_file)
    except NoStackError as error:
        print(error, file=sys.stderr)
        return NO_STACK
    from functions.lake.backfill import backfill

    print(json.dumps(backfill(), indent=2), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
