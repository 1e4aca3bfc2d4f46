"""Schemathesis over the whole API, as every role, with enough examples for every operation.

Runs the fuzzing tests of ``tests/e2e/test_fuzz_api.py`` (a local stack of their own) in a
pytest process of its own with larger counts than ``make test`` uses: per operation, role and
mode (valid, invalid) ``examples`` generated cases, and per role ``scenarios`` stateful scenarios
of up to ``steps`` linked calls. The tests write what they sent and what failed to a JSON file
(``OTC_FUZZ_REPORT``); this module turns it into a table: examples per operation (stateless and
stateful), and failures per kind: 5xx, answers that do not match openapi.yaml, invalid requests
accepted, errors that are not problem+json, writes on a rejection.

An operation with little input (GET /health has none) runs out of distinct cases before the
count: Hypothesis stops generating when it has tried every one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/e2e/test_fuzz_api.py"
SELECTED = "test_every_answer_is_a_success_or_a_problem or test_scenarios_following_the_links"
# 13 valid + 13 invalid cases from the admin alone: at least 25 per operation that has input.
DEFAULT_EXAMPLES = 13
DEFAULT_SCENARIOS = 25
DEFAULT_STEPS = 8
TARGET = 25  # examples per operation
SHOWN = 20  # failures quoted under the table
FAILURE_KINDS = (
    "5xx",
    "schema mismatch (status)",
    "schema mismatch (content type)",
    "schema mismatch (headers)",
    "schema mismatch (body)",
    "rejectable request accepted",
    "not a problem",
    "written on a rejection",
)


@dataclass(frozen=True)
class Run:
    examples: dict[str, dict[str, int]]  # per operation, per phase (stateless, stateful)
    failures: dict[str, int]  # per kind
    statuses: dict[str, int]  # answers per status code, over every operation and phase
    failed: list[str]  # what each failure says
    sent: int
    rejected: int
    tests_passed: int
    tests_failed: int
    seconds: float


def measure(
    examples: int = DEFAULT_EXAMPLES,
    scenarios: int = DEFAULT_SCENARIOS,
    steps: int = DEFAULT_STEPS,
) -> Run:
    """Run the fuzzing tests with these counts and read back what they sent and found."""
    with tempfile.TemporaryDirectory(prefix="otc-fuzz-") as workdir:
        report = Path(workdir) / "fuzz.json"
        junit = Path(workdir) / "junit.xml"
        env = {
            **os.environ,
            "OTC_FUZZ_EXAMPLES": str(examples),
            "OTC_FUZZ_SCENARIOS": str(scenarios),
            "OTC_FUZZ_STEPS": str(steps),
            "OTC_FUZZ_REPORT": str(report),
        }
        command = [
            sys.executable, "-m", "pytest", TEST, "-k", SELECTED,
            "-n", "0", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
        ]  # fmt: skip
        started = time.monotonic()
        subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True)
        seconds = time.monotonic() - started
        counts: dict[str, Any] = json.loads(report.read_text())
        passed, failed = _outcomes(junit.read_text())
    return Run(
        examples=counts["examples"],
        failures={kind: counts["failures"].get(kind, 0) for kind in FAILURE_KINDS},
        statuses=statuses_of(counts.get("answers", {})),
        failed=counts.get("failed", []),
        sent=counts.get("sent", 0),
        rejected=counts.get("rejected", 0),
        tests_passed=passed,
        tests_failed=failed,
        seconds=seconds,
    )


def statuses_of(answers: dict[str, dict[str, int]]) -> dict[str, int]:
    """``{"POST /orders": {"stateful 201": 3}}`` -> ``{"201": 3}``, by status."""
    totals: Counter[str] = Counter()
    for counts in answers.values():
        for phase_and_status, count in counts.items():
            totals[phase_and_status.split()[-1]] += count
    return dict(sorted(totals.items()))


def _outcomes(junit: str) -> tuple[int, int]:
    """Tests passed and failed (failures and errors), from pytest's JUnit XML."""
    from xml.etree import ElementTree

    suite = ElementTree.fromstring(junit)
    suite = suite if suite.tag == "testsuite" else suite[0]
    tests, failed = int(suite.get("tests", 0)), int(suite.get("failures", 0))
    failed += int(suite.get("errors", 0))
    return tests - failed - int(suite.get("skipped", 0)), failed


def table(run: Run) -> str:
    rows = [
        "| Operation | Stateless | Stateful | Total |",
        "|---|---:|---:|---:|",
    ]
    below = []
    for operation, phases in sorted(run.examples.items()):
        stateless, stateful = phases.get("stateless", 0), phases.get("stateful", 0)
        total = stateless + stateful
        mark = "" if total >= TARGET else " *"
        if mark:
            below.append(operation)
        rows.append(f"| {operation}{mark} | {stateless:,} | {stateful:,} | {total:,} |")
    stateless = sum(phases.get("stateless", 0) for phases in run.examples.values())
    stateful = sum(phases.get("stateful", 0) for phases in run.examples.values())
    rows.append(f"| **All {len(run.examples)} operations** | {stateless:,} | {stateful:,} | "
                f"{stateless + stateful:,} |")  # fmt: skip
    failures = ", ".join(f"{kind} {count}" for kind, count in run.failures.items())
    lines = [
        "\n".join(rows),
        "",
        f"Failures: {failures}.",
        "",
        "Answers by status: "
        + ", ".join(f"{status} {count:,}" for status, count in run.statuses.items())
        + ".",
        "",
        f"{run.sent:,} requests, {run.rejected:,} of them rejected (4xx, each checked for "
        f"writes); {run.tests_passed} tests passed, {run.tests_failed} failed, in "
        f"{run.seconds:.0f} s.",
    ]
    if below:
        lines += [
            "",
            f"\\* fewer than {TARGET} examples (the counts were set lower, or the operation has "
            f"too little input for more distinct cases): {', '.join(below)}.",
        ]
    if run.failed:
        shown = [f"- {failure.splitlines()[0][:300]}" for failure in run.failed[:SHOWN]]
        lines += ["", f"The first {len(shown)} failures:", "", *shown]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--scenarios", type=int, default=DEFAULT_SCENARIOS)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    print(table(measure(options.examples, options.scenarios, options.steps)))


if __name__ == "__main__":
    main()
