"""Faults at every AWS call site in turn, every event delivered twice and shuffled: same state.

The business is the simulation's (bench/simulation.py), over a tiny plan that still pays by card,
bank file and cheque, in full and in part, disputes a card payment, partly credits invoices,
records promises to pay and sends reminders. Each mode faults every call site of the fault-free
run the first time it is reached (bench/faults.py); the final business state, by business
references, must equal the fault-free run's, and every invariant must still hold.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

import app as app_module
from bench.faults import MODES, Crash, FaultInjector, compare
from bench.simulation import Outcome, simulate
from bench.simulation_plan import plan
from infra.local.offline import reset_process_state
from shared import clock
from shared.store import notifications
from tests.functional.conftest import World, order_body, post_order

# Two customers (net 7 and net 14) over a week, two orders a day: this seed's plan has every
# channel, a partial payment, a disputed card payment, two credit notes, two promises to pay
# and reminders, in 14 orders.
TINY = plan(377, customers=2, days=7, orders_per_day=2)


@pytest.fixture(scope="module")
def fault_free() -> tuple[FaultInjector, Outcome]:
    recorder = FaultInjector(None, chaotic=False)  # the plain pump, no fault: sites recorded
    return recorder, simulate(TINY, harness=recorder)


def test_the_fault_free_run_covers_every_kind_of_business(
    fault_free: tuple[FaultInjector, Outcome],
):
    recorder, outcome = fault_free
    assert outcome.violations == []
    counts = outcome.counts
    for name in (
        "payments.stripe",
        "payments.bank",
        "payments.cheque",
        "payments.partial",
        "disputes.opened",
        "credit_notes",
        "promises",
        "state.reminders",
    ):
        assert counts.get(name, 0) > 0, name
    assert counts["state.credit_notes"] == counts["credit_notes"]
    assert counts["state.promises"] == counts["promises"]
    assert len(recorder.reached) >= 80  # call sites


@pytest.mark.parametrize("mode", [None, *MODES])
def test_every_fault_is_survived_with_the_same_final_state(
    fault_free: tuple[FaultInjector, Outcome], mode: str | None
):
    recorder, reference = fault_free
    injector = FaultInjector(mode)  # and the chaotic pump: twice, shuffled

    faulted = compare(recorder, reference, injector, simulate(TINY, harness=injector))

    assert faulted.differences == []
    assert faulted.violations == []
    assert faulted.duplicates_delivered > 0 and faulted.stream_batches_replayed > 0
    assert faulted.given_up == []
    if mode is not None:
        # every site of the fault-free run (but the excluded) was faulted, and survived
        assert faulted.sites > 0 and faulted.injected >= faulted.sites
        assert faulted.survived == faulted.sites
        assert faulted.retries > 0


def test_the_injector_really_injects_and_a_different_state_is_reported(
    fault_free: tuple[FaultInjector, Outcome],
):
    # Given a partner that does not retry
    recorder, reference = fault_free
    injector = FaultInjector("throttle", chaotic=False)
    injector.attempts = 1

    # When every site is throttled once
    faulted = compare(recorder, reference, injector, simulate(TINY, harness=injector))

    # Then requests failed, and the final state differs from the fault-free one
    assert any("answered 503" in violation for violation in faulted.violations)
    assert faulted.differences and faulted.survived == 0


# --- the bugs the faults found ----------------------------------------------------------------


def _injected(mode: str, only: set[tuple[str, str]]) -> FaultInjector:
    reset_process_state()  # clients created from now on carry the hooks
    injector = FaultInjector(mode, only=only)
    injector.attach()
    return injector


def test_an_order_placed_before_a_crash_is_not_placed_again_by_the_retry(world: World):
    injector = _injected("crash", {("dynamodb.TransactWriteItems", "shared/store/table.py")})
    try:
        with Client(app_module.app, stage_name="dev") as client:
            body = order_body(purchase_order="PO-CRASH-1")
            # Given the Lambda dies right after the order's transaction went through
            with pytest.raises(Crash):
                post_order(client, body, idempotency_key="crash-1")
            # When the partner retries with the same Idempotency-Key
            retried = post_order(client, body, idempotency_key="crash-1")
    finally:
        injector.detach()

    # Then it gets the order the first attempt placed, and there is only that one
    assert retried.status_code == 201, retried.body
    placed = [item for item in world.table_items() if item.get("entity") == "Order"]
    assert [item["order_id"] for item in placed] == [json.loads(retried.body)["id"]]


def test_an_email_sent_is_not_sent_again_when_recording_it_was_throttled(world: World):
    injector = _injected("throttle", {("dynamodb.UpdateItem", "shared/store/notifications.py")})
    sent: list[str] = []

    def send() -> str:
        sent.append("message")
        return f"ses-{len(sent)}"

    moment = datetime(2026, 11, 2, 6, tzinfo=UTC)
    clock.set_clock(lambda: moment)
    try:
        # Given SES accepted the e-mail and recording it as sent was throttled
        with contextlib.suppress(ClientError):
            notifications.send_once("evt_1", "ap@acme.example", detail_type="X", send=send)
        # When the event comes again after the claim's lease
        later = moment + notifications.CLAIM_LEASE + timedelta(seconds=1)
        clock.set_clock(lambda: later)
        again: Any = notifications.send_once("evt_1", "ap@acme.example", detail_type="X", send=send)
    finally:
        clock.set_clock(None)
        injector.detach()

    # Then the customer got it once
    assert (sent, again) == (["message"], None)
    assert injector.faults_injected == 1
