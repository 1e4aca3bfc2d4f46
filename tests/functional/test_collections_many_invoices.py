"""A customer with more invoices reaching a level the same day than one transaction can record.

Each invoice reaching a level with a fee and interest takes eight writes (its state, its level
marker, two ledger entries with their charge records, each record the entry's guard, its event
and chain head); DynamoDB takes 100 writes in one transaction: the 25 are recorded in three.
cus_acme's 25 receivables, imported the day before, all fall due on
2026-10-19: on 2026-11-02 they are fourteen days overdue, each at the second notice (5.00 fee)
with fourteen days' interest. The worker records them in several transactions and one reminder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from functions.dunning.run import start_run
from shared import clock
from shared.store import credit, customers, outbox
from shared.store import dunning as dunning_store
from tests.functional.cash import CUSTOMER
from tests.functional.collections import charges, deliver, fan_out, history, on, reminders
from tests.functional.conftest import World
from tests.functional.invoicing import assert_ledger_balanced, import_receivables

COUNT = 25
IMPORTED_ON = date(2026, 11, 1)
DUE = date(2026, 10, 19)
RUN_DAY = date(2026, 11, 2)  # fourteen days overdue
OPEN = Decimal("200.00")
REMINDER_ID = dunning_store.reminder_id_for(CUSTOMER, RUN_DAY)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def owed(client: Client, world: World) -> dict[str, str]:
    """The receivables imported: invoice id -> number."""
    on(IMPORTED_ON)
    numbers = [f"OLD-{n:03d}" for n in range(1, COUNT + 1)]
    rows = "".join(
        f"{CUSTOMER},{number},2026-09-19,{DUE},EUR,{OPEN},{OPEN}\n" for number in numbers
    )
    header = "customer_id,invoice_number,issue_date,due_date,currency,original_amount,open_amount\n"
    import_receivables(client, world, header + rows)
    return {f"legacy-{number}": number for number in numbers}


def _open_receivables() -> Decimal:
    figures = credit.get_exposure(CUSTOMER)
    assert figures is not None
    return figures.open_receivables


def _books() -> dict[str, Any]:
    return {
        "charges": sorted(charges()),
        "open_receivables": _open_receivables(),
        "emails": [(reminder.recipient, reminder.template) for reminder in reminders()],
    }


def _assert_reminded_once(owed: dict[str, str], owed_before: Decimal) -> None:
    """One second notice listing every invoice once, its fee and interest posted once each, the
    exposure raised by them, every level recorded once and nothing left marked in parts."""
    [email] = reminders()
    assert email.template == "second_notice"
    assert all(number in email.body for number in owed.values())
    reminder = dunning_store.get_reminder(REMINDER_ID)
    assert reminder is not None and reminder["status"] == "sent"
    lines = reminder["lines"]
    assert sorted(line["invoice_id"] for line in lines) == sorted(owed)
    assert {line["fee"] for line in lines} == {"5.00"}
    interest = {line["invoice_id"]: Decimal(line["interest"]) for line in lines}
    assert len(set(interest.values())) == 1 and min(interest.values()) > 0
    posted = charges()
    assert sorted(posted) == sorted(
        [("fee", f"{invoice_id}:level2", Decimal("5.00")) for invoice_id in owed]
        + [("interest", f"{invoice_id}:{RUN_DAY}", interest[invoice_id]) for invoice_id in owed]
    )
    charged = sum((amount for _, _, amount in posted), Decimal(0))
    totals = reminder["totals"]["EUR"]
    assert Decimal(totals["fees"]) + Decimal(totals["interest"]) == charged
    assert Decimal(totals["amount_due"]) == OPEN * COUNT
    assert _open_receivables() == owed_before + charged
    assert_ledger_balanced(CUSTOMER)
    for invoice_id in owed:
        assert [kind for kind, _ in history(invoice_id)] == ["InvoiceDunned"]
    recorded = sorted(kind for kind, _ in history(CUSTOMER))  # the clock stands still
    assert recorded == ["ReminderRecorded", "ReminderSent"]
    account = customers.get_account(CUSTOMER)
    assert account is not None
    assert not dunning_store.reminding(account.items.get(dunning_store.REMINDING_SORT_KEY))


def test_many_invoices_reaching_a_level_the_same_day_are_reminded_once_in_one_email(
    world: World, owed: dict[str, str]
):
    # Given 25 invoices reaching the second notice the same day
    owed_before = _open_receivables()
    on(RUN_DAY)
    start_run(RUN_DAY)
    bodies = fan_out(world)

    # When the day's message is handled
    handled = deliver(bodies)

    # Then one reminder lists all 25, each with its fee and interest, in one e-mail
    assert handled["batchItemFailures"] == []
    _assert_reminded_once(owed, owed_before)

    # When the same message is delivered again, Then nothing changes
    books = _books()
    again = deliver(bodies)
    world.pump.drain()
    assert again["batchItemFailures"] == []
    assert _books() == books
    _assert_reminded_once(owed, owed_before)


@pytest.mark.parametrize("crash_after", [1, 2])  # the third transaction closes the day
def test_a_crash_between_the_transactions_is_finished_by_the_retry_with_the_same_books(
    world: World, owed: dict[str, str], monkeypatch: pytest.MonkeyPatch, crash_after: int
):
    # Given the day's message, and a worker that dies after its first transactions
    owed_before = _open_receivables()
    on(RUN_DAY)
    start_run(RUN_DAY)
    bodies = fan_out(world)
    commit = outbox.commit
    committed: list[int] = []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        heads = commit(*args, **kwargs)
        committed.append(1)
        if len(committed) == crash_after:
            raise RuntimeError("Lambda timed out")
        return heads

    monkeypatch.setattr(outbox, "commit", crashing)
    failed = deliver(bodies)
    half_charged = len(charges())
    # (the dry run meanwhile shows the whole day's reminder, not only what is left to record)
    [plan] = start_run(RUN_DAY, dry_run=True)["plans"]
    assert sorted(line["invoice_id"] for line in plan["lines"]) == sorted(owed)

    # When SQS delivers the message again
    monkeypatch.setattr(outbox, "commit", commit)
    retried = deliver(bodies)
    world.pump.drain()

    # Then the first attempt recorded part of the day and no reminder; the retry recorded the
    # rest and one reminder listing every invoice once, e-mailed once, the books as if whole
    assert len(failed["batchItemFailures"]) == 1 and retried["batchItemFailures"] == []
    assert 0 < half_charged < 2 * COUNT
    _assert_reminded_once(owed, owed_before)


def test_an_attempt_that_read_the_account_before_another_recorded_a_part_plans_again(
    world: World, owed: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    # Given the day's message, and an attempt that reads the account, then (before it reads the
    # invoices' states) another attempt records its first transaction and dies
    owed_before = _open_receivables()
    on(RUN_DAY)
    start_run(RUN_DAY)
    bodies = fan_out(world)
    get_account, commit = customers.get_account, outbox.commit
    others: list[dict[str, Any]] = []

    def dies_after_one(*args: Any, **kwargs: Any) -> Any:
        commit(*args, **kwargs)
        raise RuntimeError("Lambda timed out")

    def another_attempt_meanwhile(customer_id: str) -> Any:
        account = get_account(customer_id)
        if not others:
            others.append({})
            monkeypatch.setattr(outbox, "commit", dies_after_one)
            others[0] = deliver(bodies)
            monkeypatch.setattr(outbox, "commit", commit)
        return account

    monkeypatch.setattr(customers, "get_account", another_attempt_meanwhile)

    # When the first attempt goes on (it sees the other's invoices advanced, not its part)
    handled = deliver(bodies)
    world.pump.drain()

    # Then its first transaction was refused (the part's number was taken): it planned again,
    # read the part, and recorded one reminder listing every invoice once
    assert len(others[0]["batchItemFailures"]) == 1 and handled["batchItemFailures"] == []
    _assert_reminded_once(owed, owed_before)
