"""Bank entries over the API: unique per (account, entry reference), and reversals that reverse.

Each test posts camt.053 files to POST /bank-statements as a bank's file transfer would deliver
them, lets the workers run (cash application), and reads what the books then say.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.domain.ledger import Account
from shared.store import ledger as ledger_store
from shared.store.payments import UNIDENTIFIED
from tests.functional.accounts import call
from tests.functional.bank_files import (
    OTHER_ACCOUNT,
    OUR_ACCOUNT,
    credit,
    post_statement,
    reversal,
    statement,
)
from tests.functional.cash import CUSTOMER, account, invoice_now, issued_invoice, payment_now
from tests.functional.conftest import World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, exposure
from tests.functional.payment_intake import event_data, payments

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def conforms(instance: Any, pointer: str) -> None:
    """``instance`` is what openapi.yaml documents at ``pointer`` (a JSON pointer)."""
    spec = Resource.from_contents(SPEC, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:otc:openapi", spec)
    Draft202012Validator({"$ref": f"urn:otc:openapi#{pointer}"}, registry=registry).validate(
        instance
    )


def imported(client: Any, world: World, content: bytes) -> dict[str, Any]:
    """Post the file, let the workers run; the import's summary (as documented)."""
    response = post_statement(client, content)
    assert response.status_code == 201, response.body
    world.pump.drain()
    summary: dict[str, Any] = json.loads(response.body)
    conforms(summary, "/components/schemas/StatementImport")
    return summary


def paid_by_bank(client: Any, world: World, reference: str, **order: Any) -> tuple[Any, str]:
    """An issued invoice paid in full by a bank credit quoting its number: (invoice, payment)."""
    invoice = issued_invoice(client, world, **order)
    summary = imported(
        client,
        world,
        statement(
            credit(
                invoice.total,
                reference=reference,
                remittance=invoice.number,
                end_to_end_id=f"E2E-{reference}",
            ),
            statement_id=f"STMT-{reference}",
        ),
    )
    [payment_id] = summary["payments"]
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    return invoice, payment_id


def held(client: Any) -> list[dict[str, Any]]:
    answer = call(client, "GET", "/payments?status=held")
    assert answer.status == 200, answer.body
    listing = "/paths/~1payments/get/responses/200/content/application~1json/schema"
    conforms(answer.body, listing)
    entries: list[dict[str, Any]] = answer.body["held_entries"]
    return entries


# --- unique per (account, entry reference) ----------------------------------------------------


def test_a_credit_reusing_another_accounts_entry_reference_is_received(client, world: World):
    # Given an invoice paid into our main account under the bank's reference REF-0001
    paid_by_bank(client, world, "REF-0001")
    second = issued_invoice(client, world, purchase_order="PO-2")

    # When the statement of our second account reuses that reference for another credit
    summary = imported(
        client,
        world,
        statement(
            credit(second.total, reference="REF-0001", remittance=second.number),
            account=OTHER_ACCOUNT,
            statement_id="STMT-OTHER-1",
        ),
    )

    # Then it is a payment of its own, and it pays the second invoice
    assert summary["duplicates"] == 0 and len(summary["payments"]) == 1
    paid = invoice_now(second.invoice_id)
    assert (paid.status.value, paid.amount_due) == ("paid", Decimal(0))
    received = payment_now(summary["payments"][0])
    assert received.external_id == "REF-0001" and received.amount == second.total
    assert received.metadata["account"] == OTHER_ACCOUNT
    assert len(payments(world)) == 2


def test_the_same_entry_in_an_overlapping_statement_is_received_once(client, world: World):
    # Given an intraday statement: a credit with a reference, one without (the bank gave none)
    invoice = issued_invoice(client, world)
    unreferenced = credit("12.34", reference=None, remittance="Danke")
    first = imported(
        client,
        world,
        statement(
            credit(invoice.total, reference="REF-0002", remittance=invoice.number),
            unreferenced,
            statement_id="STMT-INTRADAY",
        ),
    )
    assert len(first["payments"]) == 2

    # When the end-of-day statement reports both again, and one more entry without a reference
    again = imported(
        client,
        world,
        statement(
            credit(invoice.total, reference="REF-0002", remittance=invoice.number),
            unreferenced,
            credit("12.34", reference=None, remittance="Danke", day="2026-11-21"),
            statement_id="STMT-EOD",
        ),
    )

    # Then only the new entry becomes a payment; the invoice was paid once
    assert again["duplicates"] == 2 and len(again["payments"]) == 1
    assert len(payments(world)) == 3
    assert invoice_now(invoice.invoice_id).amount_paid == invoice.total
    assert sorted(p["amount"]["amount"] for p in payments(world)) == sorted(
        ["12.34", "12.34", str(invoice.total)]
    )


