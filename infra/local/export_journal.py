"""`make journal`: run the nightly journal export on the running local stack.

moto's Scheduler never fires, so ``export_journal`` never runs locally on its own. This runs the
same use case (``functions.ledger.export.export_day``) in this process against the stack's moto,
as ``make snapshot`` does for the report snapshot; the file lands in the local documents bucket
as ``journal/YYYY/MM/DD.csv``.

    python -m infra.local.export_journal [--day YYYY-MM-DD] [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from infra.local.collect import READY_FILE
from infra.local.snapshot import run_day


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

    def export() -> Callable[[date], Any]:
        from functions.ledger.export import export_day

        return export_day

    return run_day(args.ready_file, args.day, export, out)


if __name__ == "__main__":
    sys.exit(main())
