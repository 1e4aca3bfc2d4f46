"""A bank reversal of a payment: all of it, once, nothing applied; its ledger entry balances; a bank
payment is guarded by its account and entry reference."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import ledger
from shared.domain import payment as domain
from shared.domain.payment import NotReversibleError, PaymentError, PaymentStatus
from tests.unit.test_payment import AT, applied, received


def test_a_reversal_takes_the_whole_payment_back():
    # Given
    payment = received("100.00")

    # When
    reversed_payment = domain.reverse(payment, Decimal("100.00"))

    # Then
    assert reversed_payment.status is PaymentStatus.REVERSED
    assert reversed_payment.reversed == Decimal("100.00") and reversed_payment.unapplied == 0
    assert domain.from_wire(reversed_payment.to_wire()) == reversed_payment


@pytest.mark.parametrize(
    ("prepare", "amount", "message"),
    [
        (lambda p: p, "99.99", "differs from the payment"),
        (lambda p: applied(p, "40.00")[0], "100.00", "still applied"),
        (lambda p: domain.refund(p, Decimal("10.00"), AT), "100.00", "partly paid back"),
        (lambda p: domain.reverse(p, Decimal("100.00")), "100.00", "reversed before"),
    ],
)
def test_a_reversal_that_does_not_undo_the_payment_exactly_is_refused(prepare, amount, message):
    # Given
    payment = prepare(received("100.00"))

    # When / Then
    with pytest.raises(NotReversibleError, match=message):
        domain.reverse(payment, Decimal(amount))


def test_a_payment_read_back_without_a_reversed_amount_has_none():
    # Given a payment stored before reversals existed
    wire = received("100.00").to_wire()
    del wire["reversed"]

    # When / Then
    assert domain.from_wire(wire).reversed == 0


def test_the_bank_reversal_entry_gives_the_cash_back_balanced_once_per_payment():
    # When
    entry = ledger.for_bank_reversal("cus_acme", "EUR", Decimal("71.50"), "pay_1", AT)

    # Then
    assert entry.entry_id == "bank_reversal:pay_1" and entry.total == Decimal("71.50")
    totals = ledger.balances([entry])
    assert totals[ledger.Account.UNAPPLIED_CASH] == Decimal("71.50")
    assert totals[ledger.Account.CASH] == Decimal("-71.50")


def test_a_bank_payment_is_guarded_by_its_account_and_entry_reference():
    # Given the same bank reference in two accounts
    ours = received(metadata={domain.ENTRY_KEY: "DE89370400440532013000:REF-1"})
    other = received(metadata={domain.ENTRY_KEY: "DE44500105175407324931:REF-1"})

    # Then
    assert ours.source_reference != other.source_reference
    assert ours.source_reference == "DE89370400440532013000:REF-1"
    assert received().source_reference == "COBA2026112000001"  # stored before accounts counted


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["allocate", "unapply", "refund", "reverse"]), st.integers(1, 5000)
        ),
        max_size=12,
    )
)
def test_no_sequence_of_moves_with_reversals_breaks_the_identity(moves):
    # Given
    payment = received("100.00")
    allocations: list[str] = []

    # When
    for move, cents in moves:
        amount = Decimal(cents).scaleb(-2)
        try:
            if move == "allocate":
                payment, allocation_id = applied(payment, str(amount))
                allocations.append(allocation_id)
            elif move == "unapply" and allocations:
                payment, _ = domain.unapply(payment, allocations.pop(0), AT)
            elif move == "refund":
                payment = domain.refund(payment, amount, AT)
            elif move == "reverse":
                payment = domain.reverse(payment, payment.amount)
        except PaymentError:
            pass

        # Then: a reversal takes all of it, once, and nothing moves it afterwards
        assert payment.unapplied == (
            payment.amount - payment.applied - payment.refunded - payment.reversed
        )
        assert 0 <= payment.unapplied <= payment.amount
        assert payment.reversed in (0, payment.amount)
        assert payment.status is domain.status_of(payment)
        if payment.reversed:
            assert payment.status is PaymentStatus.REVERSED and payment.unapplied == 0
