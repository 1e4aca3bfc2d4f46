"""Customer credits, pure: what a credit has left, refunds pending at the gateway, the entry."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.domain import credits, ledger
from shared.domain import payment as payment_domain
from shared.domain.credits import CreditError, CreditMove, CreditNoteCredit

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def _credit() -> CreditNoteCredit:
    return CreditNoteCredit(
        credit_note_id="cn_1",
        credit_note_number="CN-2026-000001",
        invoice_id="inv_1",
        customer_id="cus_acme",
        currency="EUR",
        original=Decimal("273.70"),
        arose_at=AT,
    )


def _move(move_id: str, amount: str) -> CreditMove:
    return CreditMove(
        move_id=move_id, kind="application", amount=Decimal(amount), at=AT, by="stf_1"
    )


def test_moves_take_the_remainder_down_and_never_below_zero() -> None:
    credit = _credit().moved(_move("cap_1", "200.00")).moved(_move("cap_2", "73.70"))
    assert credit.remaining == 0 and credit.version == 3
    with pytest.raises(CreditError):
        credit.moved(_move("cap_3", "0.01"))
    with pytest.raises(CreditError):
        _credit().moved(_move("cap_1", "0"))
    assert CreditNoteCredit.from_data(credit.to_data()) == credit


def test_a_refund_requested_at_the_gateway_is_held_back_until_reported_refunded() -> None:
    payment = payment_domain.receive(
        source="stripe",
        external_id="pi_3QAcme0001",
        method="card",
        amount=Decimal("100.00"),
        currency="EUR",
        received_at=AT,
        customer_id="cus_acme",
    )
    requested = credits.with_requested_refund(payment, "re_1", Decimal("28.50"))
    assert credits.pending_refunds(requested) == Decimal("28.50")
    assert credits.available(requested) == Decimal("71.50")
    assert credits.of_payment(requested).card

    # the gateway's cumulative refunded total reports it: no longer pending, counted once
    reported = payment_domain.refund(requested, Decimal("28.50"), AT)
    assert credits.pending_refunds(reported) == 0
    assert credits.available(reported) == Decimal("71.50")


def test_a_credit_application_entry_moves_the_credit_onto_the_invoice() -> None:
    entry = ledger.for_credit_application(
        "cus_acme", "EUR", "inv_2", Decimal("273.70"), "cap_1", AT, "CN-2026-000001"
    )
    assert entry.entry_id == "credit_application:cap_1" and entry.invoice_id == "inv_2"
    totals = ledger.balances([entry])
    assert totals[ledger.Account.UNAPPLIED_CASH] == Decimal("273.70")
    assert totals[ledger.Account.RECEIVABLES] == Decimal("-273.70")
