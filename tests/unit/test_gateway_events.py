"""Reading gateway webhook events: Stripe's objects and our generic format, into the one action
each asks of the payments intake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.domain import gateway_events
from shared.domain.gateway_events import (
    Action,
    GatewayEvent,
    GatewayEventError,
    GenericWebhook,
)
from shared.domain.payment import PaymentMethod

CREATED = 1_795_000_000


def stripe(event_type: str, obj: dict, **overrides: object) -> bytes:
    event = {"id": "evt_1", "object": "event", "type": event_type, "created": CREATED}
    event["data"] = {"object": obj}
    event.update(overrides)
    return json.dumps(event).encode()


def intent(**overrides: object) -> dict:
    obj = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 119000,
        "amount_received": 119000,
        "currency": "eur",
        "created": CREATED - 10,
        "customer": "cus_Stripe1",
        "description": "Invoice INV-2026-000017",
        "latest_charge": "ch_1",
        "metadata": {"invoice_number": "INV-2026-000017", "customer_id": "cus_acme"},
        "payment_method_types": ["card"],
    }
    obj.update(overrides)
    return obj


def charge(**overrides: object) -> dict:
    obj = {
        "id": "ch_1",
        "object": "charge",
        "amount": 119000,
        "amount_captured": 119000,
        "amount_refunded": 0,
        "captured": True,
        "paid": True,
        "currency": "eur",
        "created": CREATED - 10,
        "billing_details": {"name": "ACME  Retail GmbH"},
        "calculated_statement_descriptor": "ACME INDUSTRIAL",
        "metadata": {"customer_id": "cus_acme"},
        "payment_intent": "pi_1",
        "payment_method_details": {"type": "card"},
    }
    obj.update(overrides)
    return obj


# --- Stripe payments ------------------------------------------------------------------------------


def test_a_succeeded_payment_intent_is_a_payment_named_by_the_intent():
    # When
    event = gateway_events.parse_stripe(stripe("payment_intent.succeeded", intent()))

    # Then
    assert (event.provider, event.event_id, event.type) == (
        "stripe",
        "evt_1",
        "payment_intent.succeeded",
    )
    assert event.created == datetime.fromtimestamp(CREATED, UTC)
    assert event.action is Action.PAYMENT
    payment = event.payment
    assert payment is not None
    assert payment.external_id == "pi_1"
    assert payment.amount == Decimal("1190.00") and payment.currency == "EUR"
    assert payment.received_at == datetime.fromtimestamp(CREATED - 10, UTC)
    assert payment.method is PaymentMethod.CARD
    assert payment.remittance == "Invoice INV-2026-000017"
    assert payment.customer_id == "cus_acme"
    assert payment.metadata == {
        "invoice_number": "INV-2026-000017",
        "customer_id": "cus_acme",
        "stripe_payment_intent": "pi_1",
        "stripe_charge": "ch_1",
        "stripe_customer": "cus_Stripe1",
    }


def test_a_succeeded_charge_of_the_same_intent_names_the_same_payment():
    # When
    event = gateway_events.parse_stripe(stripe("charge.succeeded", charge()))

    # Then
    assert event.payment is not None
    assert event.payment.external_id == "pi_1"
    assert event.payment.payer_name == "ACME Retail GmbH"
    assert event.payment.remittance == "ACME INDUSTRIAL"
    assert event.payment.metadata["stripe_charge"] == "ch_1"


def test_a_charge_without_an_intent_is_named_by_itself():
    # When
    event = gateway_events.parse_stripe(stripe("charge.succeeded", charge(payment_intent=None)))

    # Then
    assert event.payment is not None and event.payment.external_id == "ch_1"


def test_the_payer_comes_from_an_embedded_charge_of_an_intent():
    # Given
    embedded = {"data": [{"id": "ch_9", "billing_details": {"name": "Globex Ltd"}}]}

    # When
    event = gateway_events.parse_stripe(
        stripe("payment_intent.succeeded", intent(charges=embedded, latest_charge=None))
    )

    # Then
    assert event.payment is not None
    assert event.payment.payer_name == "Globex Ltd"
    assert event.payment.metadata["stripe_charge"] == "ch_9"


@pytest.mark.parametrize(
    ("currency", "minor", "amount"),
    [("jpy", 5000, Decimal(5000)), ("eur", 1, Decimal("0.01")), ("bhd", 12345, Decimal("12.345"))],
)
def test_minor_units_follow_the_currency(currency, minor, amount):
    # When
    event = gateway_events.parse_stripe(
        stripe("payment_intent.succeeded", intent(currency=currency, amount_received=minor))
    )

    # Then
    assert event.payment is not None
    assert event.payment.amount == amount and event.payment.currency == currency.upper()


def test_an_uncaptured_charge_or_one_of_nothing_asks_for_nothing():
    # When
    authorised = gateway_events.parse_stripe(stripe("charge.succeeded", charge(captured=False)))
    nothing = gateway_events.parse_stripe(
        stripe("payment_intent.succeeded", intent(amount=0, amount_received=0))
    )

    # Then
    assert authorised.action is None and nothing.action is None


def test_a_card_is_told_apart_from_other_instruments():
    # When
    sepa = gateway_events.parse_stripe(
        stripe("payment_intent.succeeded", intent(payment_method_types=["sepa_debit"]))
    )

    # Then
    assert sepa.payment is not None and sepa.payment.method is PaymentMethod.GATEWAY


# --- Stripe refunds and disputes ------------------------------------------------------------------


def test_a_refunded_charge_reports_the_total_refunded_so_far():
    # When
    event = gateway_events.parse_stripe(stripe("charge.refunded", charge(amount_refunded=50000)))

    # Then
    assert event.action is Action.REFUND
    assert event.refund is not None
    assert event.refund.external_id == "pi_1"
    assert event.refund.refunded_total == Decimal("500.00")


@pytest.mark.parametrize(
    ("event_type", "status", "action", "outcome"),
    [
        ("charge.dispute.created", "needs_response", Action.DISPUTE_OPENED, None),
        ("charge.dispute.closed", "won", Action.DISPUTE_CLOSED, "won"),
        ("charge.dispute.closed", "warning_closed", Action.DISPUTE_CLOSED, "won"),
        ("charge.dispute.closed", "lost", Action.DISPUTE_CLOSED, "lost"),
    ],
)
def test_disputes_open_and_close_won_or_lost(event_type, status, action, outcome):
    # Given
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 119000,
        "currency": "eur",
        "charge": "ch_1",
        "payment_intent": "pi_1",
        "reason": "fraudulent",
        "status": status,
    }

    # When
    event = gateway_events.parse_stripe(stripe(event_type, dispute))

    # Then
    assert event.action is action
    assert event.dispute is not None
    assert event.dispute.external_id == "pi_1" and event.dispute.dispute_id == "dp_1"
    assert event.dispute.outcome == outcome and event.dispute.reason == "fraudulent"


def test_other_event_types_are_read_but_ask_for_nothing():
    # When
    event = gateway_events.parse_stripe(stripe("customer.created", {"id": "cus_1"}))

    # Then
    assert event.action is None and event.external_id is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (stripe("payment_intent.succeeded", intent(), id="evt/../x"), "event id"),
        (stripe("payment_intent.succeeded", intent(), created="yesterday"), "unix timestamp"),
        (stripe("payment_intent.succeeded", intent(), data={}), "data.object"),
        (stripe("payment_intent.succeeded", intent(currency="zzz")), "ISO 4217"),
        (stripe("payment_intent.succeeded", intent(amount_received=12.5)), "minor units"),
        (stripe("charge.dispute.closed", {"id": "dp_1", "charge": "ch_1"}), "ISO 4217"),
    ],
)
def test_unreadable_stripe_bodies_are_refused(body, message):
    # When / Then
    with pytest.raises(GatewayEventError, match=message):
        gateway_events.parse_stripe(body)


def test_an_event_reads_back_from_its_event_data():
    # Given
    event = gateway_events.parse_stripe(stripe("payment_intent.succeeded", intent()))
    event = event.model_copy(update={"evidence_key": "webhooks/stripe/evt_1.json"})

    # When
    data = json.loads(json.dumps(event.to_data()))

    # Then
    assert GatewayEvent.from_data(data) == event
    assert data["payment"]["amount"] == "1190.00"


# --- generic providers ----------------------------------------------------------------------------


def generic(event_type: str = "payment.succeeded", **data: object) -> GenericWebhook:
    body = {
        "id": "dpe_1",
        "type": event_type,
        "created": CREATED,
        "data": {"payment_id": "p-1", "amount": "12.34", "currency": "EUR", **data},
    }
    return GenericWebhook.model_validate(body)


def test_a_generic_payment_becomes_a_payment_of_the_provider():
    # When
    event = gateway_events.from_generic(
        "demo-pay",
        generic(
            payer_name="Initech SARL",
            payer_account="FR1420041010050500013M02606",
            remittance="INV-2026-000020",
            metadata={"customer_id": "cus_acme"},
        ),
    )

    # Then
    assert event.provider == "demo-pay" and event.action is Action.PAYMENT
    assert event.payment is not None
    assert event.payment.external_id == "p-1" and event.payment.amount == Decimal("12.34")
    assert event.payment.payer_account == "FR1420041010050500013M02606"
    assert event.payment.method is PaymentMethod.GATEWAY
    assert event.payment.customer_id == "cus_acme"


def test_a_generic_refund_reports_the_total_refunded():
    # When
    event = gateway_events.from_generic("demo-pay", generic("payment.refunded", amount="2.00"))

    # Then
    assert event.action is Action.REFUND
    assert event.refund is not None and event.refund.refunded_total == Decimal("2.00")


@pytest.mark.parametrize(
    "change",
    [
        {"type": "payment.failed"},
        {"created": "1795000000"},
        {"id": "a/b"},
        {"data": {"payment_id": "p-1", "amount": 12.34, "currency": "EUR"}},
        {"data": {"payment_id": "p-1", "amount": "12.345", "currency": "EUR"}},
        {"data": {"payment_id": "p-1", "amount": "12", "currency": "eur"}},
        {"data": {"payment_id": "p-1", "amount": "12", "currency": "XYZ"}},
        {"data": {"payment_id": "p-1", "amount": "12", "currency": "EUR", "extra": 1}},
        {"data": {"amount": "12", "currency": "EUR"}},
    ],
)
def test_generic_bodies_are_validated(change):
    # Given
    body = {
        "id": "dpe_1",
        "type": "payment.succeeded",
        "created": CREATED,
        "data": {"payment_id": "p-1", "amount": "12.34", "currency": "EUR"},
    }
    body.update(change)

    # When / Then
    with pytest.raises(ValidationError):
        GenericWebhook.model_validate(body)


def test_a_generic_payment_of_nothing_is_refused():
    # When / Then
    with pytest.raises(GatewayEventError, match="above 0"):
        gateway_events.from_generic("demo-pay", generic(amount="0.00"))


def test_control_characters_in_a_stripe_event_text_are_cleaned_not_refused():
    # Given a payment intent whose description and metadata hold a NUL, a C1 control and a BEL
    # (JSON carries them as escapes; a lone surrogate escape is malformed JSON, refused whole)
    body = stripe(
        "payment_intent.succeeded",
        intent(
            description="Invoice\x00INV-2026-000017\x85",
            metadata={"note\x07": "paid\x07late", "customer_id": "cus_acme"},
        ),
    )

    # When it is read
    event = gateway_events.parse_stripe(body)

    # Then it is the payment, with the text cleaned
    assert event.payment is not None
    assert event.payment.remittance == "Invoice INV-2026-000017"
    assert event.payment.metadata["note\ufffd"] == "paid\ufffdlate"


def test_control_characters_in_a_generic_payment_text_are_cleaned_not_refused():
    # When a generic payment's payer, remittance and metadata hold controls
    event = gateway_events.from_generic(
        "demo-pay",
        generic(payer_name="Init\x00ech", remittance="INV\x1b-1", metadata={"ref": "a\x9bb"}),
    )

    # Then the payment is read with the controls replaced
    assert event.payment is not None
    assert (event.payment.payer_name, event.payment.remittance) == ("Init ech", "INV -1")
    assert event.payment.metadata["ref"] == "a\ufffdb"


def session(**overrides: object) -> dict:
    obj = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "amount_total": 119000,
        "currency": "eur",
        "created": CREATED - 10,
        "customer_details": {"name": "ACME Retail GmbH", "email": "ap@acme.example"},
        "metadata": {
            "customer_id": "cus_acme",
            "invoice_ids": "inv_1",
            "invoice_numbers": "INV-2026-000017",
            "payment_references": "RF18539007547034",
            "checkout_amount_due": "119000",
        },
        "mode": "payment",
        "payment_intent": "pi_1",
        "payment_method_types": ["card"],
        "payment_status": "paid",
    }
    obj.update(overrides)
    return obj


@pytest.mark.parametrize(
    "event_type", ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
)
def test_a_paid_checkout_session_is_the_payment_of_its_intent(event_type):
    event = gateway_events.parse_stripe(stripe(event_type, session()))

    assert event.action is Action.PAYMENT and event.payment is not None
    payment = event.payment
    assert payment.external_id == "pi_1"  # as payment_intent.succeeded names it
    assert (payment.amount, payment.currency) == (Decimal("1190.00"), "EUR")
    assert payment.method is PaymentMethod.CARD and payment.customer_id == "cus_acme"
    assert payment.payer_name == "ACME Retail GmbH"
    assert payment.metadata["invoice_numbers"] == "INV-2026-000017"
    assert payment.metadata["stripe_checkout_session"] == "cs_test_1"


def test_an_unpaid_session_asks_for_nothing_and_one_without_an_intent_is_named_by_itself():
    unpaid = gateway_events.parse_stripe(
        stripe("checkout.session.completed", session(payment_status="unpaid"))
    )
    assert unpaid.action is None
    alone = gateway_events.parse_stripe(
        stripe("checkout.session.completed", session(payment_intent=None))
    )
    assert alone.payment is not None and alone.payment.external_id == "cs_test_1"


def test_a_session_paying_another_amount_than_asked_names_no_invoice_to_the_matcher():
    event = gateway_events.parse_stripe(
        stripe("checkout.session.completed", session(amount_total=100000))
    )

    assert event.payment is not None
    metadata = event.payment.metadata
    assert "invoice_numbers" not in metadata and "payment_references" not in metadata
    assert metadata["invoice_ids"] == "inv_1"
    assert metadata["checkout_mismatch"] == "paid 100000 minor units where 119000 were asked"


def test_a_session_with_a_bad_amount_is_refused():
    with pytest.raises(GatewayEventError):
        gateway_events.parse_stripe(stripe("checkout.session.completed", session(amount_total=-1)))
