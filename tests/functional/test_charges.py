"""Fees and interest are receivables the customer settles like invoices, over the API.

- a clerk allocates part of a payment to a fee; unapplying it reopens the fee exactly;
- a credit note's credit (on a paid invoice) is applied to an interest charge;
- a customer who pays a reminder's total by camt.053 naming the invoice settles the invoice and
  both charges: the statement, aging report, credit figures and trial balance say nothing is owed;
  the bank reversing that payment reopens the invoice and both charges;
- hostile allocation lines and applications are refused (422) and change nothing.

cus_acme (the seed) dunns by the default policy: the second notice (due + 14) charges a 5.00 fee
and 8 % interest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from shared import clock
from shared.domain.reconciliation import amount, books_differences, customer_differences
from shared.store import charges as charge_store
from shared.store import ledger as ledger_store
from shared.store.table import to_dynamo
from tests.functional.accounts import call, create_customer
from tests.functional.bank_files import credit, post_statement, reversal, statement
from tests.functional.books_machine import api_get, read_books, read_views
from tests.functional.cash import CUSTOMER, allocate, issued_invoice, received, reverse
from tests.functional.collections import day, on, pay, run_on
from tests.functional.conftest import World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import credit_note

ISSUED = date(2026, 11, 2)
FEE = Decimal("5.00")


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def _charged(client: Client, world: World) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """An invoice dunned to the second notice: the invoice, its fee and its interest charge."""
    on(ISSUED)
    invoice = issued_invoice(client, world)
    assert invoice.due_on is not None
    run_on(world, day(invoice.due_on, 14))
    fee, interest = _open_charges(client)
    assert (fee["kind"], interest["kind"]) == ("fee", "interest")
    assert amount(fee["amount_due"]) == FEE and fee["invoice_id"] == invoice.invoice_id
    return invoice, fee, interest


def _open_charges(client: Client, customer_id: str = CUSTOMER) -> list[dict[str, Any]]:
    answer = call(client, "GET", f"/customers/{customer_id}/charges")
    assert answer.status == 200, answer.body
    charges: list[dict[str, Any]] = answer.body["charges"]
    return charges


def _charge(client: Client, charge_id: str) -> dict[str, Any]:
    answer = call(client, "GET", f"/customers/{CUSTOMER}/charges?status=all")
    assert answer.status == 200, answer.body
    [found] = [charge for charge in answer.body["charges"] if charge["id"] == charge_id]
    return found


def _agree(client: Client) -> dict[str, Any]:
    """Every view of the customer agrees (the reconciliation identities); its statement."""
    get = api_get(client)
    views = read_views(get, CUSTOMER)
    assert customer_differences(views) == []
    assert books_differences(*read_books(get)) == []
    return dict(views.statement)


def _open_item(statement: dict[str, Any], item_id: str) -> Decimal:
    return sum(
        (
            amount(item["amount_due"])
            for item in statement["aging"]["open_invoices"]
            if item["invoice_id"] == item_id
        ),
        Decimal(0),
    )


# --- a clerk settles a fee -----------------------------------------------------------------------


def test_a_clerk_allocates_part_of_a_payment_to_a_fee_and_unapplying_reopens_it(
    client, world: World
):
    # Given a fee and interest charged on an overdue invoice, and a payment of the customer's
    invoice, fee, interest = _charged(client, world)
    payment = received("20.00", customer_id=CUSTOMER)

    # When a clerk allocates 5.00 of it to the fee
    answer = allocate(
        client, payment.payment_id, {"allocations": [{"charge_id": fee["id"], "amount": "5.00"}]}
    )

    # Then the fee is settled (listed no more as open), the rest of the payment is unapplied
    assert answer.status == 201, answer.body
    [allocation] = answer.body["allocations"]
    assert allocation["charge_id"] == fee["id"] and allocation["invoice_number"] == invoice.number
    assert answer.body["unapplied"]["amount"] == "15.00"
    assert [c["id"] for c in _open_charges(client)] == [interest["id"]]
    settled = _charge(client, fee["id"])
    assert settled["status"] == "settled" and amount(settled["amount_due"]) == 0
    statement = _agree(client)
    assert _open_item(statement, fee["id"]) == 0
    assert _open_item(statement, invoice.invoice_id) == invoice.total  # the invoice untouched

    # When the clerk takes the allocation back
    taken = reverse(client, payment.payment_id, allocation["id"])

    # Then the fee is owed again, exactly, and every view agrees
    assert taken.status == 200, taken.body
    reopened = _charge(client, fee["id"])
    assert reopened["status"] == "open" and amount(reopened["amount_due"]) == FEE
    assert _open_item(_agree(client), fee["id"]) == FEE
    assert amount(call(client, "GET", f"/payments/{payment.payment_id}").body["unapplied"]) == (
        Decimal("20.00")
    )


# --- a credit settles interest -------------------------------------------------------------------


def test_a_credit_note_credit_is_applied_to_an_interest_charge(client, world: World):
    # Given interest charged on an overdue invoice, and a credit note on another, paid invoice
    invoice, _, interest = _charged(client, world)
    paid = issued_invoice(client, world)
    pay(client, paid, str(paid.total))
    world.pump.drain()
    note = credit_note(client, paid.invoice_id, {"reason": "Order returned"})
    assert note.status == 201, note.body
    world.pump.drain()
    due = amount(interest["amount_due"])

    # When a clerk applies the note's credit to the interest charge
    body = {
        "source": {"kind": "credit_note", "id": note.body["id"]},
        "charge_id": interest["id"],
        "amount": str(due),
    }
    answer = call(client, "POST", f"/customers/{CUSTOMER}/credits/applications", body=body)

    # Then the interest is settled, the credit is less by as much, and every view agrees
    assert answer.status == 201, answer.body
    assert answer.body["charge"]["id"] == interest["id"]
    assert answer.body["charge"]["status"] == "settled"
    credit_left = amount(answer.body["credit"]["remaining"])
    assert credit_left == amount(note.body["total"]) - due
    assert _charge(client, interest["id"])["status"] == "settled"
    statement = _agree(client)
    assert _open_item(statement, interest["id"]) == 0
    assert _open_item(statement, invoice.invoice_id) == invoice.total


# --- the reminder's total, paid by wire ----------------------------------------------------------


def test_paying_the_reminders_total_by_camt053_settles_the_invoice_and_its_charges(
    client, world: World
):
    # Given an invoice dunned to the second notice, with its fee and interest
    invoice, fee, interest = _charged(client, world)
    total = invoice.total + amount(fee["amount_due"]) + amount(interest["amount_due"])

    # When the customer wires the reminder's total naming the invoice (a camt.053 entry)
    imported = post_statement(
        client,
        statement(
            credit(total, reference="REF-CHG-1", remittance=f"Invoice {invoice.number}"),
            statement_id="STMT-CHG-1",
        ),
    )
    assert imported.status_code == 201, imported.body
    world.pump.drain()

    # Then the invoice is paid and both charges are settled
    assert call(client, "GET", f"/invoices/{invoice.invoice_id}").body["status"] == "paid"
    assert _open_charges(client) == []
    # and nothing is owed or held by any view: statement, aging report, credit figures, books
    statement_ = _agree(client)
    assert amount(statement_["closing_balance"]) == 0
    assert statement_["aging"]["open_invoices"] == []
    today = clock.now().date().isoformat()
    aging = call(client, "GET", f"/reports/aging?as_of={today}").body
    rows = [row for group in aging["currencies"] for row in group["customers"]]
    assert [row for row in rows if row.get("customer_id") == CUSTOMER] == []
    figures = call(client, "GET", f"/customers/{CUSTOMER}").body["credit"]
    assert amount(figures["open_receivables"]) == 0 and amount(figures["unapplied_cash"]) == 0
    trial = call(client, "GET", f"/ledger/trial-balance?as_of={today}").body
    receivables = [
        amount(line["balance"])
        for group in trial["currencies"]
        for line in group["accounts"]
        if line["account"] == "receivables"
    ]
    assert sum(receivables, Decimal(0)) == 0

    # When the bank reverses that payment
    reversed_ = post_statement(
        client,
        statement(
            reversal(total, reference="REV-CHG-1", original="REF-CHG-1"),
            statement_id="STMT-CHG-REV",
        ),
    )
    assert reversed_.status_code == 201, reversed_.body
    world.pump.drain()

    # Then the invoice and both charges are owed again, exactly
    assert call(client, "GET", f"/invoices/{invoice.invoice_id}").body["status"] != "paid"
    reopened = {c["id"]: amount(c["amount_due"]) for c in _open_charges(client)}
    assert reopened == {fee["id"]: FEE, interest["id"]: amount(interest["amount_due"])}
    assert amount(_agree(client)["closing_balance"]) == total


# --- hostile -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "pointer"),
    [
        ({"amount": "1.00"}, "#/allocations/0"),
        ({"invoice_id": "INVOICE", "charge_id": "FEE", "amount": "1.00"}, "#/allocations/0"),
        ({"charge_id": "fee:inv_nope:level2", "amount": "1.00"}, "#/allocations/0/charge_id"),
        ({"charge_id": "FEE", "amount": "1.00", "payer": "OTHER"}, "#/allocations/0/charge_id"),
        ({"charge_id": "FEE", "amount": "5.01"}, "#/allocations/0/amount"),
        ({"charge_id": "FEE", "amount": "1.00", "discount": "1.00"}, "#/allocations/0/discount"),
        ({"charge_id": "SETTLED", "amount": "1.00"}, "#/allocations/0/charge_id"),
    ],
)
def test_allocation_lines_a_charge_cannot_take_are_refused_and_change_nothing(
    client, world: World, line: dict[str, str], pointer: str
):
    line = dict(line)
    # Given a fee and interest of the customer, one of them settled
    invoice, fee, interest = _charged(client, world)
    due = interest["amount_due"]["amount"]
    settle = received(due, customer_id=CUSTOMER)
    body = {"allocations": [{"charge_id": interest["id"], "amount": due}]}
    assert allocate(client, settle.payment_id, body).status == 201
    # and a payment of the customer (or, for "payer", of another customer)
    payer = CUSTOMER
    if line.pop("payer", None):
        payer = create_customer(client, legal_name="Globex Handel GmbH")["id"]
    names = {"INVOICE": invoice.invoice_id, "FEE": fee["id"], "SETTLED": interest["id"]}
    named = {key: names.get(value, value) for key, value in line.items()}
    payment = received("50.00", customer_id=payer)
    before = snapshot(world)

    # When a clerk allocates by the hostile line
    answer = allocate(client, payment.payment_id, {"allocations": [named]})

    # Then it is refused, pointing at the line, and nothing changed
    assert answer.status == 422, answer.body
    assert pointer in [error["pointer"] for error in answer.body.get("errors", [])], answer.body
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("target", "pointer"),
    [
        ({}, "#/invoice_id"),
        ({"invoice_id": "INVOICE", "charge_id": "FEE"}, "#/invoice_id"),
        ({"charge_id": "fee:inv_nope:level2"}, "#/charge_id"),
        ({"charge_id": "FEE", "amount": "5.01"}, "#/amount"),
    ],
)
def test_credit_applications_a_charge_cannot_take_are_refused_and_change_nothing(
    client, world: World, target: dict[str, str], pointer: str
):
    # Given a fee, and a payment's unapplied credit of the customer
    invoice, fee, _ = _charged(client, world)
    payment = received("50.00", customer_id=CUSTOMER)
    world.pump.drain()
    names = {"INVOICE": invoice.invoice_id, "FEE": fee["id"]}
    body = {
        "source": {"kind": "payment", "id": payment.payment_id},
        "amount": "1.00",
        **{key: names.get(value, value) for key, value in target.items()},
    }
    before = snapshot(world)

    # When a clerk applies the credit by the hostile request
    answer = call(client, "POST", f"/customers/{CUSTOMER}/credits/applications", body=body)

    # Then it is refused, pointing at the field, and nothing changed
    assert answer.status == 422, answer.body
    assert pointer in [error["pointer"] for error in answer.body.get("errors", [])], answer.body
    assert snapshot(world) == before


def test_the_charges_listing_refuses_an_unknown_status(client, world: World):
    answer = call(client, "GET", f"/customers/{CUSTOMER}/charges?status=paid")
    assert answer.status == 400, answer.body
    assert call(client, "GET", "/customers/cus_nobody/charges").status == 404


def test_a_charge_is_settled_whole_even_when_charged_before_charges_had_records(
    client, world: World
):
    # Given a fee whose record is missing (charged before charges had their own record: its
    # entry was posted with a LEDGERENTRY# guard then, as every entry's was)
    _, fee, _ = _charged(client, world)
    dynamodb = world.session.client("dynamodb")
    table_name = world.outputs["TableName"]
    dynamodb.delete_item(
        TableName=table_name,
        Key={"pk": {"S": f"LEDGER#{CUSTOMER}"}, "sk": {"S": f"CHARGE#{fee['id']}"}},
    )
    [entry] = [
        item
        for item in world.table_items()
        if item["pk"] == f"LEDGER#{CUSTOMER}" and item.get("entry_id") == fee["id"]
    ]
    guard_pk, guard_sk = ledger_store.guard_key(fee["id"])
    guard = {"pk": guard_pk, "sk": guard_sk, "entity": "LedgerEntryGuard", "entry_id": fee["id"]}
    guard |= {"entry_pk": entry["pk"], "entry_sk": entry["sk"]}
    dynamodb.put_item(TableName=table_name, Item=to_dynamo(guard))
    assert _charge(client, fee["id"])["version"] == 0

    # When a clerk allocates cash to it
    payment = received("5.00", customer_id=CUSTOMER)
    body = {"allocations": [{"charge_id": fee["id"], "amount": "5.00"}]}
    answer = allocate(client, payment.payment_id, body)

    # Then its record is created settled, and the views agree
    assert answer.status == 201, answer.body
    settled = _charge(client, fee["id"])
    assert settled["status"] == "settled" and settled["version"] == 1
    assert _open_item(_agree(client), fee["id"]) == 0


# --- the oldest-first credit policy --------------------------------------------------------------


def test_the_oldest_first_policy_applies_credits_to_open_charges_after_older_invoices(
    client, world: World
):
    # Given a customer whose credits are applied oldest first, an invoice dunned with its charges
    customer = call(client, "GET", f"/customers/{CUSTOMER}").body
    policy = {"version": customer["version"], "credit_application": "oldest_first"}
    assert call(client, "PATCH", f"/customers/{CUSTOMER}", body=policy).status == 200
    invoice, fee, interest = _charged(client, world)
    # and a larger invoice, paid
    lines = [{"sku": "WIDGET-1", "quantity": 10, "unit_price": "19.99"}]
    paid = issued_invoice(client, world, lines=lines)
    pay(client, paid, str(paid.total))
    world.pump.drain()
    owed = invoice.total + amount(fee["amount_due"]) + amount(interest["amount_due"])
    assert paid.total > owed

    # When the paid invoice is credited whole (a credit larger than all that is owed)
    note = credit_note(client, paid.invoice_id, {"reason": "Order returned"})
    assert note.status == 201, note.body
    world.pump.drain()

    # Then the credit paid the invoice and both its charges; the rest is still held
    assert call(client, "GET", f"/invoices/{invoice.invoice_id}").body["status"] == "paid"
    assert _open_charges(client) == []
    statement = _agree(client)
    assert amount(statement["aging"]["unapplied"]) == paid.total - owed
    assert amount(statement["closing_balance"]) == owed - paid.total


def test_a_charge_written_meanwhile_is_a_conflict_and_nothing_changes(
    client, world: World, monkeypatch
):
    # Given a fee, and a reader that keeps seeing it as it was before someone wrote it
    _, fee, _ = _charged(client, world)
    payment = received("5.00", customer_id=CUSTOMER)
    body = {"allocations": [{"charge_id": fee["id"], "amount": "2.00"}]}
    assert allocate(client, payment.payment_id, body).status == 201
    read = charge_store.get

    def stale(customer_id: str, charge_id: str) -> Any:
        found = read(customer_id, charge_id)
        return found and found.model_copy(update={"version": found.version - 1})

    monkeypatch.setattr(charge_store, "get", stale)
    again = received("3.00", customer_id=CUSTOMER)
    before = snapshot(world)

    # When a clerk allocates to it on what was read
    answer = allocate(
        client, again.payment_id, {"allocations": [{"charge_id": fee["id"], "amount": "1.00"}]}
    )

    # Then the version guard refuses it: 409, and nothing changed
    assert answer.status == 409, answer.body
    assert snapshot(world) == before
