"""Random sequences of what happens to customers' money never make two views of it disagree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from shared import clock
from tests.functional.books_machine import Tally, books_machine
from tests.functional.conftest import World, renew

# Small in the test suite (each step drives the API and the workers); bench/books.py runs it large.
EXAMPLES, STEPS = 3, 8


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)  # the machine moves a simulated clock; the next test reads the real one


def test_every_view_of_a_customers_money_agrees_after_every_step(client, world: World):
    # Given a machine that opens a customer per example and plays random steps on its money
    tally = Tally()
    machine = books_machine(client, world, tally)

    # When hypothesis runs it, checking the identities after every step
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            phases=(Phase.explicit, Phase.generate),  # a step drives every worker: no shrinking
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )

    # Then no identity ever failed, and the runs did what the books are about
    assert tally.differences == []
    assert tally.checks >= EXAMPLES
    assert tally.steps["open_account"] >= EXAMPLES
    assert tally.steps["order"] > 0


def test_a_renewed_world_holds_only_the_last_examples_customer(client, world: World):
    # Given the machine as the bench runs it: the world renewed before each example
    tally = Tally()
    machine = books_machine(client, world, tally, renew=lambda: renew(world))

    # When hypothesis runs two short examples
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=2,
            stateful_step_count=2,
            deadline=None,
            derandomize=True,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )

    # Then both opened a customer and agreed, and the world holds the second one only
    assert tally.differences == [] and tally.steps["open_account"] == 2
    opened = [item for item in world.written() if item.get("entity") == "Customer"]
    assert len(opened) == 1