# --- reversals and returns --------------------------------------------------------------------


def test_a_reversed_credit_reopens_the_invoice_it_paid(client, world: World):
    # Given an invoice paid by a bank credit, and the customer's figures then
    invoice, payment_id = paid_by_bank(client, world, "REF-0003")
    paid_figures = exposure(CUSTOMER)

    # When the bank reverses that credit (RvslInd, naming the original's AcctSvcrRef)
    summary = imported(
        client,
        world,
        statement(
            reversal(invoice.total, reference="REV-0003", original="REF-0003"),
            statement_id="STMT-REV-0003",
        ),
    )

    # Then the payment is reversed, and the invoice owes again exactly what it paid
    assert summary["reversed_payments"] == [payment_id] and summary["held_reversals"] == []
    assert summary["payments"] == [] and summary["skipped_debits"] == 0
    payment = payment_now(payment_id)
    assert payment.status.value == "reversed" and payment.reversed == invoice.total
    assert payment.unapplied == 0 and payment.applied == 0
    assert [a.reversed_at is not None for a in payment.allocations] == [True]
    assert payment.metadata["reversal_entry"] == f"{OUR_ACCOUNT}:REV-0003"
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("open", invoice.total)
    # the cash went out again in the ledger, in a balanced entry of its own
    entries = [e for e in ledger_store.entries_for(CUSTOMER) if e.kind == "bank_reversal"]
    assert [(e.entry_id, e.total) for e in entries] == [
        (f"bank_reversal:{payment_id}", invoice.total)
    ]
    assert account(CUSTOMER, Account.CASH) == 0
    assert account(CUSTOMER, Account.RECEIVABLES) == invoice.total
    assert_ledger_balanced(CUSTOMER)
    after = exposure(CUSTOMER)
    assert after.open_receivables == paid_figures.open_receivables + invoice.total
    assert after.unapplied_cash == paid_figures.unapplied_cash
    [reversed_event] = event_data(world, "PaymentReversed")
    assert reversed_event["reversal"]["entry_key"] == f"{OUR_ACCOUNT}:REV-0003"
    assert [a["invoice_id"] for a in reversed_event["unapplied_allocations"]] == [
        invoice.invoice_id
    ]
    [reopened_event] = event_data(world, "InvoiceReopened")
    assert reopened_event["id"] == invoice.invoice_id
    # and GET /payments/{id} shows it reversed
    shown = call(client, "GET", f"/payments/{payment_id}")
    conforms(shown.body, "/components/schemas/Payment")
    assert shown.body["status"] == "reversed" and shown.body["reversed"]["amount"] == str(
        invoice.total
    )


def test_a_reversal_reported_again_reverses_nothing_twice(client, world: World):
    # Given a reversed credit
    invoice, payment_id = paid_by_bank(client, world, "REF-0004")
    reversing = reversal(invoice.total, reference="REV-0004", original="REF-0004")
    imported(client, world, statement(reversing, statement_id="STMT-REV-A"))
    before = payment_now(payment_id), invoice_now(invoice.invoice_id)

    # When an overlapping statement reports the same reversal entry again
    summary = imported(client, world, statement(reversing, statement_id="STMT-REV-B"))

    # Then it is a duplicate and nothing moves
    assert summary["duplicates"] == 1 and summary["reversed_payments"] == []
    assert (payment_now(payment_id), invoice_now(invoice.invoice_id)) == before
    assert len(event_data(world, "PaymentReversed")) == 1
    assert_ledger_balanced(CUSTOMER)


def test_a_return_with_its_reason_code_found_by_end_to_end_id_reverses_the_payment(
    client, world: World
):
    # Given an invoice paid by a bank credit with an end-to-end id
    invoice, payment_id = paid_by_bank(client, world, "REF-0005")

    # When the payer's bank returns it (RtrInf reason AC04), naming only the EndToEndId
    summary = imported(
        client,
        world,
        statement(
            reversal(
                invoice.total,
                reference="RET-0005",
                reversal_indicator=False,
                end_to_end_id="E2E-REF-0005",
                reason="AC04",
            ),
            statement_id="STMT-RET-0005",
        ),
    )

    # Then the payment is reversed with the reason, and the invoice is open again
    assert summary["reversed_payments"] == [payment_id]
    payment = payment_now(payment_id)
    assert payment.status.value == "reversed" and payment.metadata["reversal_reason"] == "AC04"
    assert invoice_now(invoice.invoice_id).amount_due == invoice.total
    assert_ledger_balanced(CUSTOMER)


