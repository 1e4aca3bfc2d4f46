"""Migrated receivables are opening-balance open items of the ledger, settled like ours.

A receivables CSV POSTed to the import API books each legacy invoice's open amount as an
``opening_balance`` entry (DR receivables, CR opening balance equity), dated its issue date, in
the transaction that lands the invoice. From then on the statement, the aging report and the
credit figures agree on it, cash application matches it by its number, a clerk can allocate to
it, a reversal reopens it, and once it is paid the collection run no longer dunns it.

The dataset (cus_acme, EUR), imported on 2026-11-02:

- INV-2025-0417 issued 2026-08-03, due 2026-09-02: 1,200.00 of which 320.00 still open;
- INV-2025-0533 issued 2026-10-01, due 2026-10-31: 1,434.30 open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from shared import clock
from shared.domain.ledger import Account, Posting
from shared.store import credit
from tests.functional.accounts import Answer, call
from tests.functional.cash import CUSTOMER, account, ledger_entries, received, reverse
from tests.functional.collections import charges, reminders, run_on
from tests.functional.conftest import World
from tests.functional.invoicing import import_receivables, legacy_invoice

IMPORTED_ON = date(2026, 11, 2)
OLD = "legacy-INV-2025-0417"  # 320.00 open, long overdue
RECENT = "legacy-INV-2025-0533"  # 1,434.30 open, 2 days overdue on import
RECEIVABLES = (
    "customer_id,invoice_number,issue_date,due_date,currency,original_amount,open_amount\n"
    "cus_acme,INV-2025-0417,2026-08-03,2026-09-02,EUR,1200.00,320.00\n"
    "cus_acme,INV-2025-0533,2026-10-01,2026-10-31,EUR,1434.30,1434.30\n"
)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def on(day: date) -> None:
    moment = datetime.combine(day, time(9), UTC)
    clock.set_clock(lambda: moment)


@pytest.fixture
def migrated(client: Client, world: World) -> str:
    on(IMPORTED_ON)
    return import_receivables(client, world, RECEIVABLES)


def statement(client: Client, to: date) -> dict[str, Any]:
    answer = call(client, "GET", f"/customers/{CUSTOMER}/statement?from=2026-07-01&to={to}")
    assert answer.status == 200, answer.body
    found: dict[str, Any] = answer.body
    return found


def aging_row(client: Client, as_of: date) -> dict[str, Any]:
    answer = call(client, "GET", f"/reports/aging?as_of={as_of}&live=true")
    assert answer.status == 200, answer.body
    [group] = [group for group in answer.body["currencies"] if group["currency"] == "EUR"]
    [row] = [row for row in group["customers"] if row["customer_id"] == CUSTOMER]
    return dict(row)


def invoice(client: Client, invoice_id: str) -> dict[str, Any]:
    answer = call(client, "GET", f"/invoices/{invoice_id}")
    assert answer.status == 200, answer.body
    found: dict[str, Any] = answer.body
    return found


def open_receivables() -> Decimal:
    figures = credit.get_exposure(CUSTOMER)
    assert figures is not None
    return figures.open_receivables


def allocate(client: Client, payment_id: str, invoice_id: str, amount: str) -> Answer:
    body = {"allocations": [{"invoice_id": invoice_id, "amount": amount}]}
    return call(client, "POST", f"/payments/{payment_id}/allocations", body=body)


def assert_views_agree_on(client: Client, day: date, owed: str) -> None:
    """As of ``day``: the statement's closing balance, its aging and the aging report's row
    (bucket by bucket) all say ``owed``."""
    shown = statement(client, day)
    row = aging_row(client, day)
    assert shown["closing_balance"]["amount"] == shown["aging"]["total"]["amount"] == owed
    assert row["total"] == owed
    buckets = shown["aging"]["buckets"]
    assert row["buckets"] == {name: money["amount"] for name, money in buckets.items()}


def assert_views_agree(client: Client, day: date, owed: str) -> None:
    """As of today (``day``): those views, the AR control account and the customer's open
    receivables all say ``owed``."""
    assert_views_agree_on(client, day, owed)
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal(owed)
    assert open_receivables() == Decimal(owed)


# --- booked at import ---------------------------------------------------------------------------


def test_an_imported_receivable_is_an_opening_balance_entry_dated_its_issue_date(
    client: Client, world: World, migrated: str
) -> None:
    # Then each legacy invoice's open amount is one balanced entry against opening equity
    opening = {e.entry_id: e for e in ledger_entries(CUSTOMER) if e.kind == "opening_balance"}
    assert set(opening) == {f"opening_balance:{OLD}", f"opening_balance:{RECENT}"}
    old = opening[f"opening_balance:{OLD}"]
    assert (old.invoice_id, old.currency) == (OLD, "EUR")
    assert old.posted_at == datetime(2026, 8, 3, tzinfo=UTC)
    assert set(old.postings) == {
        Posting(account=Account.RECEIVABLES, debit=Decimal("320.00")),
        Posting(account=Account.OPENING_BALANCE_EQUITY, credit=Decimal("320.00")),
    }
    assert opening[f"opening_balance:{RECENT}"].total == Decimal("1434.30")
    # and the AR control account holds exactly the migrated open amounts
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("1754.30")
    assert account(CUSTOMER, Account.OPENING_BALANCE_EQUITY) == Decimal("-1754.30")


def test_the_statement_shows_them_and_agrees_with_its_aging_and_the_aging_report(
    client: Client, world: World, migrated: str
) -> None:
    # When the statement since July is read on the import day
    shown = statement(client, IMPORTED_ON)

    # Then both invoices are lines on their issue dates, in the balance
    lines = [
        (line["posted_on"], line["kind"], line["reference"], line["debit"]["amount"])
        for line in shown["lines"]
    ]
    assert lines == [
        ("2026-08-03", "opening_balance", "INV-2025-0417", "320.00"),
        ("2026-10-01", "opening_balance", "INV-2025-0533", "1434.30"),
    ]
    assert shown["opening_balance"]["amount"] == "0.00"
    # and every view says 1,754.30: 320.00 61 days overdue, 1,434.30 2 days overdue
    assert_views_agree(client, IMPORTED_ON, "1754.30")
    assert aging_row(client, IMPORTED_ON)["buckets"]["61-90"] == "320.00"
    assert aging_row(client, IMPORTED_ON)["buckets"]["1-30"] == "1434.30"


def test_a_statement_ending_before_an_issue_date_leaves_that_invoice_out(
    client: Client, world: World, migrated: str
) -> None:
    # When the statement and the report end on 2026-09-15 (before INV-2025-0533 was issued)
    day = date(2026, 9, 15)

    # Then only INV-2025-0417's 320.00 was owed, 13 days overdue
    assert_views_agree_on(client, day, "320.00")


def test_importing_the_same_receivables_again_books_nothing_twice(
    client: Client, world: World, migrated: str
) -> None:
    # Given the books after the first import
    entries = ledger_entries(CUSTOMER)

    # When the same invoices are imported again (another file: the rows the other way round)
    header, first, second = RECEIVABLES.splitlines()
    again = import_receivables(client, world, f"{header}\n{second}\n{first}\n")

    # Then every row is refused as imported before, and the books are unchanged
    job = call(client, "GET", f"/imports/{again}").body
    assert again != migrated
    assert (job["succeeded"], job["failed"]) == (0, 2), job
    assert ledger_entries(CUSTOMER) == entries
    assert_views_agree(client, IMPORTED_ON, "1754.30")


# --- settled like ours --------------------------------------------------------------------------


def test_a_clerk_allocates_a_payment_to_a_legacy_invoice_and_it_closes(
    client: Client, world: World, migrated: str
) -> None:
    # Given 320.00 received from the customer, not applied
    on(date(2026, 11, 5))
    payment = received("320.00", customer_id=CUSTOMER)

    # When a clerk applies it to INV-2025-0417
    answer = allocate(client, payment.payment_id, OLD, "320.00")

    # Then the invoice is paid, its receivable gone from every view
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "applied"
    shown = invoice(client, OLD)
    assert (shown["status"], shown["amount_due"]["amount"]) == ("paid", "0.00")
    assert shown["amount_paid"]["amount"] == "1200.00"
    [applied] = [e for e in ledger_entries(CUSTOMER) if e.kind == "allocation"]
    assert (applied.invoice_id, applied.total) == (OLD, Decimal("320.00"))
    world.pump.drain()
    assert_views_agree(client, date(2026, 11, 5), "1434.30")
    assert [line["kind"] for line in statement(client, date(2026, 11, 5))["lines"]] == [
        "opening_balance",
        "opening_balance",
        "payment",
    ]


def test_a_recorded_payment_quoting_a_legacy_number_is_applied_by_the_matcher(
    client: Client, world: World, migrated: str
) -> None:
    # When a cheque quoting the legacy number (as the customer writes it) is recorded
    on(date(2026, 11, 6))
    body = {
        "amount": "1434.30",
        "currency": "EUR",
        "method": "cheque",
        "received_on": "2026-11-06",
        "payer_name": "ACME Retail GmbH",
        "reference": "0001077",
        "remittance": "Invoice INV-2025-0533",
        "customer_id": CUSTOMER,
    }
    answer = call(client, "POST", "/payments", body=body)
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then cash application settles INV-2025-0533 with it
    payment = call(client, "GET", f"/payments/{answer.body['id']}").body
    assert payment["status"] == "applied", payment
    assert [a["invoice_id"] for a in payment["allocations"]] == [RECENT]
    assert invoice(client, RECENT)["status"] == "paid"
    assert_views_agree(client, date(2026, 11, 6), "320.00")


def test_a_reversed_allocation_reopens_the_legacy_invoice(
    client: Client, world: World, migrated: str
) -> None:
    # Given INV-2025-0417 paid by a clerk's allocation
    on(date(2026, 11, 5))
    payment = received("320.00", customer_id=CUSTOMER)
    applied = allocate(client, payment.payment_id, OLD, "320.00")
    assert applied.status == 201, applied.body
    [allocation] = applied.body["allocations"]

    # When the clerk takes it back
    answer = reverse(client, payment.payment_id, allocation["id"])

    # Then the invoice is owed again, and the cash is the customer's unapplied money
    assert answer.status == 200, answer.body
    shown = invoice(client, OLD)
    assert (shown["status"], shown["amount_due"]["amount"]) == ("open", "320.00")
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("1754.30")
    assert open_receivables() == Decimal("1754.30")
    assert statement(client, date(2026, 11, 5))["closing_balance"]["amount"] == "1434.30"


def test_a_paid_legacy_invoice_is_no_longer_dunned(
    client: Client, world: World, migrated: str
) -> None:
    # Given the first collection run after the migration dunned both overdue invoices
    run_on(world, date(2026, 11, 3))
    dunned = {source.split(":", 1)[0] for _, source, _ in charges()}
    assert dunned == {OLD, RECENT}
    sent = len(reminders())

    # When INV-2025-0417 is paid (the matcher applies the money, its number quoted)
    on(date(2026, 11, 10))
    received("320.00", customer_id=CUSTOMER, remittance="INV-2025-0417")
    world.pump.drain()
    assert invoice(client, OLD)["status"] == "paid"

    # Then a later run charges nothing more on it, and still dunns the other
    run_on(world, date(2026, 12, 16))
    later = [source for _, source, _ in charges()][len(dunned) :]
    assert later and all(source.startswith(RECENT) for source in later), later
    assert OLD not in " ".join(r.body for r in reminders()[sent:])


def test_a_clerk_records_a_promise_to_pay_a_legacy_invoice(
    client: Client, world: World, migrated: str
) -> None:
    # When a clerk records the customer's promise to pay INV-2025-0417 by 11-20
    body = {"promised_on": "2026-11-20", "amount": "320.00"}
    answer = call(client, "POST", f"/invoices/{OLD}/promises", body=body)

    # Then it is recorded like a promise on an invoice of ours
    assert answer.status == 201, answer.body
    assert (answer.body["amount"], answer.body["status"]) == ("320.00", "open")


# --- imported before the opening entries existed ------------------------------------------------


def test_a_legacy_invoice_without_its_opening_entry_is_reported_once_and_left_to_clerks(
    client: Client, world: World
) -> None:
    # Given a legacy invoice landed with no opening entry (imported before they existed)
    on(IMPORTED_ON)
    invoice_id = legacy_invoice(
        CUSTOMER, "OLD-9", issued="2026-08-03", due="2026-09-02", still_open="200.00"
    )
    payment = received("200.00", customer_id=CUSTOMER)

    # When a clerk tries to apply cash to it
    answer = allocate(client, payment.payment_id, invoice_id, "200.00")

    # Then it is refused (the ledger does not hold it), and the report counts it once
    assert answer.status == 422, answer.body
    assert aging_row(client, IMPORTED_ON)["total"] == "200.00"
    assert statement(client, IMPORTED_ON)["aging"]["total"]["amount"] == "200.00"
