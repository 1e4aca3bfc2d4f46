"""Stripe webhooks end to end: signed by Stripe's own library, verified, kept, recorded once.

A delivery goes the whole way: the API verifies and records it, the outbox publishes
GatewayEventReceived, the rule routes it to the gateway-events queue, and the consumer receives
the payment (or refunds or disputes it).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
import stripe

import app as app_module
from infra.local.pump import LambdaContext
from shared.store import credit
from shared.store import ledger as ledger_store
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem, snapshot
from tests.functional.payment_intake import (
    STRIPE_SECRET,
    amount,
    charge,
    dispute,
    event_data,
    guards,
    objects,
    payment_intent,
    payments,
    post_stripe,
    stripe_event,
    stripe_signature,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def unapplied_cash(customer_id: str) -> Decimal:
    figures = credit.get_exposure(customer_id)
    assert figures is not None
    return figures.unapplied_cash


# --- a valid delivery -----------------------------------------------------------------------------


def test_a_signed_payment_becomes_a_payment_with_its_evidence_kept(client, world: World):
    # Given
    body = stripe_event("payment_intent.succeeded", payment_intent(), event_id="evt_1AcmePaid")
    before = unapplied_cash("cus_acme")

    # When
    response = post_stripe(client, body)
    world.pump.drain()

    # Then: answered at once, the raw body kept, one payment received
    assert response.status_code == 200
    assert json.loads(response.body) == {"received": True}
    assert objects(world, "webhooks/") == {"webhooks/stripe/evt_1AcmePaid.json": body}
    [payment] = payments(world)
    assert payment["source"] == "stripe" and payment["external_id"] == "pi_3QAcme0001"
    assert payment["amount"] == {"amount": "1190.00", "currency": "EUR"}
    assert payment["method"] == "card" and payment["status"] == "unapplied"
    assert payment["payer_name"] == "ACME Retail GmbH"
    assert payment["customer_id"] == "cus_acme"
    assert payment["metadata"]["invoice_number"] == "INV-2026-000017"
    assert payment["metadata"]["evidence_key"] == "webhooks/stripe/evt_1AcmePaid.json"
    assert [p["id"] for p in event_data(world, "PaymentReceived")] == [payment["id"]]
    assert unapplied_cash("cus_acme") == before + Decimal("1190.00")
    [entry] = [e for e in ledger_store.entries_for("cus_acme") if e.kind == "payment"]
    assert entry.source_id == payment["id"] and entry.total == Decimal("1190.00")


def test_what_we_accept_stripes_own_verifier_accepts(client, world: World):
    # Given: a delivery signed as Stripe signs it
    body = stripe_event("payment_intent.succeeded", payment_intent())
    header = stripe_signature(body)

    # When
    ours = post_stripe(client, body, {"Stripe-Signature": header})
    theirs = stripe.Webhook.construct_event(body.decode(), header, STRIPE_SECRET)

    # Then
    assert ours.status_code == 200
    assert theirs.id == json.loads(body)["id"] and theirs.type == "payment_intent.succeeded"


def test_several_signatures_pass_when_one_matches(client, world: World):
    # Given: Stripe signs with the old and the new secret while a secret rolls
    body = stripe_event("payment_intent.succeeded", payment_intent())
    moment = int(time.time())
    old = stripe_signature(body, "whsec_retired", moment).split("v1=")[1]
    header = f"{stripe_signature(body, timestamp=moment)},v1={old}"

    # When
    response = post_stripe(client, body, {"Stripe-Signature": header})

    # Then
    assert response.status_code == 200


def test_a_payer_claiming_an_unknown_customer_is_left_unidentified(client, world: World):
    # Given
    intent = payment_intent(metadata={"customer_id": "cus_nobody"})

    # When
    post_stripe(client, stripe_event("payment_intent.succeeded", intent))
    world.pump.drain()

    # Then: the claim is kept, the payment waits in the suspense ledger
    [payment] = payments(world)
    assert payment["customer_id"] is None
    assert payment["metadata"]["customer_id"] == "cus_nobody"
    [entry] = ledger_store.entries_for("UNIDENTIFIED")
    assert entry.source_id == payment["id"]


# --- refused deliveries ---------------------------------------------------------------------------


def _tampered(body: bytes) -> tuple[bytes, dict[str, str]]:
    header = stripe_signature(body)
    return body.replace(b"119000", b"999999"), {"Stripe-Signature": header}


def _wrong_secret(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Stripe-Signature": stripe_signature(body, "whsec_not_ours")}


def _stale(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Stripe-Signature": stripe_signature(body, timestamp=int(time.time()) - 600)}


def _future(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Stripe-Signature": stripe_signature(body, timestamp=int(time.time()) + 600)}


def _missing(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {}


def _garbled(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Stripe-Signature": "t=abc,v1"}


def _other_scheme(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Stripe-Signature": stripe_signature(body).replace("v1=", "v0=")}


@pytest.mark.parametrize(
    "spoil", [_tampered, _wrong_secret, _stale, _future, _missing, _garbled, _other_scheme]
)
def test_a_delivery_that_is_not_signed_by_stripe_now_is_refused_and_leaves_nothing(
    client, world: World, spoil
):
    # Given
    body, headers = spoil(stripe_event("payment_intent.succeeded", payment_intent()))
    before = snapshot(world)

    # When
    response = post_stripe(client, body, headers)
    world.pump.drain()

    # Then
    assert_problem(response, 400, "invalid-signature")
    assert snapshot(world) == before
    assert objects(world, "webhooks/") == {}


def test_a_body_over_the_limit_is_refused_before_anything_else(client, world: World):
    # Given
    body = b"{" + b" " * (256 * 1024) + b"}"

    # When
    response = post_stripe(client, body)

    # Then
    assert_problem(response, 413, "payload-too-large")
    assert objects(world, "webhooks/") == {}


def test_a_signed_body_that_is_no_stripe_event_is_refused(client, world: World):
    # Given
    body = b'{"hello": "world"}'
    before = snapshot(world)

    # When
    response = post_stripe(client, body)

    # Then
    assert_problem(response, 400, "invalid-event")
    assert snapshot(world) == before


# --- duplicates and order -------------------------------------------------------------------------


def test_one_payment_delivered_many_times_and_out_of_order_is_received_once(client, world: World):
    # Given: Stripe reports the payment as a charge and as its intent, each delivered twice,
    # the charge first
    by_charge = stripe_event("charge.succeeded", charge(), event_id="evt_charge")
    by_intent = stripe_event("payment_intent.succeeded", payment_intent(), event_id="evt_intent")
    before = unapplied_cash("cus_acme")

    # When
    answers = []
    for body in (by_charge, by_charge, by_intent, by_intent):
        answers.append(json.loads(post_stripe(client, body).body))
        world.pump.drain()
    answers.append(json.loads(post_stripe(client, by_charge).body))  # a third delivery
    world.pump.drain()

    # Then
    assert answers == [
        {"received": True},
        {"received": True, "duplicate": True},
        {"received": True},
        {"received": True, "duplicate": True},
        {"received": True, "duplicate": True},
    ]
    [payment] = payments(world)
    assert payment["payer_name"] == "ACME Retail GmbH"
    assert len(event_data(world, "PaymentReceived")) == 1
    assert len(guards(world, "PAYMENTSOURCE#stripe#")) == 1
    assert len(guards(world, "GATEWAYEVENT#stripe#")) == 2
    assert set(objects(world, "webhooks/stripe/")) == {
        "webhooks/stripe/evt_charge.json",
        "webhooks/stripe/evt_intent.json",
    }
    assert unapplied_cash("cus_acme") == before + Decimal("1190.00")


def test_both_reports_of_a_payment_at_once_still_make_one_payment(client, world: World):
    # Given: both events reach the consumer in one batch
    post_stripe(client, stripe_event("charge.succeeded", charge()))
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))

    # When
    world.pump.drain()

    # Then
    assert len(payments(world)) == 1
    assert len(event_data(world, "PaymentReceived")) == 1


def test_other_event_types_are_acknowledged_and_recorded_as_ignored(client, world: World):
    # Given
    body = stripe_event("customer.created", {"id": "cus_X", "object": "customer"})

    # When
    response = post_stripe(client, body)
    world.pump.drain()

    # Then
    assert response.status_code == 200
    assert json.loads(response.body) == {"received": True, "ignored": True}
    [receipt] = guards(world, "GATEWAYEVENT#stripe#")
    assert receipt["outcome"] == "ignored" and receipt["type"] == "customer.created"
    assert event_data(world, "GatewayEventReceived") == []
    assert payments(world) == [] and objects(world, "webhooks/") == {}


# --- refunds --------------------------------------------------------------------------------------


def test_a_refund_pays_back_part_of_the_payment_once(client, world: World):
    # Given
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))
    world.pump.drain()
    before = unapplied_cash("cus_acme")
    refunded = stripe_event("charge.refunded", charge(amount_refunded=50000))

    # When: delivered twice, then reported again by a later event with the same total
    post_stripe(client, refunded)
    post_stripe(client, refunded)
    post_stripe(client, stripe_event("charge.refunded", charge(amount_refunded=50000)))
    world.pump.drain()

    # Then
    [payment] = payments(world)
    assert amount(payment["refunded"]) == Decimal("500.00")
    assert amount(payment["unapplied"]) == Decimal("690.00")
    [event] = event_data(world, "PaymentRefunded")
    assert event["refund"] == {"amount": "500.00", "currency": "EUR"}
    assert unapplied_cash("cus_acme") == before - Decimal("500.00")
    [entry] = [e for e in ledger_store.entries_for("cus_acme") if e.kind == "refund"]
    assert entry.total == Decimal("500.00")


def test_a_later_refund_adds_what_its_total_adds(client, world: World):
    # Given
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))
    post_stripe(client, stripe_event("charge.refunded", charge(amount_refunded=20000)))
    world.pump.drain()

    # When
    post_stripe(client, stripe_event("charge.refunded", charge(amount_refunded=119000)))
    world.pump.drain()

    # Then
    [payment] = payments(world)
    assert payment["status"] == "refunded" and amount(payment["unapplied"]) == 0
    assert [e["refund"]["amount"] for e in event_data(world, "PaymentRefunded")] == [
        "200.00",
        "990.00",
    ]


def test_a_refund_that_overtakes_its_payment_waits_for_it(client, world: World):
    # Given: the refund is delivered before the payment it refunds
    post_stripe(client, stripe_event("charge.refunded", charge(amount_refunded=10000)))
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))

    # When
    world.pump.drain()

    # Then: the refund's message was retried until the payment was there
    [payment] = payments(world)
    assert amount(payment["refunded"]) == Decimal("100.00")
    assert world.queue_depth("GatewayEventsDeadLetterQueue") == 0


def test_a_refund_of_a_payment_never_received_ends_in_the_dead_letter_queue(client, world: World):
    # When
    post_stripe(client, stripe_event("charge.refunded", charge(amount_refunded=10000)))
    world.pump.drain()

    # Then
    assert payments(world) == [] and event_data(world, "PaymentRefunded") == []
    assert world.queue_depth("GatewayEventsDeadLetterQueue") == 1


# --- disputes -------------------------------------------------------------------------------------


def test_a_dispute_is_opened_then_closed(client, world: World):
    # Given
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))
    world.pump.drain()

    # When
    post_stripe(client, stripe_event("charge.dispute.created", dispute()))
    world.pump.drain()
    opened = payments(world)[0]
    post_stripe(client, stripe_event("charge.dispute.closed", dispute("won")))
    world.pump.drain()

    # Then
    assert opened["disputed"] is True
    [closed] = payments(world)
    assert closed["disputed"] is False
    [disputed] = event_data(world, "PaymentDisputed")
    assert disputed["dispute"] == {"id": "dp_1QAcme0001", "reason": "fraudulent"}
    [outcome] = event_data(world, "PaymentDisputeClosed")
    assert outcome["outcome"] == "won" and outcome["id"] == closed["id"]


def test_a_closing_that_overtakes_the_opening_is_not_undone_by_it(client, world: World):
    # Given
    post_stripe(client, stripe_event("payment_intent.succeeded", payment_intent()))
    world.pump.drain()

    # When
    post_stripe(client, stripe_event("charge.dispute.closed", dispute("lost")))
    world.pump.drain()
    post_stripe(client, stripe_event("charge.dispute.created", dispute()))
    world.pump.drain()

    # Then
    [payment] = payments(world)
    assert payment["disputed"] is False
    assert [e["outcome"] for e in event_data(world, "PaymentDisputeClosed")] == ["lost"]
    assert event_data(world, "PaymentDisputed") == []


# --- the sample events (events/stripe/, events/sqs/gateway-events-batch.json) ------------------


def test_the_stripe_samples_tell_one_payments_story(client, world: World):
    # Given: Stripe's events of one payment, refunded in part, disputed and won
    names = [
        "charge.succeeded",
        "payment_intent.succeeded",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    ]

    # When
    for name in names:
        response = post_stripe(client, (EVENTS / "stripe" / f"{name}.json").read_bytes())
        assert response.status_code == 200, (name, response.body)
        world.pump.drain()

    # Then
    [payment] = payments(world)
    assert payment["external_id"] == "pi_3QAcmePay0000001"
    assert payment["amount"]["amount"] == "1190.00" and payment["refunded"]["amount"] == "500.00"
    assert payment["disputed"] is False
    assert [e["outcome"] for e in event_data(world, "PaymentDisputeClosed")] == ["won"]
    assert world.queue_depth("GatewayEventsDeadLetterQueue") == 0


def test_the_gateway_events_sample_batch_receives_its_payment(world: World):
    # Given
    batch = json.loads((EVENTS / "sqs" / "gateway-events-batch.json").read_text())

    # When
    answer = app_module.record_gateway_events(batch, LambdaContext("record_gateway_events"))

    # Then
    assert answer == {"batchItemFailures": []}
    [payment] = payments(world)
    assert payment["external_id"] == "pi_3QAcmePay0000001"
    assert payment["metadata"]["evidence_key"] == "webhooks/stripe/evt_3QAcmePay0000001.json"
