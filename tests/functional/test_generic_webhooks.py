"""Webhooks of other gateways: our own signed JSON format at POST /webhooks/{provider}.

The local stack configures one provider, ``demo-pay`` (its secret in SSM under the stack's path);
a provider without a secret does not exist.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from infra.local.stack import DEMO_WEBHOOK_SECRETS
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem, snapshot
from tests.functional.payment_intake import (
    amount,
    event_data,
    generic_event,
    guards,
    objects,
    payments,
    post_generic,
    stripe_signature,
)


def test_a_signed_payment_of_a_provider_becomes_a_payment(client, world: World):
    # Given
    body = generic_event(
        event_id="dpe_0001",
        payment_id="DP-77",
        amount="1000.00",
        payer_name="Initech SARL",
        payer_account="FR1420041010050500013M02606",
        remittance="INV-2026-000020",
        metadata={"customer_id": "cus_acme", "order": "A-1"},
    )

    # When
    response = post_generic(client, "demo-pay", body)
    world.pump.drain()

    # Then
    assert response.status_code == 200 and json.loads(response.body) == {"received": True}
    assert objects(world, "webhooks/") == {"webhooks/demo-pay/dpe_0001.json": body}
    [payment] = payments(world)
    assert (payment["source"], payment["external_id"]) == ("demo-pay", "DP-77")
    assert payment["amount"] == {"amount": "1000.00", "currency": "EUR"}
    assert payment["method"] == "gateway" and payment["customer_id"] == "cus_acme"
    assert payment["payer_account"] == "FR1420041010050500013M02606"
    assert payment["remittance"] == "INV-2026-000020"
    assert payment["metadata"]["order"] == "A-1"
    assert len(event_data(world, "PaymentReceived")) == 1


def test_redeliveries_and_a_second_event_of_one_payment_make_one_payment(client, world: World):
    # Given
    first = generic_event(event_id="dpe_a", payment_id="DP-1")
    second = generic_event(event_id="dpe_b", payment_id="DP-1")

    # When
    answers = [json.loads(post_generic(client, "demo-pay", body).body) for body in (first, first)]
    post_generic(client, "demo-pay", second)
    world.pump.drain()

    # Then
    assert answers[1] == {"received": True, "duplicate": True}
    assert len(payments(world)) == 1
    assert len(guards(world, "PAYMENTSOURCE#demo-pay#")) == 1


def test_a_refund_pays_back_up_to_the_reported_total(client, world: World):
    # Given
    post_generic(client, "demo-pay", generic_event(payment_id="DP-2", amount="250.00"))
    world.pump.drain()

    # When
    refund = generic_event("payment.refunded", payment_id="DP-2", amount="50.00")
    same_total = generic_event("payment.refunded", payment_id="DP-2", amount="50.00")
    post_generic(client, "demo-pay", refund)
    post_generic(client, "demo-pay", same_total)
    world.pump.drain()

    # Then
    [payment] = payments(world)
    assert amount(payment["refunded"]) == Decimal("50.00")
    assert len(event_data(world, "PaymentRefunded")) == 1


def test_a_provider_without_a_secret_does_not_exist(client, world: World):
    # Given
    body = generic_event()
    before = snapshot(world)

    # When
    response = post_generic(client, "nobody-pay", body)

    # Then
    assert_problem(response, 404, "not-found")
    assert snapshot(world) == before and objects(world, "webhooks/") == {}


@pytest.mark.parametrize("provider", ["Demo-Pay", "x", "a" * 41, "demo_pay"])
def test_provider_names_outside_the_pattern_do_not_exist(client, world: World, provider):
    # When
    response = post_generic(client, provider, generic_event())

    # Then
    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Webhook-Signature": "t=1,v1=00"},
        {"Stripe-Signature": "placeholder"},
    ],
)
def test_a_delivery_without_a_valid_signature_is_refused(client, world: World, headers):
    # Given
    body = generic_event()
    if "Stripe-Signature" in headers:
        headers = {"Stripe-Signature": stripe_signature(body, DEMO_WEBHOOK_SECRETS["demo-pay"])}
    before = snapshot(world)

    # When
    response = post_generic(client, "demo-pay", body, headers=headers)

    # Then
    assert_problem(response, 400, "invalid-signature")
    assert snapshot(world) == before


def test_stale_and_wrongly_keyed_signatures_are_refused(client, world: World):
    # Given
    body = generic_event()
    before = snapshot(world)

    # When
    stale = post_generic(client, "demo-pay", body, timestamp=int(time.time()) - 400)
    wrong = post_generic(client, "demo-pay", body, secret=DEMO_WEBHOOK_SECRETS["stripe"])

    # Then
    assert_problem(stale, 400, "invalid-signature")
    assert_problem(wrong, 400, "invalid-signature")
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        json.dumps({"id": "e1", "type": "payment.succeeded", "created": 1}).encode(),
        generic_event(amount="12.345"),
        generic_event(amount="0.00"),
        generic_event("payment.failed"),
    ],
)
def test_a_signed_body_that_breaks_the_format_is_refused_and_leaves_nothing(
    client, world: World, body
):
    # Given
    before = snapshot(world)

    # When
    response = post_generic(client, "demo-pay", body)

    # Then
    assert response.status_code in (400, 422), response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert snapshot(world) == before and objects(world, "webhooks/") == {}


def test_field_errors_point_into_the_body(client, world: World):
    # When
    response = post_generic(client, "demo-pay", generic_event(currency="eur"))

    # Then
    problem = assert_problem(response, 422, "validation-error")
    assert {error["pointer"] for error in problem["errors"]} == {"#/data/currency"}
