"""The Payment model: what a payment accepts, how its moves keep unapplied = amount - applied -
refunded, and that its wire form reads back equal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import payment as domain
from shared.domain.payment import (
    OverAllocationError,
    Payment,
    PaymentError,
    PaymentStatus,
    RefundExceedsUnappliedError,
)

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def received(amount: str = "100.00", currency: str = "EUR", **overrides: object) -> Payment:
    facts: dict[str, object] = {
        "source": "bank",
        "external_id": "COBA2026112000001",
        "method": "bank_transfer",
        "amount": Decimal(amount),
        "currency": currency,
        "received_at": AT,
        "payer_name": "  ACME   Retail GmbH ",
        "remittance": "INV-2026-000017",
    }
    facts.update(overrides)
    return domain.receive(**facts)  # type: ignore[arg-type]


def applied(payment: Payment, amount: str, invoice: str = "inv_1") -> tuple[Payment, str]:
    moved, allocation = domain.allocate(
        payment,
        invoice,
        "INV-2026-000017",
        Decimal(amount),
        Decimal(0),
        "stf_clerk",
        ["reference"],
        Decimal("0.95"),
        AT,
    )
    return moved, allocation.allocation_id


# --- receiving ------------------------------------------------------------------------------------


def test_a_received_payment_is_unapplied_in_full():
    # Given / When
    payment = received()

    # Then
    assert payment.payment_id.startswith("pay_") and len(payment.payment_id) == 30
    assert payment.status is PaymentStatus.UNAPPLIED
    assert payment.applied == 0 and payment.unapplied == Decimal("100.00")
    assert payment.payer_name == "ACME Retail GmbH"  # whitespace as people type it, collapsed
    assert payment.version == 1 and payment.disputed is False


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0", "EUR"), ("-5.00", "EUR"), ("10.001", "EUR"), ("100.5", "JPY"), ("1", "XYZ")],
)
def test_a_payment_refuses_amounts_that_are_not_money_of_its_currency(amount, currency):
    # When / Then
    with pytest.raises(ValidationError):
        received(amount, currency)


def test_jpy_payments_have_no_minor_unit_and_bhd_three():
    # When
    yen = received("5000", "JPY")
    dinar = received("12.345", "BHD")

    # Then
    assert yen.unapplied == Decimal(5000)
    assert dinar.money(dinar.amount) == {"amount": "12.345", "currency": "BHD"}


@pytest.mark.parametrize("source", ["stripe", "bank", "manual", "demo-pay", "adyen"])
def test_known_channels_and_generic_provider_names_are_sources(source):
    # When
    payment = received(source=source)

    # Then
    assert payment.source == source


@pytest.mark.parametrize("source", ["Stripe", "x", "pay/pal", ""])
def test_other_sources_are_refused(source):
    # When / Then
    with pytest.raises(ValidationError):
        received(source=source)


def test_manual_references_are_unique_per_method_other_sources_per_id():
    # Given
    cheque = received(source="manual", method="cheque", external_id="1042")
    wire = received(source="manual", method="wire", external_id="1042")
    bank = received(source="bank", external_id="1042")

    # Then
    assert cheque.source_reference == "cheque:1042"
    assert wire.source_reference == "wire:1042"
    assert bank.source_reference == "1042"


def test_received_at_is_kept_in_utc_milliseconds():
    # When
    payment = received(received_at=datetime(2026, 11, 20, 10, 30, 0, 123456))

    # Then
    assert payment.received_at == datetime(2026, 11, 20, 10, 30, 0, 123000, tzinfo=UTC)


# --- allocating and unapplying ------------------------------------------------------------------


def test_allocating_part_leaves_the_rest_unapplied():
    # Given
    payment = received("100.00")

    # When
    moved, _ = applied(payment, "60.00")

    # Then
    assert moved.status is PaymentStatus.PARTIALLY_APPLIED
    assert moved.applied == Decimal("60.00") and moved.unapplied == Decimal("40.00")
    assert moved.version == payment.version + 1
    [allocation] = moved.allocations
    assert allocation.invoice_number == "INV-2026-000017"
    assert allocation.evidence == ("reference",) and allocation.confidence == Decimal("0.95")


def test_allocating_all_applies_the_payment():
    # When
    moved, _ = applied(received("100.00"), "100.00")

    # Then
    assert moved.status is PaymentStatus.APPLIED and moved.unapplied == 0


def test_a_discount_is_granted_on_top_and_is_not_cash():
    # Given
    payment = received("98.00")

    # When
    moved, allocation = domain.allocate(
        payment, "inv_1", "INV-1", Decimal("98.00"), Decimal("2.00"), "matcher", [], Decimal(1), AT
    )

    # Then
    assert allocation.discount == Decimal("2.00")
    assert moved.applied == Decimal("98.00") and moved.status is PaymentStatus.APPLIED


def test_more_than_the_unapplied_amount_cannot_be_allocated():
    # Given
    payment, _ = applied(received("100.00"), "70.00")

    # When / Then
    with pytest.raises(OverAllocationError, match=r"30\.00 EUR unapplied"):
        applied(payment, "30.01", invoice="inv_2")


@pytest.mark.parametrize(("amount", "discount"), [("0", "0"), ("-1", "0"), ("10.001", "0")])
def test_an_allocation_moves_a_positive_amount_in_the_minor_unit(amount, discount):
    # When / Then
    with pytest.raises((PaymentError, ValueError)):
        domain.allocate(
            received(),
            "inv_1",
            "INV-1",
            Decimal(amount),
            Decimal(discount),
            "x",
            [],
            Decimal(1),
            AT,
        )


def test_unapplying_takes_an_allocation_back_and_keeps_its_record():
    # Given
    payment, allocation_id = applied(received("100.00"), "100.00")

    # When
    moved, reversed_allocation = domain.unapply(payment, allocation_id, AT)

    # Then
    assert reversed_allocation.reversed_at == AT and not reversed_allocation.active
    assert moved.status is PaymentStatus.UNAPPLIED and moved.unapplied == Decimal("100.00")
    assert len(moved.allocations) == 1  # the history stays


def test_an_allocation_is_taken_back_once():
    # Given
    payment, allocation_id = applied(received(), "50.00")
    payment, _ = domain.unapply(payment, allocation_id, AT)

    # When / Then
    with pytest.raises(PaymentError, match="already taken back"):
        domain.unapply(payment, allocation_id, AT)
    with pytest.raises(PaymentError, match="no allocation"):
        domain.unapply(payment, "alc_unknown", AT)


# --- refunds and disputes -------------------------------------------------------------------------


def test_a_refund_comes_out_of_the_unapplied_part():
    # Given
    payment, _ = applied(received("100.00"), "60.00")

    # When
    moved = domain.refund(payment, Decimal("40.00"), AT)

    # Then
    assert moved.refunded == Decimal("40.00") and moved.unapplied == 0
    assert moved.status is PaymentStatus.APPLIED


def test_a_full_refund_refunds_the_payment():
    # When
    moved = domain.refund(received("100.00"), Decimal("100.00"), AT)

    # Then
    assert moved.status is PaymentStatus.REFUNDED and moved.unapplied == 0


def test_a_refund_beyond_the_unapplied_part_names_what_is_applied():
    # Given
    payment, _ = applied(received("100.00"), "60.00")

    # When / Then
    with pytest.raises(RefundExceedsUnappliedError, match=r"60\.00 EUR is applied") as refused:
        domain.refund(payment, Decimal("50.00"), AT)
    assert refused.value.applied == Decimal("60.00")
    assert refused.value.unapplied == Decimal("40.00")


def test_a_dispute_opens_and_closes_and_a_late_opening_is_seen():
    # Given
    payment = received(source="stripe", method="card", external_id="pi_1")

    # When
    opened = domain.dispute(payment, True, dispute_id="dp_1")
    closed = domain.dispute(opened, False, dispute_id="dp_1", outcome="won")

    # Then
    assert opened.disputed and domain.dispute_state(opened, "dp_1") == "open"
    assert not closed.disputed and domain.dispute_state(closed, "dp_1") == "won"
    assert domain.dispute_state(payment, "dp_1") is None


def test_a_payment_stays_disputed_while_any_of_its_disputes_is_open():
    # Given
    payment = domain.dispute(received(), True, dispute_id="dp_1")
    payment = domain.dispute(payment, True, dispute_id="dp_2")

    # When
    payment = domain.dispute(payment, False, dispute_id="dp_1", outcome="lost")

    # Then
    assert payment.disputed


def test_part_of_an_allocation_is_taken_back_and_the_rest_stays_applied():
    # Given 100.00 applied in full
    payment, allocation_id = applied(received(), "100.00")

    # When 20.00 and then 15.00 of it are taken back
    payment, _ = domain.take_back_part(payment, allocation_id, Decimal(20), AT, reference="r1")
    payment, reduced = domain.take_back_part(
        payment, allocation_id, Decimal(15), AT, reference="r2"
    )

    # Then 65.00 stays applied, 35.00 is unapplied again, and the parts read back from the wire
    assert (reduced.applied, reduced.active) == (Decimal(65), True)
    assert (payment.applied, payment.unapplied) == (Decimal(65), Decimal(35))
    assert domain.from_wire(payment.to_wire()) == payment
    # and the rest is taken back whole (not as a part), which then leaves nothing applied
    with pytest.raises(PaymentError):
        domain.take_back_part(payment, allocation_id, Decimal(65), AT, reference="r3")
    unapplied, whole = domain.unapply(payment, allocation_id, AT)
    assert (unapplied.applied, unapplied.unapplied, whole.applied) == (0, Decimal(100), 65)


def test_a_chargeback_is_held_apart_until_its_dispute_is_won():
    # Given 100.00 with 40.00 unapplied
    payment, _ = applied(received(), "60.00")

    # When a dispute withdraws 30.00
    withdrawn = domain.withdraw(payment, "dp_1", Decimal(30), AT)

    # Then it leaves the unapplied part, and no dispute withdraws twice or more than is there
    assert (withdrawn.withdrawn, withdrawn.unapplied, withdrawn.refunded) == (30, 10, 0)
    assert domain.from_wire(withdrawn.to_wire()) == withdrawn
    with pytest.raises(PaymentError):
        domain.withdraw(withdrawn, "dp_1", Decimal(5), AT)
    with pytest.raises(PaymentError):
        domain.withdraw(withdrawn, "dp_2", Decimal(11), AT)

    # When the dispute is won
    back, chargeback = domain.reinstate(withdrawn, "dp_1", AT)

    # Then the money is unapplied again, once
    assert (back.withdrawn, back.unapplied, chargeback.held) == (0, 40, False)
    with pytest.raises(PaymentError):
        domain.reinstate(back, "dp_1", AT)


def test_a_payment_all_withdrawn_or_refunded_is_refunded():
    # Given
    payment = domain.refund(received(), Decimal(30), AT)

    # When the rest is withdrawn by a chargeback
    payment = domain.withdraw(payment, "dp_1", Decimal(70), AT)

    # Then all of it went back
    assert (payment.status, payment.unapplied) == (PaymentStatus.REFUNDED, 0)


# --- events and the wire --------------------------------------------------------------------------


def test_events_carry_the_payment_and_what_happened():
    # Given
    payment = received()
    refunded = domain.refund(payment, Decimal("10.00"), AT)

    # When
    events = [
        domain.received_event(payment),
        domain.refunded_event(refunded, Decimal("10.00"), AT),
        domain.disputed_event(payment, AT, dispute_id="dp_1", reason="fraudulent"),
        domain.dispute_closed_event(payment, AT, dispute_id="dp_1", outcome="lost"),
    ]

    # Then
    assert [e.detail_type for e in events] == [
        "PaymentReceived",
        "PaymentRefunded",
        "PaymentDisputed",
        "PaymentDisputeClosed",
    ]
    assert {e.source for e in events} == {"otc.payments"}
    assert {e.aggregate_id for e in events} == {payment.payment_id}
    assert events[0].data == payment.to_wire()
    assert events[1].data["refund"] == {"amount": "10.00", "currency": "EUR"}
    assert events[3].data["outcome"] == "lost"
    with pytest.raises(ValueError, match="won or lost"):
        domain.dispute_closed_event(payment, AT, dispute_id="dp_1", outcome="maybe")


def test_the_wire_form_reads_back_equal():
    # Given
    payment, allocation_id = applied(received(metadata={"statement_id": "S1"}), "30.00")
    payment, _ = domain.unapply(payment, allocation_id, AT)
    payment, _ = applied(payment, "20.00", invoice="inv_2")
    payment = domain.dispute(domain.refund(payment, Decimal("5.00"), AT), True, dispute_id="d")

    # When
    wire = payment.to_wire()

    # Then
    assert domain.from_wire(wire) == payment
    assert wire["unapplied"] == {"amount": "75.00", "currency": "EUR"}
    assert wire["status"] == "partially_applied"


@given(
    st.lists(
        st.tuples(st.sampled_from(["allocate", "unapply", "refund"]), st.integers(1, 5000)),
        max_size=12,
    )
)
def test_no_sequence_of_moves_breaks_the_identity(moves):
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
        except PaymentError:
            pass

        # Then
        assert payment.unapplied == payment.amount - payment.applied - payment.refunded
        assert 0 <= payment.unapplied <= payment.amount
        assert payment.status is domain.status_of(payment)
