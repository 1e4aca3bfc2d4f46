"""A simulated month of business ends with every invariant holding, through every channel, and
the lake's reports equal to the books'."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.simulation import NoFaults, simulate
from bench.simulation_driver import SimulatedClock
from bench.simulation_plan import plan
from infra.local.moto_transactions import lean_transactions
from shared import clock

# Three customers (strict net 7, default due on receipt, strict net 14) over nine days: this
# seed's plan pays through every channel, in full, in part and too much, on time and late,
# disputes a card payment and closes the dispute, credits part of an invoice, and records two
# promises to pay on overdue invoices.
SEED, CUSTOMERS, DAYS, ORDERS_PER_DAY = 152, 3, 9, 2


def test_the_plan_is_the_same_for_the_same_seed_and_differs_for_another():
    # When
    first = plan(SEED, customers=CUSTOMERS, days=DAYS, orders_per_day=ORDERS_PER_DAY)
    again = plan(SEED, customers=CUSTOMERS, days=DAYS, orders_per_day=ORDERS_PER_DAY)
    other = plan(SEED + 1, customers=CUSTOMERS, days=DAYS, orders_per_day=ORDERS_PER_DAY)

    # Then
    assert first == again
    assert first != other
    assert first.orders == DAYS * ORDERS_PER_DAY


def test_a_month_of_business_holds_every_invariant_and_uses_every_channel():
    # Given
    month = plan(SEED, customers=CUSTOMERS, days=DAYS, orders_per_day=ORDERS_PER_DAY)

    # When
    outcome = simulate(month)

    # Then every invariant held
    assert outcome.violations == []
    counts = outcome.counts
    # and every channel and kind of payment happened
    for name in ("payments.stripe", "payments.bank", "payments.cheque"):
        assert counts.get(name, 0) > 0, name
    assert counts["state.payments.by_source.stripe"] == counts["payments.stripe"]
    assert counts["state.payments.by_source.manual"] == counts["payments.cheque"]
    assert counts["state.payments.by_source.bank"] == counts["payments.bank"]
    for name in ("payments.partial", "payments.over", "payments.late", "disputes.opened"):
        assert counts.get(name, 0) > 0, name
    assert counts["disputes.closed"] > 0
    # and invoices were partly credited, and promises to pay recorded on overdue ones
    assert counts["credit_notes"] > 0 and counts["promises"] > 0
    assert counts["state.credit_notes"] == counts["credit_notes"]
    assert counts["state.promises"] == counts["promises"]
    # and orders were shipped in parts, invoiced, paid, and the late ones dunned and charged
    assert counts["orders"] == month.orders
    assert counts["shipments"] > counts["orders"] * 0.7
    assert counts["state.invoices.paid"] > 0 and counts["state.invoices.partially_paid"] > 0
    assert counts["state.reminders"] > 0
    assert counts["state.fees"] + counts["state.interest_charges"] > 0
    assert counts["lambda_invocations"] > 0 and counts["aws_calls"] > 0
    # and the lake's aging, open items and KPIs were read beside the books' (equal: no violation):
    # of two days (a Sunday, the last) from the whole lake, the month's KPIs, and of the same
    # days rolled forward from the nightly snapshot of a week before the last
    assert counts["lake.comparisons"] == 2 * 2 + 1 + 2 * 2
    assert (counts["lake.source.lake"], counts["lake.source.current"]) == (5, 4)
    # and the digest names business references only
    digest = outcome.digest
    assert set(digest["orders"]) == {o.purchase_order for d in month.days for o in d.orders}
    assert all(ref.startswith("PO-") for ref in digest["invoices"])
    assert {account.ref for account in month.customers} <= set(digest["ledger"])
    assert any(ref.startswith("pi_sim") for ref in digest["payments"])
    assert any(ref.endswith("/credit-1") for ref in digest["invoices"])
    assert digest["collections"]["promises"]
    assert all(ref.startswith("PO-") for ref in digest["collections"]["promises"])


def test_a_day_whose_faults_run_past_midnight_is_reported():
    # Given a harness whose faults cost time, and the clock the simulation sets per action
    harness = _SlowHarness()
    at = SimulatedClock(harness)
    try:
        at.at(date(2026, 3, 2), 15)
        harness.cost = timedelta(hours=8)
        assert clock.now() == datetime(2026, 3, 2, 23, tzinfo=UTC)
        # When a new day begins, what faults cost is counted from it
        at.at(date(2026, 3, 3), 6)
        assert clock.now() == datetime(2026, 3, 3, 6, tzinfo=UTC)
        harness.cost = timedelta(hours=18)
        at.at(date(2026, 3, 3), 15)
        now = clock.now()
    finally:
        clock.set_clock(None)

    # Then the day that ran past midnight is reported
    assert now == datetime(2026, 3, 4, 1, tzinfo=UTC)
    assert at.close() == ["the faults of 2026-03-03 cost 10:00:00: the day ran past midnight"]


class _SlowHarness(NoFaults):
    def __init__(self) -> None:
        self.cost = timedelta(0)

    def elapsed(self) -> timedelta:
        return self.cost


class _FlakyGateway(NoFaults):
    """Counts the requests the test client sends; the faults it injects are ``_Injected``."""

    def __init__(self) -> None:
        self.calls = 0
        self.injected = 0
        self.enabled = False

    def request_failed(self, error: BaseException) -> bool:
        return isinstance(error, _Injected)


class _Injected(BaseException):
    """A fault that no application code may catch (like a Lambda dying)."""


@pytest.fixture
def flaky_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[_FlakyGateway]:
    """The chalice test client's requests fail once, every third one, before the app runs."""
    from chalice.test import TestHTTPClient

    harness = _FlakyGateway()
    original = TestHTTPClient.request

    def request(self: Any, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        harness.calls += 1
        if harness.enabled and harness.calls % 3 == 0:
            harness.injected += 1
            raise _Injected(f"{method} {path}")
        return original(self, method, path, *args, **kwargs)

    monkeypatch.setattr(TestHTTPClient, "request", request)
    yield harness


def test_requests_that_fail_are_sent_again_and_the_business_ends_the_same(flaky_client):
    # Given a short month, and its outcome without faults
    month = plan(5, customers=2, days=3, orders_per_day=2)
    harness = flaky_client
    reference = simulate(month)

    # When every third request fails once
    harness.enabled = True
    faulted = simulate(month, harness=harness)

    # Then each was sent again, and the month ended the same
    assert harness.injected > 0
    assert faulted.counts["retries"] == harness.injected
    assert faulted.counts["requests"] == reference.counts["requests"]
    assert faulted.violations == reference.violations == []
    assert faulted.digest == reference.digest


def test_a_cancelled_transaction_leaves_no_stream_record_under_lean_transactions():
    # Given a table with a stream, and an item a conditional put will collide with
    with mock_aws(), lean_transactions():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
        condition = "attribute_not_exists(pk)"

        # When a transaction writes one item and then fails on the other
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"pk": {"S": "event"}, "sk": {"S": "1"}},
                            "ConditionExpression": condition,
                        }
                    },
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                            "ConditionExpression": condition,
                        }
                    },
                ]
            )

        # Then the stream holds the first put only, not the cancelled transaction's
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["a"]
        assert client.scan(TableName="t")["Count"] == 1


def test_a_broken_state_is_reported_not_digested_quietly(monkeypatch: pytest.MonkeyPatch):
    # Given a state read back with an invoice that owes too much and an e-mail sent twice
    from bench import simulation_state

    read = simulation_state.State.read.__func__  # type: ignore[attr-defined]

    def broken(cls: Any, *args: Any) -> Any:
        state = read(cls, *args)
        first = state.invoices[0]
        state.invoices[0] = first.model_copy(update={"amount_due": first.amount_due + 1})
        state.emails.append(state.emails[0])
        return state

    monkeypatch.setattr(simulation_state.State, "read", classmethod(broken))

    # When
    outcome = simulate(plan(5, customers=2, days=3, orders_per_day=2))

    # Then both are violations
    assert any("amount due" in violation for violation in outcome.violations)
    assert any(violation.startswith("e-mail sent 2 times") for violation in outcome.violations)