def test_a_credit_reversed_in_its_own_statement_leaves_the_suspense_ledger_even(
    client, world: World
):
    # When one file holds a credit nobody can match and its reversal (return reason MS03)
    summary = imported(
        client,
        world,
        statement(
            credit("79.00", reference="REF-0006", remittance="Danke"),
            reversal(
                "79.00",
                reference="RET-0006",
                reversal_indicator=False,
                original="REF-0006",
                reason="MS03",
            ),
            statement_id="STMT-0006",
        ),
    )

    # Then the payment is received and reversed, and the suspense ledger holds nothing
    [payment_id] = summary["payments"]
    assert summary["reversed_payments"] == [payment_id]
    assert payment_now(payment_id).status.value == "reversed"
    assert ledger_store.balance(UNIDENTIFIED) == 0
    assert account(UNIDENTIFIED, Account.CASH) == 0
    assert_ledger_balanced(UNIDENTIFIED)
    unapplied = call(client, "GET", "/payments?status=unapplied")
    assert payment_id not in [p["id"] for p in unapplied.body["payments"]]


def test_a_reversal_without_its_original_waits_on_the_worklist(client, world: World):
    # Given a paid invoice
    invoice, payment_id = paid_by_bank(client, world, "REF-0007")
    before = snapshot_of_money(world)

    # When the bank reverses a credit this system never received
    summary = imported(
        client,
        world,
        statement(
            reversal("500.00", reference="REV-0007", original="REF-UNKNOWN", reason="AM05"),
            statement_id="STMT-REV-0007",
        ),
    )

    # Then it waits on the worklist with its reason, and no payment or invoice changed
    assert summary["reversed_payments"] == []
    assert summary["held_reversals"] == [f"{OUR_ACCOUNT}:REV-0007"]
    [entry] = held(client)
    assert entry["entry_key"] == f"{OUR_ACCOUNT}:REV-0007"
    assert entry["amount"] == {"amount": "500.00", "currency": "EUR"}
    assert entry["kind"] == "reversal" and entry["credit_debit"] == "DBIT"
    assert entry["return_reason"] == "AM05"
    assert entry["original_references"] == {"acct_svcr_ref": "REF-UNKNOWN"}
    assert "no payment received" in entry["reason"]
    assert snapshot_of_money(world) == before
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert payment_now(payment_id).status.value == "applied"


def test_a_reversal_of_another_amount_is_held_and_reverses_nothing(client, world: World):
    # Given a paid invoice
    invoice, payment_id = paid_by_bank(client, world, "REF-0008")

    # When a "reversal" names the payment but another amount
    imported(
        client,
        world,
        statement(
            reversal("1.00", reference="REV-0008", original="REF-0008"),
            statement_id="STMT-REV-0008",
        ),
    )

    # Then a clerk sees why, and the invoice stays paid
    [entry] = held(client)
    assert "differs from the payment" in entry["reason"]
    assert payment_now(payment_id).status.value == "applied"
    assert invoice_now(invoice.invoice_id).status.value == "paid"


def test_a_credit_reversing_a_debit_is_never_a_customer_payment(client, world: World):
    # Given an open invoice of exactly the amount the bank will credit
    invoice = issued_invoice(client, world)

    # When the bank reverses one of its debits (a CRDT entry with RvslInd true)
    summary = imported(
        client,
        world,
        statement(
            reversal(invoice.total, reference="REV-0009", indicator="CRDT", original="FEE-1"),
            statement_id="STMT-REV-0009",
        ),
    )

    # Then no payment is received and nothing is applied; the entry waits for a clerk
    assert summary["payments"] == [] and payments(world) == []
    assert event_data(world, "PaymentReceived") == []
    assert invoice_now(invoice.invoice_id).amount_due == invoice.total
    [entry] = held(client)
    assert entry["credit_debit"] == "CRDT" and "not a customer payment" in entry["reason"]


def snapshot_of_money(world: World) -> list[dict[str, Any]]:
    """Payments, invoices and journal entries as stored."""
    kept = ("Payment", "Invoice", "LedgerEntry", "CustomerCredit")
    return [item for item in snapshot(world) if item.get("entity") in kept]
