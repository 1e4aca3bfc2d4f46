"""A payment or write-off taken back after a credit note turned what it settled into credit.

A credit note on a paid invoice owes the customer what the payment had paid (a credit). When
the bank then reverses that payment, the customer never paid: the credit goes back onto the
invoice, which stays settled by its credit note. Had the customer already been paid the credit
back, that money is owed again on the invoice. A write-off reversed after a credit note on the
written-off invoice works the same way. Either way every view agrees to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.domain import reconciliation
from shared.domain.ledger import Account
from tests.functional.accounts import call, new_staff
from tests.functional.bank_files import reversal, statement
from tests.functional.books_machine import api_get, read_books, read_views
from tests.functional.cash import (
    CUSTOMER,
    account,
    invoice_now,
    issued_invoice,
    ledger_entries,
    paid_in,
    payment_now,
)
from tests.functional.conftest import World
from tests.functional.invoicing import assert_ledger_balanced, credit_note
from tests.functional.test_bank_reversals import imported, paid_by_bank


def pay_back(client: Any, credit_note_id: str, amount: str, reference: str) -> None:
    """Pay the customer ``amount`` of the credit note's credit by bank transfer."""
    body = {
        "source": {"kind": "credit_note", "id": credit_note_id},
        "amount": amount,
        "method": "bank_transfer",
        "reference": reference,
    }
    answer = call(client, "POST", f"/customers/{CUSTOMER}/credits/refunds", body=body)
    assert answer.status == 201, answer.body


def credited_then_reversed(client: Any, world: World, reference: str, *, refunded: str | None):
    """An invoice paid by bank, credited whole, (its credit partly paid back,) then the bank
    reverses the payment: (invoice, payment id, credit note)."""
    invoice, payment_id = paid_by_bank(client, world, reference)
    note = credit_note(client, invoice.invoice_id, {"reason": "Goods returned"})
    assert note.status == 201, note.body
    world.pump.drain()
    if refunded:
        pay_back(client, note.body["id"], refunded, f"OUT-{reference}")
    summary = imported(
        client,
        world,
        statement(
            reversal(invoice.total, reference=f"REV-{reference}", original=reference),
            statement_id=f"STMT-REV-{reference}",
        ),
    )
    assert summary["reversed_payments"] == [payment_id], summary
    return invoice, payment_id, note.body


def assert_every_view_agrees(client: Any) -> None:
    get = api_get(client)
    found = reconciliation.customer_differences(read_views(get, CUSTOMER))
    found += reconciliation.books_differences(*read_books(get))
    assert found == []
    assert_ledger_balanced(CUSTOMER)


def assert_no_credit_left(client: Any, owed: str) -> None:
    """The credit is used up (applied back, or paid out) and the customer owes ``owed``."""
    credits = call(client, "GET", f"/customers/{CUSTOMER}/credits").body
    assert credits["credits"] == []
    assert (credits["credit"]["unapplied_cash"], credits["credit"]["open_receivables"]) == (
        "0.00",
        owed,
    )
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal(owed)
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == 0


def assert_applied_back(invoice: Any, note: dict[str, Any]) -> None:
    """The note's whole credit went back onto its invoice, in an entry of its own."""
    [applied_back] = [e for e in ledger_entries(CUSTOMER) if e.kind == "credit_application"]
    assert (applied_back.invoice_id, applied_back.total) == (invoice.invoice_id, invoice.total)
    assert note["number"] in applied_back.memo


def test_the_credit_goes_back_onto_its_invoice_when_the_payment_behind_it_is_reversed(
    client: Any, world: World
) -> None:
    invoice, payment_id, note = credited_then_reversed(client, world, "REF-CR-1", refunded=None)

    # Then the invoice stays settled by its credit note, and nothing is owed either way
    after = invoice_now(invoice.invoice_id)
    assert (after.status.value, after.amount_due, after.amount_reclaimed) == (
        "credited",
        0,
        0,
    )
    assert payment_now(payment_id).status.value == "reversed"
    assert_no_credit_left(client, owed="0.00")
    # the credit was applied back to its own invoice, in an entry of its own
    assert_applied_back(invoice, note)
    for name in (Account.RECEIVABLES, Account.UNAPPLIED_CASH, Account.CASH):
        assert account(CUSTOMER, name) == 0, name
    assert_every_view_agrees(client)


