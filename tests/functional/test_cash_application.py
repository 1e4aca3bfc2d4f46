"""Cash application end to end: payments received -> matched -> invoices paid, ledger, credit."""

from __future__ import annotations

from decimal import Decimal

from shared.domain.ledger import Account
from shared.store import ledger as ledger_store
from shared.store.payments import UNIDENTIFIED
from tests.functional.cash import (
    CUSTOMER,
    account,
    bus_body,
    deliver_to_cash_application,
    event_data,
    invoice_now,
    issued_invoice,
    paid_in,
    received,
)
from tests.functional.conftest import World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, exposure


def test_a_payment_naming_its_invoice_pays_it_and_moves_out_of_suspense(world: World, client):
    # Given an issued invoice and the customer's credit figures
    invoice = issued_invoice(client, world)
    before = exposure(CUSTOMER)

    # When a payment of an unidentified payer arrives whose metadata names the invoice
    payment = paid_in(world, str(invoice.total), metadata={"invoice_number": invoice.number})

    # Then the invoice is paid, and the payment is applied to it and now the customer's
    paid = invoice_now(invoice.invoice_id)
    assert (paid.status.value, paid.amount_paid, paid.amount_due) == ("paid", invoice.total, 0)
    assert payment.status.value == "applied" and payment.customer_id == CUSTOMER
    [allocation] = payment.allocations
    assert (allocation.invoice_id, allocation.amount) == (invoice.invoice_id, invoice.total)
    assert allocation.applied_by == "cash-application" and allocation.evidence
    [paid_event] = event_data(world, "InvoicePaid")
    assert (paid_event["id"], paid_event["payment_id"]) == (invoice.invoice_id, payment.payment_id)
    [applied] = event_data(world, "PaymentApplied")
    assert applied["decision"]["auto"] is True and applied["decision"]["explanation"]
    # the suspense ledger is even again, the customer's holds the cash and owes nothing
    assert ledger_store.balance(UNIDENTIFIED) == 0
    assert account(UNIDENTIFIED, Account.CASH) == 0
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert account(CUSTOMER, Account.CASH) == invoice.total
    assert_ledger_balanced(CUSTOMER)
    assert_ledger_balanced(UNIDENTIFIED)
    after = exposure(CUSTOMER)
    assert after.open_receivables == before.open_receivables - invoice.total
    assert after.unapplied_cash == before.unapplied_cash
    assert after.headroom == before.headroom + invoice.total


def test_a_noisy_reference_in_the_remittance_still_pays_the_invoice(world: World, client):
    # Given an invoice, and a payer who typed its number loosely
    invoice = issued_invoice(client, world)
    series, sequence = invoice.number.rsplit("-", 1)
    noisy = f"pmt {series.replace('-', ' ').lower()} {int(sequence)} thanks"

    # When the customer's payment arrives with that remittance
    payment = paid_in(world, str(invoice.total), customer_id=CUSTOMER, remittance=noisy)

    # Then it pays the invoice; the unapplied cash counted at receipt is applied again
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert payment.status.value == "applied"
    assert exposure(CUSTOMER).unapplied_cash == 0


def test_a_partial_payment_leaves_the_invoice_partially_paid(world: World, client):
    # Given an invoice
    invoice = issued_invoice(client, world)

    # When a payment of part of it names it
    payment = paid_in(
        world, "30.00", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number}
    )

    # Then the invoice is partially paid and still owes the rest
    now = invoice_now(invoice.invoice_id)
    assert now.status.value == "partially_paid"
    assert now.amount_due == invoice.total - Decimal("30.00")
    assert payment.status.value == "applied"
    assert event_data(world, "InvoicePaid") == []
    assert exposure(CUSTOMER).open_receivables == now.amount_due


