"""Dunning and the books: a run's consequences, dates and amounts agree with the customer's money.

- an invoice that jumps past the final notice still puts the customer on credit hold and carries
  the statement (the hold then blocks the customer's next order);
- a run for a future day is a preview: nothing is posted, enqueued or sent;
- fees and interest are posted dated the day they accrue (the run's day), never later than today;
- the credit exposure carries fees and interest, so it equals the statement's closing balance
  plus the orders not yet invoiced;
- money the customer's own credit covers (a credit note on a paid invoice) is not chased.

cus_acme (the seed) pays "2/10 net 30" and dunns by the default policy unless a test says
otherwise (see test_collections.py for the ladder).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from shared import clock
from shared.store import customers
from shared.store import ledger as ledger_store
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, issued_invoice
from tests.functional.collections import (
    QUEUE,
    charges,
    day,
    interest,
    on,
    pay,
    reminders,
    run_on,
)
from tests.functional.conftest import ADMIN_KEY, World, order_body, post_order
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, credit_note, legacy_invoice

ISSUED = date(2026, 11, 2)
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def _invoice(client: Client, world: World, issued: date = ISSUED) -> Any:
    on(issued)
    invoice = issued_invoice(client, world)
    assert invoice.due_on == day(issued, 30)
    return invoice


def _credit_figures(client: Client) -> dict[str, str]:
    answer = call(client, "GET", f"/customers/{CUSTOMER}")
    assert answer.status == 200, answer.body
    figures: dict[str, str] = answer.body["credit"]
    return figures


def _closing_balance(client: Client, to: date) -> Decimal:
    answer = call(client, "GET", f"/customers/{CUSTOMER}/statement?to={to.isoformat()}")
    assert answer.status == 200, answer.body
    return Decimal(answer.body["closing_balance"]["amount"])


def _run(client: Client, as_of: date, **body: Any) -> Any:
    return call(client, "POST", "/collection-runs", body={"as_of": as_of.isoformat(), **body})


# --- skipped levels ------------------------------------------------------------------------------


def test_an_invoice_that_skips_the_final_notice_still_puts_the_customer_on_credit_hold(
    client, world: World
):
    # Given a strict-policy customer (final notice at +21 with the hold, escalation at +30)
    on(ISSUED)
    account = call(client, "GET", f"/customers/{CUSTOMER}").body
    strict = {"version": account["version"], "dunning_policy": "strict"}
    assert call(client, "PATCH", f"/customers/{CUSTOMER}", body=strict).status == 200
    invoice = _invoice(client, world)
    due = invoice.due_on

    # When the first run that sees the invoice comes 35 days after due
    run_on(world, day(due, 35))

    # Then the escalation goes out with the statement of the final notice it passed
    [escalation] = reminders()
    assert escalation.template == "escalation"
    [(name, (content_type, _))] = escalation.attachments.items()
    assert name.startswith(f"statement-{CUSTOMER}-") and content_type == "application/pdf"
    two_percent = (invoice.total * 2 / 100).quantize(CENT)
    assert [(kind, amount) for kind, _, amount in charges()] == [
        ("fee", two_percent),
        ("interest", _strict_interest(invoice.total, 35)),
    ]
    # ... and the customer is on credit hold, as the final notice would have put it
    held = customers.get(CUSTOMER)
    assert held is not None and held.status.value == "credit_hold"

    # And the customer's next order is held for a credit manager, not confirmed
    response = post_order(client, order_body(), key=ADMIN_KEY)
    assert response.status_code == 201, response.body
    world.pump.drain()
    order = call(client, "GET", f"/orders/{json.loads(response.body)['id']}").body
    assert order["status"] == "on_hold"


def test_the_first_run_after_a_data_migration_holds_the_customer_it_escalates(client, world: World):
    # Given an invoice imported from the legacy system, 60 days overdue when first dunned
    on(date(2026, 12, 1))
    legacy_invoice(CUSTOMER, "OLD-9", issued="2026-09-02", due="2026-10-02", still_open="320.00")

    # When the first run comes
    run_on(world, date(2026, 12, 1))

    # Then it escalates with the statement attached, and the customer is on credit hold
    [escalation] = reminders()
    assert escalation.template == "escalation" and "OLD-9" in escalation.body
    assert len(escalation.attachments) == 1
    held = customers.get(CUSTOMER)
    assert held is not None and held.status.value == "credit_hold"


def _strict_interest(principal: Decimal, days: int) -> Decimal:
    """The strict policy's 10 % p.a., actual/365, rounded once."""
    return (principal * days * 10 / Decimal(36500)).quantize(CENT)


