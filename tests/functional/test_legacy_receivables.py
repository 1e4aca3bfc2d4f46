"""Migrated receivables are opening-balance open items of the ledger, settled like ours.

A receivables CSV POSTed to the import API books each legacy invoice's open amount as an
``opening_balance`` entry (DR receivables, CR opening balance equity), dated its issue date, in
the transaction that lands the invoice. From then on the statement, the aging report and the
credit figures agree on it, cash application matches it by its number, a clerk can allocate to
it, a reversal reopens it, once it is paid the collection run no longer dunns it, and a credit
note credits it by amounts (it has no lines).

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
from shared.domain.reconciliation import customer_differences
from shared.store import credit
from tests.functional.accounts import Answer, call
from tests.functional.books_machine import api_get, read_views
from tests.functional.cash import CUSTOMER, account, ledger_entries, received, reverse
from tests.functional.collections import charges, reminders, run_on
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem_answer, snapshot
from tests.functional.invoicing import (
    credit_note,
    documents,
    import_receivables,
    legacy_invoice,
    placed,
    ship,
    stored_xml,
)
from tests.unit.validation import validator

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


# --- credited by amounts ------------------------------------------------------------------------

PRICE_REDUCTION = {"description": "Price reduction: late delivery", "net_amount": "100.00"}


def credit_by_amounts(client: Client, invoice_id: str, *amounts: dict[str, str]) -> Answer:
    body = {
        "reason": "Agreed with the customer",
        "amounts": [{"tax_category": "standard", **amount} for amount in amounts],
    }
    return credit_note(client, invoice_id, body)


def test_a_migrated_invoice_is_credited_by_amounts_and_every_view_follows(
    client: Client, world: World, migrated: str
) -> None:
    # Given INV-2025-0533 (1,434.30 open)
    on(date(2026, 11, 5))

    # When a clerk credits 100.00 net at the standard rate
    answer = credit_by_amounts(client, RECENT, PRICE_REDUCTION)

    # Then a credit note of 119.00 (19 % VAT) names the migrated invoice and its issue date
    assert answer.status == 201, answer.body
    note = answer.body
    assert (note["kind"], note["total"]["amount"], note["tax_total"]["amount"]) == (
        "credit_note",
        "119.00",
        "19.00",
    )
    assert (note["credited_invoice_number"], note["credited_invoice_issued_on"]) == (
        "INV-2025-0533",
        "2026-10-01",
    )
    [line] = note["lines"]
    assert (line["name"], line["net_amount"], line["tax_code"]) == (
        "Price reduction: late delivery",
        "100.00",
        "S",
    )
    # and the migrated invoice owes 119.00 less; the ledger, the statement, the aging report
    # and the credit figures say the same
    shown = invoice(client, RECENT)
    assert (shown["amount_due"]["amount"], shown["amount_credited"]["amount"]) == (
        "1315.30",
        "119.00",
    )
    world.pump.drain()
    assert_views_agree(client, date(2026, 11, 5), "1635.30")
    [entry] = [e for e in ledger_entries(CUSTOMER) if e.kind == "credit_note"]
    assert (entry.invoice_id, entry.total) == (RECENT, Decimal("119.00"))


def test_the_stored_credit_note_of_a_migrated_invoice_passes_every_rule(
    client: Client, world: World, migrated: str
) -> None:
    # Given a credit note of INV-2025-0417 for goods at 19 % and a service at 7 %
    on(date(2026, 11, 5))
    reduced = {"description": "Training", "net_amount": "50.00", "tax_category": "reduced"}
    answer = credit_by_amounts(client, OLD, PRICE_REDUCTION, {**reduced, "supply": "services"})
    assert answer.status == 201, answer.body
    world.pump.drain()

    # When the UBL the delivery worker stored is validated
    [note] = documents(world, "credit_note")
    xml = stored_xml(world, note)

    # Then it passes the XSD, the CEN EN 16931 rules and the Peppol BIS rules
    assert note["total"]["amount"] == "172.50"  # 100 + 19 + 50 + 3.50
    assert validator().fatal(xml, peppol=True) == []


def test_credit_beyond_what_is_open_is_owed_to_the_customer(
    client: Client, world: World, migrated: str
) -> None:
    # Given INV-2025-0417's 320.00 paid in full since the import
    on(date(2026, 11, 5))
    payment = received("320.00", customer_id=CUSTOMER)
    assert allocate(client, payment.payment_id, OLD, "320.00").status == 201

    # When 100.00 net is credited on it
    answer = credit_by_amounts(client, OLD, PRICE_REDUCTION)

    # Then the customer is owed 119.00: a credit it can apply or have paid back
    assert answer.status == 201, answer.body
    credits = call(client, "GET", f"/customers/{CUSTOMER}/credits").body
    assert [(c["source"]["kind"], c["remaining"]["amount"]) for c in credits["credits"]] == [
        ("credit_note", "119.00")
    ]
    assert invoice(client, OLD)["status"] == "paid"
    # and every view agrees: 1,434.30 open, 119.00 held for the customer, 1,315.30 owed
    world.pump.drain()
    assert statement(client, date(2026, 11, 5))["closing_balance"]["amount"] == "1315.30"
    assert customer_differences(read_views(api_get(client), CUSTOMER)) == []


def test_a_migrated_invoice_is_credited_at_most_its_opening_balance(
    client: Client, world: World, migrated: str
) -> None:
    # Given INV-2025-0417 (320.00 open) credited in full: 268.91 + 19 % = 320.00
    on(date(2026, 11, 5))
    full = credit_by_amounts(client, OLD, {"description": "Return", "net_amount": "268.91"})
    assert full.status == 201, full.body
    assert full.body["total"]["amount"] == "320.00"
    assert invoice(client, OLD)["status"] == "credited"
    before = snapshot(world)

    # When another cent is credited
    answer = credit_by_amounts(client, OLD, {"description": "More", "net_amount": "0.01"})

    # Then it is refused at the amounts, and nothing is written
    assert_problem_answer(answer, 409, "fully-credited")
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"reason": "x"}, "#/amounts"),
        ({"reason": "x", "lines": [{"line_no": 1, "quantity": "1"}]}, "#/amounts"),
        (
            {
                "reason": "x",
                "amounts": [{**PRICE_REDUCTION, "tax_category": "standard"}],
                "lines": [{"line_no": 1, "quantity": "1"}],
            },
            "#/lines",
        ),
        (
            {
                "reason": "x",
                "amounts": [
                    {**PRICE_REDUCTION, "net_amount": "2000.00", "tax_category": "standard"}
                ],
            },
            "#/amounts",
        ),
        (
            {
                "reason": "x",
                "amounts": [{**PRICE_REDUCTION, "net_amount": "0", "tax_category": "standard"}],
            },
            "#/amounts/0/net_amount",
        ),
        (
            {
                "reason": "x",
                "amounts": [{**PRICE_REDUCTION, "net_amount": "1.001", "tax_category": "standard"}],
            },
            "#/amounts/0/net_amount",
        ),
    ],
    ids=["no-amounts", "lines-only", "lines-and-amounts", "beyond-open", "zero", "sub-cent"],
)
def test_credits_that_do_not_fit_a_migrated_invoice_answer_422_and_write_nothing(
    client: Client, world: World, migrated: str, body: dict[str, Any], pointer: str
) -> None:
    before = snapshot(world)

    answer = credit_note(client, RECENT, body)

    problem = assert_problem_answer(answer, 422, "credit-error")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "amount",
    [
        {"net_amount": "100.00", "tax_category": "luxury"},
        {"net_amount": "100.00", "tax_category": "standard", "supply": "rights"},
        {"net_amount": "-1.00", "tax_category": "standard"},
        {"net_amount": 100, "tax_category": "standard"},
        {"net_amount": "100.00"},
        {"description": "", "net_amount": "100.00", "tax_category": "standard"},
        {"description": "Bad\u0000name", "net_amount": "100.00", "tax_category": "standard"},
    ],
    ids=["category", "supply", "negative", "number", "no-category", "blank", "nul"],
)
def test_malformed_amounts_answer_422_and_write_nothing(
    client: Client, world: World, migrated: str, amount: dict[str, Any]
) -> None:
    before = snapshot(world)

    body = {"reason": "x", "amounts": [{"description": "Reduction", **amount}]}
    answer = credit_note(client, RECENT, body)

    assert_problem_answer(answer, 422, "validation-error")
    assert snapshot(world) == before


def test_an_invoice_of_ours_is_not_credited_by_amounts(client: Client, world: World) -> None:
    # Given an invoice this system issued
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [ours] = documents(world)
    before = snapshot(world)

    # When a clerk credits it by amounts
    answer = credit_by_amounts(client, ours["id"], PRICE_REDUCTION)

    # Then it is refused at the amounts: its lines are what is credited
    problem = assert_problem_answer(answer, 422, "credit-error")
    assert [error["pointer"] for error in problem["errors"]] == ["#/amounts"]
    assert snapshot(world) == before
