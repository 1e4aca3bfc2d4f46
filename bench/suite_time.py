"""The test suite's wall time: ``make test``'s pytest run, timed, with its slowest tests.

Runs the README's test command's pytest step (``pytest -n 2``, the two workers of the two-core
machine the suite is sized for) in a process of its own and reads its closing line and
``--durations`` report: the wall time, the counts, and where the time goes (setup or call of the
slowest tests). Lint and type checks (ruff, mypy) run before it in ``make test`` and take about a
minute; they are not timed here.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWEST = 15
TARGET_SECONDS = 8 * 60  # issue "Lean": make test <= 8 min alone on two cores
_SUMMARY = re.compile(r"(?P<summary>\d+ (?:passed|failed)[^=]*?) in (?P<seconds>[\d.]+)s")
_FAILED = re.compile(r"^(?:FAILED|ERROR) (?P<test>\S+)")
_DURATION = re.compile(r"^(?P<seconds>[\d.]+)s (?P<phase>setup|call|teardown)\s+(?P<test>\S+)")


@dataclass(frozen=True)
class Slow:
    seconds: float
    phase: str
    test: str


@dataclass(frozen=True)
class Run:
    wall_seconds: float
    pytest_seconds: float
    summary: str
    slowest: list[Slow]
    returncode: int
    failed: list[str]


def failures(output: str) -> list[str]:
    """The tests pytest's short summary (``-rfE``) names as failed or in error."""
    return [found["test"] for line in output.splitlines() if (found := _FAILED.match(line))]


def parse(output: str) -> tuple[str, float, list[Slow]]:
    """pytest's closing summary, its own time, and its ``--durations`` lines."""
    summary, seconds = "", 0.0
    for line in output.splitlines():
        if found := _SUMMARY.search(line):
            summary, seconds = found["summary"], float(found["seconds"])
    slowest = [
        Slow(float(found["seconds"]), found["phase"], found["test"])
        for line in output.splitlines()
        if (found := _DURATION.match(line.strip()))
    ]
    return summary, seconds, slowest


def measure(workers: int = 2) -> Run:
    command = [sys.executable, "-m", "pytest", "-n", str(workers), "-q"]
    command += [f"--durations={SLOWEST}", "-rfE", "-p", "no:cacheprovider"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    summary, seconds, slowest = parse(done.stdout)
    return Run(wall, seconds, summary, slowest, done.returncode, failures(done.stdout))


def table(run: Run) -> str:
    lines = [
        "| Figure | Value |",
        "|---|---:|",
        f"| pytest wall time (s) | {run.wall_seconds:.0f} |",
        f"| pytest's own figure (s) | {run.pytest_seconds:.0f} |",
        f"| target (s) | {TARGET_SECONDS} |",
        f"| result | {run.summary or 'no summary'} (exit {run.returncode}) |",
        *(f"| failed | `{test}` |" for test in run.failed),
        "",
        "| Slowest | Phase | Seconds |",
        "|---|---|---:|",
        *(f"| `{slow.test}` | {slow.phase} | {slow.seconds:.1f} |" for slow in run.slowest),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.suite_time", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    print(table(measure(options.workers)))


if __name__ == "__main__":
    main()