# --- future and past days ------------------------------------------------------------------------


def test_a_run_for_a_future_day_is_only_a_preview(client, world: World):
    # Given an invoice three days overdue today
    invoice = _invoice(client, world)
    due = invoice.due_on
    on(day(due, 3))
    world.pump.drain()
    before = snapshot(world)

    # When a run (not asked to be dry) is started for the final notice's day, still to come
    answer = _run(client, day(due, 30))

    # Then it is answered as a preview, saying why, with the plan of that day
    assert answer.status == 200, answer.body
    assert answer.body["dry_run"] is True
    assert "after today" in answer.body["dry_run_reason"]
    [plan] = answer.body["plans"]
    [line] = plan["lines"]
    assert (line["level_name"], line["fee"]) == ("final_notice", "10.00")

    # And nothing was posted, enqueued or sent: today's books have no interest of days to come
    assert snapshot(world) == before
    assert world.queue_depth(QUEUE) == 0
    world.pump.drain()
    assert reminders() == [] and charges() == []
    assert _closing_balance(client, day(due, 3)) == invoice.total


def test_a_run_for_a_past_day_dates_its_fee_and_interest_that_day(client, world: World):
    # Given an invoice whose second notice's day (+14) passed without a run
    invoice = _invoice(client, world)
    due = invoice.due_on

    # When the run for that day is started two days later
    on(day(due, 16))
    answer = _run(client, day(due, 14))
    assert answer.status == 202, answer.body
    world.pump.drain()

    # Then its fee and interest (to +14) are posted dated +14, not today
    fourteen_days = interest((invoice.total, 14))
    entries = [e for e in ledger_store.entries_for(CUSTOMER) if e.kind in ("fee", "interest")]
    assert [(e.kind, e.total, e.posted_at.date()) for e in entries] == [
        ("fee", Decimal("5.00"), day(due, 14)),
        ("interest", fourteen_days, day(due, 14)),
    ]
    # ... so the statement to +13 has none of them, and the one to +14 has both
    assert _closing_balance(client, day(due, 13)) == invoice.total
    assert _closing_balance(client, day(due, 14)) == invoice.total + 5 + fourteen_days

    # When today's run comes (the final notice's day), Then its charges are dated now
    run_on(world, day(due, 30))
    latest = [e for e in ledger_store.entries_for(CUSTOMER) if e.kind in ("fee", "interest")][2:]
    assert [(e.kind, e.posted_at) for e in latest] == [
        ("fee", clock.now()),
        ("interest", clock.now()),
    ]
    assert_ledger_balanced(CUSTOMER)


# --- exposure -----------------------------------------------------------------------------------


def test_the_exposure_carries_fees_and_interest_as_the_statement_does(client, world: World):
    # Given an invoice at its second notice (fee 5.00 and fourteen days' interest) and then its
    # final notice (fee 10.00 and the interest since)
    invoice = _invoice(client, world)
    due = invoice.due_on
    run_on(world, day(due, 14))
    run_on(world, day(due, 30))
    charged = sum((amount for _, _, amount in charges()), Decimal(0))
    assert charged == 15 + interest((invoice.total, 30))

    # When the credit figures and the statement are read
    figures = _credit_figures(client)
    closing = _closing_balance(client, day(due, 30))

    # Then the open receivables carry the fees and interest, and the exposure is the statement's
    # closing balance plus the orders not yet invoiced
    assert Decimal(figures["open_receivables"]) == invoice.total + charged
    assert closing == invoice.total + charged
    assert Decimal(figures["exposure"]) == closing + Decimal(figures["uninvoiced_orders"])
    limit = Decimal(figures["credit_limit"])
    assert Decimal(figures["headroom"]) == limit - Decimal(figures["exposure"])


