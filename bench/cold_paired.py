"""Cold import of every Lambda entry point, this tree against an earlier commit, paired.

Wall-clock cold imports swing with whatever else the machine runs, so comparing two trees from
two runs says little. This bench times both in one run: an earlier commit is extracted beside
(``git archive``), each tree discovers its own entry points (its bench/cold_import.py reads its
own app.py), and for every entry point both trees run in alternation, round after round, in
fresh interpreters under Lambda's environment. The figure is the CPU time of the process
(``time.process_time``), which a busy neighbour does not inflate; each tree's floor (boto3 and one
client) is timed the same way, so the ratios sit beside their baseline.

    python -m bench.cold_paired --before REV [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from bench.cold_import import FLOOR_STATEMENTS, REPO_ROOT, lambda_environment

FLOOR = "floor"
ROUNDS = 5
_DISCOVER = (
    "import json; from bench.cold_import import discover_entry_points as d; "
    "print(json.dumps({e.name: list(e.statements) for e in d()}))"
)


@dataclass(frozen=True)
class Paired:
    target: str
    before_ms: float
    after_ms: float


def extract(revision: str, into: Path) -> Path:
    """The tree of ``revision`` written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def entry_points(tree: Path) -> dict[str, list[str]]:
    """Each entry point's import statements, as the tree's own bench discovers them."""
    found = subprocess.run(
        [sys.executable, "-c", _DISCOVER], cwd=tree, capture_output=True, text=True, check=True
    )
    statements: dict[str, list[str]] = json.loads(found.stdout.splitlines()[-1])
    return {FLOOR: list(FLOOR_STATEMENTS), **statements}


def cpu_ms(tree: Path, statements: Sequence[str]) -> float:
    """The process CPU time of ``statements`` in a fresh interpreter in ``tree``."""
    script = "\n".join(
        [
            "import time",
            "_start = time.process_time()",
            *statements,
            "print((time.process_time() - _start) * 1000.0)",
        ]
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tree,
        env=lambda_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(ran.stdout.splitlines()[-1])


def measure(before: str, rounds: int = ROUNDS) -> list[Paired]:
    """Every entry point both trees have, timed in alternation (one warm-up round dropped)."""
    with tempfile.TemporaryDirectory(prefix="cold-before-") as folder:
        trees = (extract(before, Path(folder)), REPO_ROOT)
        found = [entry_points(tree) for tree in trees]
        targets = [name for name in found[1] if name in found[0]]
        samples: dict[tuple[str, int], list[float]] = {}
        for round_ in range(rounds + 1):
            for target in targets:
                order = (0, 1) if round_ % 2 else (1, 0)
                for side in order:
                    taken = cpu_ms(trees[side], found[side][target])
                    if round_:
                        samples.setdefault((target, side), []).append(taken)
    return [
        Paired(
            target,
            statistics.median(samples[(target, 0)]),
            statistics.median(samples[(target, 1)]),
        )
        for target in targets
    ]


def table(before: str, rows: Sequence[Paired]) -> str:
    floor = next(row for row in rows if row.target == FLOOR)
    lines = [
        f"| Entry point | {before} ms | x floor | this tree ms | x floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.target} | {row.before_ms:.0f} | {row.before_ms / floor.before_ms:.2f} "
            f"| {row.after_ms:.0f} | {row.after_ms / floor.after_ms:.2f} |"
        )
    slower = [
        row.target
        for row in rows
        if row.target != FLOOR
        and row.after_ms / floor.after_ms > row.before_ms / floor.before_ms * 1.05
    ]
    lines += ["", f"Slower by more than 5 % of their ratio: {', '.join(slower) or 'none'}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_paired", description=__doc__)
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    options = parser.parse_args(argv)
    print(table(options.before, measure(options.before, options.rounds)))


if __name__ == "__main__":
    main()
