"""An invoice's receivable under payments, reversals and disputes (pure, no AWS)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.domain import invoice as invoice_domain
from shared.domain.invoice import InvoiceStatus
from tests.unit.invoice_samples import credit_note, domestic_invoice


def test_a_reversed_payment_reopens_a_paid_invoice():
    # Given an invoice paid in full, with an early-payment discount taken
    invoice = domestic_invoice()
    discount = Decimal("1.00")
    paid = invoice_domain.record_payment(invoice, invoice.total - discount, discount=discount)
    assert paid.status is InvoiceStatus.PAID

    # When the allocation is taken back
    reopened = invoice_domain.reverse_payment(paid, invoice.total - discount, discount=discount)

    # Then it owes its total again, and is open, one version later
    assert (reopened.amount_paid, reopened.amount_discounted) == (0, 0)
    assert reopened.amount_due == invoice.total
    assert reopened.status is InvoiceStatus.OPEN
    assert reopened.version == paid.version + 1


def test_reversing_one_of_two_payments_leaves_the_invoice_partially_paid():
    # Given an invoice paid in two parts
    invoice = domestic_invoice()
    first = Decimal("10.00")
    paid = invoice_domain.record_payment(
        invoice_domain.record_payment(invoice, first), invoice.total - first
    )

    # When the second is taken back
    reopened = invoice_domain.reverse_payment(paid, invoice.total - first)

    # Then
    assert (reopened.status, reopened.amount_due) == (
        InvoiceStatus.PARTIALLY_PAID,
        invoice.total - first,
    )


@pytest.mark.parametrize(
    ("amount", "discount"),
    [(Decimal("0"), Decimal("0")), (Decimal("-1"), Decimal("0")), (Decimal("999999"), Decimal(0))],
)
def test_a_reversal_never_takes_back_more_than_was_paid(amount, discount):
    # Given an invoice paid 10.00
    paid = invoice_domain.record_payment(domestic_invoice(), Decimal("10.00"))

    # When / Then
    with pytest.raises(ValueError):
        invoice_domain.reverse_payment(paid, amount, discount=discount)


def test_a_credit_note_takes_no_payment_reversal_and_no_dispute():
    # Given a credit note
    note = credit_note()

    # When / Then
    with pytest.raises(ValueError):
        invoice_domain.reverse_payment(note, Decimal("1"))
    with pytest.raises(ValueError):
        invoice_domain.dispute(note, True)


def test_a_disputed_invoice_gets_back_its_computed_status_when_the_dispute_closes():
    # Given a paid and a partially paid invoice
    invoice = domestic_invoice()
    paid = invoice_domain.record_payment(invoice, invoice.total)
    part = invoice_domain.record_payment(invoice, Decimal("5.00"))

    # When each is disputed, then the dispute closes
    disputed = [invoice_domain.dispute(item, True) for item in (paid, part)]
    closed = [invoice_domain.dispute(item, False) for item in disputed]

    # Then they were disputed meanwhile (even the paid one), and are as their amounts say after
    assert [item.status for item in disputed] == [InvoiceStatus.DISPUTED] * 2
    assert [item.status for item in closed] == [InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID]
    assert [item.version for item in closed] == [paid.version + 2, part.version + 2]


def test_marking_twice_changes_nothing():
    # Given a disputed invoice and an undisputed one
    invoice = domestic_invoice()
    disputed = invoice_domain.dispute(invoice, True)

    # When each is marked as it already is
    # Then the same invoice comes back (no new version)
    assert invoice_domain.dispute(disputed, True) is disputed
    assert invoice_domain.dispute(invoice, False) is invoice


def test_a_disputed_invoice_stays_disputed_when_a_payment_is_reversed_on_it():
    # Given a partially paid invoice under dispute
    invoice = domestic_invoice()
    disputed = invoice_domain.dispute(invoice_domain.record_payment(invoice, Decimal("5")), True)

    # When the payment is taken back
    reopened = invoice_domain.reverse_payment(disputed, Decimal("5"))

    # Then the dispute still holds it
    assert reopened.status is InvoiceStatus.DISPUTED
