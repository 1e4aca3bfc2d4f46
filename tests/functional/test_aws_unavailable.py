"""Slow or throttled AWS: the request answers 503 with Retry-After, and its retry finishes the work.

Each test makes one AWS call fail once, as botocore hands the failure to the app once its own
retries are spent: a throttle raised before the call (nothing was written), or a read timeout
raised after it (the write went through; the app cannot know). The caller then sends the same
request again, with the same Idempotency-Key and body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.accounts import Answer, call
from tests.functional.aws_faults import assert_unavailable, failing_once
from tests.functional.conftest import World, order_body, post_order
from tests.functional.invoicing import credit_note, documents, placed, ship
from tests.functional.payment_intake import (
    payment_intent,
    payments,
    post_stripe,
    stripe_event,
)


def idempotency_records(world: World) -> list[dict[str, Any]]:
    table = world.outputs["IdempotencyTableName"]
    return world.session.client("dynamodb").scan(TableName=table)["Items"]


def answer_of(response: Any) -> Answer:
    body = json.loads(response.body) if response.body else None
    return Answer(response.status_code, body, dict(response.headers))


@pytest.fixture
def invoice(world: World, client) -> dict[str, Any]:
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [issued] = documents(world)
    return issued


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["throttle", "timeout", "unreachable"])
def test_a_list_of_invoices_answers_503_then_the_retry_answers_it(
    client, world: World, invoice, fault
):
    # Given ACME's invoice, as a healthy AWS lists it
    expected = call(client, "GET", "/invoices?customer_id=cus_acme")
    assert [listed["id"] for listed in expected.body["invoices"]] == [invoice["id"]]

    # When DynamoDB fails the listing's query once
    with failing_once("dynamodb.Query", fault) as failed:
        first = call(client, "GET", "/invoices?customer_id=cus_acme")
        retried = call(client, "GET", "/invoices?customer_id=cus_acme")

    # Then the first answer is 503 with Retry-After; the retry lists the same invoices
    assert failed == ["dynamodb.Query"]
    assert_unavailable(first)
    assert first.body["instance"] == "/invoices"
    assert retried.status == 200 and retried.body == expected.body


# --- orders ---------------------------------------------------------------------------------------


def test_a_throttled_order_writes_nothing_and_its_retry_places_it_once(client, world: World):
    # Given an order whose transaction DynamoDB throttles
    body = order_body()
    with failing_once("dynamodb.TransactWriteItems", "throttle") as failed:
        # When it is posted
        first = answer_of(post_order(client, body, idempotency_key="order-throttled"))

        # Then 503, nothing written, and the Idempotency-Key is free again
        assert failed == ["dynamodb.TransactWriteItems"]
        assert_unavailable(first)
        assert world.written() == []
        assert idempotency_records(world) == []

        # When the partner sends it again with the same key
        retried = answer_of(post_order(client, body, idempotency_key="order-throttled"))
        replayed = answer_of(post_order(client, body, idempotency_key="order-throttled"))

    # Then it is placed, once, and a further retry replays that answer
    assert retried.status == 201, retried.body
    assert replayed.status == 201 and replayed.body == retried.body
    orders = [item for item in world.written() if item.get("entity") == "Order"]
    assert [order["sk"] for order in orders] == ["ORDER"]
    assert orders[0]["pk"] == f"ORDER#{retried.body['id']}"


# --- gateway webhooks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "fault"),
    [("s3.PutObject", "throttle"), ("dynamodb.TransactWriteItems", "timeout")],
)
def test_a_stripe_delivery_answers_503_then_its_redelivery_is_received_once(
    client, world: World, operation, fault
):
    # Given a signed payment, and AWS failing once while it is recorded
    body = stripe_event("payment_intent.succeeded", payment_intent(), event_id="evt_1AcmeSlow")
    with failing_once(operation, fault) as failed:
        # When Stripe delivers it, then delivers it again after the 503
        first = answer_of(post_stripe(client, body))
        retried = answer_of(post_stripe(client, body))
    world.pump.drain()

    # Then 503 with Retry-After, 200 for the redelivery, and one payment
    assert failed == [operation]
    assert_unavailable(first)
    assert retried.status == 200 and retried.body["received"] is True
    [payment] = payments(world)
    assert payment["external_id"] == "pi_3QAcme0001"
    assert payment["amount"] == {"amount": "1190.00", "currency": "EUR"}


# --- credit notes ---------------------------------------------------------------------------------


def test_a_credit_note_whose_commit_timed_out_is_answered_by_its_retry_once(
    client, world: World, invoice
):
    # Given a credit note whose transaction goes through but whose answer times out
    body = {"reason": "Damaged in transit", "lines": [{"line_no": 1, "quantity": "1"}]}
    with failing_once("dynamodb.TransactWriteItems", "timeout") as failed:
        # When it is requested, then requested again with the same key
        first = credit_note(client, invoice["id"], body, idempotency_key="cn-slow")
        assert failed == ["dynamodb.TransactWriteItems"]
        assert_unavailable(first)
        assert len(documents(world, "credit_note")) == 1  # committed before the timeout
        retried = credit_note(client, invoice["id"], body, idempotency_key="cn-slow")
        replayed = credit_note(client, invoice["id"], body, idempotency_key="cn-slow")

    # Then the retry answers the committed note as a first attempt would; one note exists
    [note] = documents(world, "credit_note")
    assert retried.status == 201, retried.body
    assert retried.body["id"] == note["id"]
    assert retried.body["total"] == note["total"]
    assert replayed.status == 201 and replayed.body == retried.body
