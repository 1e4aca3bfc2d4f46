"""`make snapshot`: take the nightly report snapshot on the running local stack.

moto's Scheduler never fires, so ``run_reports`` never runs locally on its own. This runs the
same use case (``functions.reporting.snapshot.take``) in this process, against the stack's moto
(its URL from the file ``make run`` writes, build/local-stack.json), with the environment the
stack's functions get. The objects land in the local documents bucket under
``reports/<kind>/dt=<day>/``, and ``GET /reports/aging`` then answers the snapshot.

    python -m infra.local.snapshot [--day YYYY-MM-DD] [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3

from infra.local import stack
from infra.local.collect import READY_FILE, NoStackError
from infra.local.server import point_at_moto

NO_STACK = 2  # exit code: no running stack found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.snapshot",
        description="Take the nightly report snapshot on the running local stack.",
    )
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        help="the day to snapshot (default: yesterday, UTC, as the nightly run takes)",
    )
    parser.add_argument("--ready-file", type=Path, default=READY_FILE)
    return parser.parse_args(argv)


def moto_url(ready_file: Path) -> str:
    try:
        return str(json.loads(ready_file.read_text())["moto_url"])
    except FileNotFoundError:
        raise NoStackError(
            f"no local stack found: {ready_file} is missing. Start one with `make run`."
        ) from None
    except (ValueError, KeyError) as error:
        raise NoStackError(f"{ready_file} is not the stack's JSON ({error})") from None


def connect(ready_file: Path) -> None:
    """Point this process at the running stack's moto, with its functions' environment
    (``NoStackError`` when no stack runs)."""
    point_at_moto(moto_url(ready_file))
    session = boto3.session.Session(region_name=stack.REGION)
    described = session.client("cloudformation").describe_stacks(StackName=stack.STACK_NAME)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}
    stack.apply_environment(stack.environment(outputs))


def yesterday() -> date:
    """The day a nightly run takes: yesterday, UTC."""
    return datetime.now(UTC).date() - timedelta(days=1)


def run_day(
    ready_file: Path,
    day: date | None,
    job: Callable[[], Callable[[date], Any]],
    out: TextIO,
) -> int:
    """Run a nightly job for ``day`` (default yesterday) on the running stack, print its answer.

    ``job`` imports the use case once the stack's environment is set (the app reads it)."""
    try:
        connect(ready_file)
    except NoStackError as error:
        print(error, file=sys.stderr)
        return NO_STACK
    print(json.dumps(job()(day or yesterday()), indent=2), file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)

    def take() -> Callable[[date], Any]:
        from functions.reporting.snapshot import take

        return take

    return run_day(args.ready_file, args.day, take, out)


if __name__ == "__main__":
    sys.exit(main())
