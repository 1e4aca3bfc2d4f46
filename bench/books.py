"""One set of books at size: the state machine of tests/functional/books_machine.py, run long.

``make test`` runs the machine small and derandomized; this runs it with fresh random sequences
(each run explores others) and more, longer examples, each in a fresh world (the machine's
views read every customer of the world, so a world shared by every example makes each step
slower than the last), and reports the steps it ran by kind, the identities it checked
(shared/domain/reconciliation.py, after every step) and the differences it found (0 when the
books agree). A failing sequence is reported as hypothesis prints it, unshrunk
(a step drives the API and every worker, so shrinking would take hours).

    python -m bench.books [--examples N] [--steps N]
"""

from __future__ import annotations

import argparse
import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from shared import clock

EXAMPLES, STEPS = 15, 25


@dataclass(frozen=True)
class Result:
    examples: int
    steps_per_example: int
    steps: dict[str, int]
    checks: int
    differences: list[str]
    failure: str | None
    seconds: float


def measure(examples: int = EXAMPLES, steps: int = STEPS) -> Result:
    from chalice.test import Client

    from infra.local.offline import use_offline_environment

    use_offline_environment()  # before the app reads its environment, as the tests do
    import app as app_module
    from tests.functional.books_machine import Tally, books_machine
    from tests.functional.conftest import opened_world, renew

    tally = Tally()
    failure = None
    started = time.perf_counter()
    logging.disable(logging.WARNING)
    try:
        with opened_world() as world, Client(app_module.app, stage_name="dev") as client:
            try:
                run_state_machine_as_test(
                    books_machine(client, world, tally, renew=lambda: renew(world)),
                    settings=settings(
                        max_examples=examples,
                        stateful_step_count=steps,
                        deadline=None,
                        database=None,
                        phases=(Phase.explicit, Phase.generate),
                        suppress_health_check=list(HealthCheck),
                    ),
                )
            except Exception:  # the failing sequence is the figure to report
                failure = traceback.format_exc(limit=3)
    finally:
        logging.disable(logging.NOTSET)
        clock.set_clock(None)
    return Result(
        examples=examples,
        steps_per_example=steps,
        steps=dict(sorted(tally.steps.items())),
        checks=tally.checks,
        differences=list(tally.differences),
        failure=failure,
        seconds=time.perf_counter() - started,
    )


def table(result: Result) -> str:
    ran = sum(result.steps.values())
    lines = [
        f"{result.examples} examples of up to {result.steps_per_example} steps: "
        f"{ran} steps run, {result.checks} checks of every identity (after every step), "
        f"{len(result.differences)} differences, in {result.seconds:.0f} s.",
        "",
        "| step | count |",
        "| --- | ---: |",
        *(f"| {name} | {count} |" for name, count in result.steps.items()),
    ]
    if result.differences:
        lines += ["", "Differences:", *(f"- {found}" for found in result.differences[:20])]
    if result.failure:
        lines += ["", "The run stopped on:", "", "```", result.failure.strip(), "```"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.books", description=__doc__)
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    parser.add_argument("--steps", type=int, default=STEPS)
    options = parser.parse_args(argv)
    print(table(measure(options.examples, options.steps)))


if __name__ == "__main__":
    main()