def test_credit_already_paid_back_is_owed_again_on_the_invoice(client: Any, world: World) -> None:
    invoice, _, _ = credited_then_reversed(client, world, "REF-CR-2", refunded="30.00")

    # Then what is left of the credit goes back onto the invoice, and the 30.00 the customer
    # was sent is owed on it again
    after = invoice_now(invoice.invoice_id)
    assert (after.status.value, after.amount_due, after.amount_reclaimed) == (
        "open",
        Decimal("30.00"),
        Decimal("30.00"),
    )
    shown = call(client, "GET", f"/invoices/{invoice.invoice_id}").body
    assert shown["amount_due"] == {"amount": "30.00", "currency": "EUR"}
    assert shown["amount_reclaimed"] == {"amount": "30.00", "currency": "EUR"}
    assert_no_credit_left(client, owed="30.00")
    assert_every_view_agrees(client)

    # And the customer settles it like any invoice
    paid_in(world, "30.00", customer_id=CUSTOMER, remittance=invoice.number)
    world.pump.drain()
    assert invoice_now(invoice.invoice_id).amount_due == 0
    assert_every_view_agrees(client)


def credited_then_write_off_reversed(client: Any, world: World, *, refunded: str | None):
    """An invoice written off whole, credited whole (its credit partly paid back), then the
    write-off reversed: (invoice, credit note, the reversal's answer)."""
    invoice = issued_invoice(client, world)
    _, manager = new_staff(client, "credit_manager")
    reason = {"reason": "Customer insolvent"}
    written = call(
        client,
        "POST",
        f"/invoices/{invoice.invoice_id}/write-offs",
        key=manager,
        body={"amount": str(invoice.total), **reason},
    )
    assert written.status == 201, written.body
    note = credit_note(client, invoice.invoice_id, {"reason": "Goods returned"})
    assert note.status == 201, note.body
    world.pump.drain()
    if refunded:
        pay_back(client, note.body["id"], refunded, f"OUT-{invoice.number}")
    write_off_id = written.body["write_off"]["id"]
    reversed_ = call(
        client,
        "POST",
        f"/invoices/{invoice.invoice_id}/write-offs/{write_off_id}/reversal",
        key=manager,
        body={"reason": "The administrator paid a dividend after all"},
    )
    world.pump.drain()
    return invoice, note.body, reversed_


def test_the_credit_goes_back_onto_its_invoice_when_its_write_off_is_reversed(
    client: Any, world: World
) -> None:
    invoice, note, answer = credited_then_write_off_reversed(client, world, refunded=None)

    # Then the invoice stays settled by its credit note, and nothing is owed either way
    assert answer.status == 200, answer.body
    after = invoice_now(invoice.invoice_id)
    assert (after.status.value, after.amount_due, after.amount_written_off) == ("credited", 0, 0)
    assert answer.body["invoice"] == after.to_wire()
    assert_no_credit_left(client, owed="0.00")
    assert_applied_back(invoice, note)
    for name in (Account.RECEIVABLES, Account.UNAPPLIED_CASH, Account.BAD_DEBT_EXPENSE):
        assert account(CUSTOMER, name) == 0, name
    assert_every_view_agrees(client)


def test_credit_paid_back_is_owed_again_when_the_write_off_is_reversed(
    client: Any, world: World
) -> None:
    invoice, _, answer = credited_then_write_off_reversed(client, world, refunded="30.00")

    # Then the rest of the credit goes back onto the invoice and the 30.00 sent is owed again
    assert answer.status == 200, answer.body
    after = invoice_now(invoice.invoice_id)
    assert (after.status.value, after.amount_due, after.amount_reclaimed) == (
        "open",
        Decimal("30.00"),
        Decimal("30.00"),
    )
    assert_no_credit_left(client, owed="30.00")
    assert_every_view_agrees(client)