def test_an_overpayment_pays_the_invoice_and_leaves_the_rest_unapplied(world: World, client):
    # Given an invoice
    invoice = issued_invoice(client, world)

    # When the customer pays 25.00 more than it asks
    amount = invoice.total + Decimal("25.00")
    payment = paid_in(
        world, str(amount), customer_id=CUSTOMER, metadata={"invoice_number": invoice.number}
    )

    # Then the invoice is paid and the rest waits on the payment as credit for the customer
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert (payment.status.value, payment.unapplied) == ("partially_applied", Decimal("25.00"))
    assert exposure(CUSTOMER).unapplied_cash == Decimal("25.00")
    assert ledger_store.balance(CUSTOMER) == Decimal("-25.00")  # owed to the customer


def test_one_payment_settles_two_invoices(world: World, client):
    # Given two invoices of the customer
    first = issued_invoice(client, world)
    second = issued_invoice(client, world, purchase_order="PO-2")

    # When one transfer names both and pays both in full
    payment = paid_in(
        world,
        str(first.total + second.total),
        customer_id=CUSTOMER,
        remittance=f"Invoices {first.number} and {second.number}",
    )

    # Then both are paid, by one allocation each
    assert {a.invoice_id for a in payment.allocations} == {first.invoice_id, second.invoice_id}
    assert invoice_now(first.invoice_id).status.value == "paid"
    assert invoice_now(second.invoice_id).status.value == "paid"
    assert len(event_data(world, "InvoicePaid")) == 2
    assert exposure(CUSTOMER).open_receivables == 0


def test_two_payments_settle_one_invoice(world: World, client):
    # Given an invoice paid in two instalments
    invoice = issued_invoice(client, world)
    reference = {"invoice_number": invoice.number}

    # When both arrive
    paid_in(world, "40.00", customer_id=CUSTOMER, metadata=reference)
    rest = invoice.total - Decimal("40.00")
    paid_in(world, str(rest), customer_id=CUSTOMER, metadata=reference)

    # Then the invoice is paid exactly, and paid once
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_paid, now.amount_due) == ("paid", invoice.total, 0)
    assert len(event_data(world, "InvoicePaid")) == 1


def test_the_early_payment_discount_is_honoured_in_time(world: World, client):
    # Given an invoice of a customer on 2/10 net 30, paid within the ten days
    invoice = issued_invoice(client, world)
    assert invoice.discount_amount > 0

    # When the payment is the total less the discount
    paid_in(
        world,
        str(invoice.total - invoice.discount_amount),
        customer_id=CUSTOMER,
        metadata={"invoice_number": invoice.number},
    )

    # Then the invoice is paid, the discount recorded and posted as discounts allowed
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_discounted) == ("paid", invoice.discount_amount)
    assert account(CUSTOMER, Account.DISCOUNTS_ALLOWED) == invoice.discount_amount
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert exposure(CUSTOMER).open_receivables == 0
    assert_ledger_balanced(CUSTOMER)


def test_an_unmatchable_payment_waits_on_the_worklist_with_its_explanation(world: World, client):
    # Given an open invoice
    invoice = issued_invoice(client, world)

    # When a payment from an unknown payer arrives that names nothing and fits nothing
    payment = paid_in(world, "12.34", payer_name="Nobody Known AG", remittance="thanks")

    # Then nothing is applied; the decision and why are kept for a clerk
    assert (payment.status.value, payment.allocations) == ("unapplied", ())
    assert invoice_now(invoice.invoice_id).status.value == "open"
    [unmatched] = event_data(world, "PaymentUnmatched")
    assert unmatched["decision"]["auto"] is False
    assert "Left for a clerk" in unmatched["decision"]["explanation"]
    assert ledger_store.balance(UNIDENTIFIED) == Decimal("-12.34")


def test_a_redelivered_payment_received_event_changes_nothing(world: World, client):
    # Given a payment applied to its invoice
    invoice = issued_invoice(client, world)
    payment = received(str(invoice.total), metadata={"invoice_number": invoice.number})
    world.pump.drain()
    before = snapshot(world)

    # When the same PaymentReceived is delivered again
    answer = deliver_to_cash_application([bus_body(world, "PaymentReceived", payment.payment_id)])

    # Then it is acknowledged and nothing is written
    assert answer == {"batchItemFailures": []}
    assert snapshot(world) == before
