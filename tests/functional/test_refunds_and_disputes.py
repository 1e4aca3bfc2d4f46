"""Money going back: refunds beyond the unapplied cash reopen invoices; disputes pause them."""

from __future__ import annotations

from decimal import Decimal

from shared.domain.invoice import Invoice
from shared.domain.ledger import Account
from shared.store import ledger as ledger_store
from tests.functional.cash import (
    CUSTOMER,
    account,
    event_data,
    invoice_now,
    issued_invoice,
    payment_now,
)
from tests.functional.conftest import World
from tests.functional.invoicing import assert_ledger_balanced, exposure
from tests.functional.payment_intake import (
    charge,
    dispute,
    payment_intent,
    payments,
    post_stripe,
    stripe_event,
)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _paid_by_card(client, world: World, invoice: Invoice, extra: Decimal = Decimal(0)) -> str:
    """A Stripe payment of the invoice (plus ``extra``), applied by cash application."""
    metadata = {"invoice_number": invoice.number, "customer_id": CUSTOMER}
    amount = _cents(invoice.total + extra)
    answer = post_stripe(
        client,
        stripe_event("payment_intent.succeeded", payment_intent(amount=amount, metadata=metadata)),
    )
    assert answer.status_code == 200, answer.body
    world.pump.drain()
    [payment] = payments(world)
    assert payment["status"] in ("applied", "partially_applied"), payment
    payment_id: str = payment["id"]
    return payment_id


def _refund(client, world: World, invoice: Invoice, total: Decimal, extra: Decimal) -> None:
    refunded = charge(
        amount=_cents(invoice.total + extra),
        amount_refunded=_cents(total),
        metadata={"invoice_number": invoice.number, "customer_id": CUSTOMER},
    )
    assert post_stripe(client, stripe_event("charge.refunded", refunded)).status_code == 200
    world.pump.drain()


def test_a_refund_comes_out_of_the_unapplied_cash_first(client, world: World):
    # Given an invoice paid by card with 20.00 too much
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice, extra=Decimal("20.00"))

    # When the gateway refunds the 20.00
    _refund(client, world, invoice, Decimal("20.00"), Decimal("20.00"))

    # Then the invoice stays paid and the payment is fully applied
    payment = payment_now(payment_id)
    assert (payment.refunded, payment.unapplied, payment.status.value) == (20, 0, "applied")
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert exposure(CUSTOMER).unapplied_cash == 0


def test_a_refund_beyond_the_unapplied_cash_reopens_the_newest_invoice_by_the_rest(
    client, world: World
):
    # Given an invoice paid by card with 20.00 too much
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice, extra=Decimal("20.00"))

    # When the gateway refunds 50.00
    _refund(client, world, invoice, Decimal("50.00"), Decimal("20.00"))

    # Then the 20.00 unapplied paid first, and 30.00 was taken off the allocation, no more
    payment = payment_now(payment_id)
    assert payment.refunded == Decimal("50.00")
    [allocation] = payment.allocations
    assert allocation.reversed_at is None and allocation.applied == invoice.total - 30
    assert [part.amount for part in allocation.taken_back] == [Decimal("30.00")]
    assert (payment.applied, payment.unapplied) == (invoice.total - 30, 0)
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("partially_paid", Decimal("30.00"))
    [refunded] = event_data(world, "PaymentRefunded")
    assert refunded["refund"]["amount"] == "50.00"
    [taken] = refunded["unapplied_allocations"]
    assert (taken["invoice_id"], taken["taken"]["amount"]) == (invoice.invoice_id, "30.00")
    assert [e["id"] for e in event_data(world, "InvoiceReopened")] == [invoice.invoice_id]
    # and the books agree: owed the 30.00 taken back, holding nothing
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("30.00")
    assert account(CUSTOMER, Account.CASH) == invoice.total - Decimal("30.00")
    assert ledger_store.balance(CUSTOMER) == Decimal("30.00")
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (Decimal("30.00"), 0)
    assert_ledger_balanced(CUSTOMER)


def test_a_dispute_pauses_the_invoice_and_a_won_dispute_restores_it(client, world: World):
    # Given an invoice paid by card
    invoice = issued_invoice(client, world)
    _paid_by_card(client, world, invoice)
    opened = dispute(amount=_cents(invoice.total))

    # When the cardholder disputes the payment
    post_stripe(client, stripe_event("charge.dispute.created", opened))
    world.pump.drain()
    during = invoice_now(invoice.invoice_id)
    post_stripe(client, stripe_event("charge.dispute.closed", {**opened, "status": "won"}))
    world.pump.drain()

    # Then the invoice was disputed meanwhile, and is paid again once the dispute is won
    assert during.status.value == "disputed"
    assert [e["id"] for e in event_data(world, "InvoiceDisputed")] == [invoice.invoice_id]
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert [e["status"] for e in event_data(world, "InvoiceDisputeClosed")] == ["paid"]


def test_a_lost_dispute_keeps_the_payment_withdrawn_and_reopens_the_invoice(client, world: World):
    # Given an invoice paid by card, then disputed
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)
    opened = dispute(amount=_cents(invoice.total))
    post_stripe(client, stripe_event("charge.dispute.created", opened))
    world.pump.drain()

    # When the dispute is lost
    post_stripe(client, stripe_event("charge.dispute.closed", {**opened, "status": "lost"}))
    world.pump.drain()

    # Then the money went back: the invoice is owed again, the payment refunded in full
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("open", invoice.total)
    payment = payment_now(payment_id)
    assert (payment.status.value, payment.withdrawn) == ("refunded", invoice.total)
    assert payment.refunded == 0  # a chargeback is not a refund (Stripe's amount_refunded)
    assert account(CUSTOMER, Account.CASH) == 0
    assert account(CUSTOMER, Account.RECEIVABLES) == invoice.total
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (invoice.total, 0)
    assert_ledger_balanced(CUSTOMER)