# --- the customer's own credit --------------------------------------------------------------------


def _credit_on_a_paid_invoice(client: Client, world: World, body: dict[str, Any]) -> Decimal:
    """An invoice paid in full, then credited by ``body``: what the note leaves the customer."""
    paid = _invoice(client, world)
    on(day(ISSUED, 5))
    pay(client, paid, str(paid.total))
    world.pump.drain()
    note = credit_note(client, paid.invoice_id, body)
    assert note.status == 201, note.body
    world.pump.drain()
    return Decimal(note.body["total"]["amount"])  # nothing was open: all of it is owed back


def test_an_invoice_the_customers_credit_covers_is_not_dunned(client, world: World):
    # Given a credit note on a paid invoice (the whole invoice back), and another invoice owed
    owing = _invoice(client, world)
    credit = _credit_on_a_paid_invoice(client, world, {"reason": "Order returned"})
    assert credit >= owing.total
    due = owing.due_on

    # When the runs of the reminder, the second and the final notice come
    planned = _run(client, day(due, 14), dry_run=True)
    for offset in (3, 14, 30):
        run_on(world, day(due, offset))

    # Then the owing invoice is neither reminded nor charged, nor the customer held
    assert reminders() == [] and charges() == []
    account = customers.get(CUSTOMER)
    assert account is not None and account.status.value == "active"
    [plan] = planned.body["plans"]
    assert plan["lines"] == []
    assert plan["skipped"] == [
        {"invoice_id": owing.invoice_id, "number": owing.number, "reason": "covered"}
    ]


def test_an_invoice_the_credit_covers_in_part_is_chased_for_the_rest(client, world: World):
    # Given a credit note of one widget on a paid invoice, and another invoice owed
    owing = _invoice(client, world)
    credit = _credit_on_a_paid_invoice(
        client,
        world,
        {"reason": "One widget damaged", "lines": [{"line_no": 1, "quantity": "1"}]},
    )
    assert 0 < credit < owing.total
    due = owing.due_on

    # When the escalation's day comes with no run before (the 1 % fee is on what is chased)
    run_on(world, day(due, 45))

    # Then the reminder chases the invoice less the credit, and the fee is on that rest
    rest = owing.total - credit
    [escalation] = reminders()
    assert escalation.template == "escalation"
    assert f"{rest:,.2f} EUR (after your credit of {credit:,.2f} EUR)" in escalation.body
    assert [(kind, amount) for kind, _, amount in charges()] == [
        ("fee", (rest / 100).quantize(CENT)),
        ("interest", interest((owing.total, 45))),
    ]
    dunned = [
        json.loads(item["detail"])["data"]
        for item in world.table_items()
        if item.get("entity") == "Event" and item["detail_type"] == "InvoiceDunned"
    ]
    assert [(d["amount_due"], d["covered_by_credit"]) for d in dunned] == [(str(rest), str(credit))]
    # ... and the levels it passed (the final notice's hold) apply
    account = customers.get(CUSTOMER)
    assert account is not None and account.status.value == "credit_hold"


def test_a_run_with_nothing_covered_charges_on_the_whole_amount(client, world: World):
    # Given an invoice and a customer holding no credit
    invoice = _invoice(client, world)
    due = invoice.due_on

    # When a dry run previews the second notice
    on(day(due, 14))
    answer = _run(client, day(due, 14), dry_run=True)

    # Then the whole amount due is chased, nothing covered
    [plan] = answer.body["plans"]
    [line] = plan["lines"]
    assert (line["amount_due"], line["covered_by_credit"]) == (str(invoice.total), "0.00")
    assert answer.body.get("dry_run_reason") is None
