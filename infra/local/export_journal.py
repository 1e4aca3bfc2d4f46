"""`make journal`: run the nightly journal export on the running local stack.

moto's Scheduler never fires, so ``export_journal`` never runs locally on its own. This runs the
same use case (``functions.ledger.export.export_day``) in this process against the stack's moto,
as ``make snapshot`` does for the report snapshot; the file lands in the local documents bucket
as ``journal/YYYY/MM/DD.csv``.

    python -m infra.local.export_journal [--day YYYY-MM-DD] [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from infra.local.collect import READY_FILE, NoStackError
from infra.local.snapshot import NO_STACK, connect, yesterday


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.export_journal",
        description="Export a day's journal to S3 on the running local stack.",
    )
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        help="the day to export (default: yesterday, UTC, as the nightly run takes)",
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

    from functions.ledger.export import export_day

    print(json.dumps(export_day(args.day or yesterday()), indent=2), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
