"""Hostile webhooks with valid signatures: a signature proves who sent the bytes, not that they
make sense. Each answers 4xx problem+json, and nothing is kept: no item, no object, no event.

Stripe bodies are signed by Stripe's own library; the generic ones as our format signs them.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from shared.domain import webhooks
from tests.functional.conftest import World
from tests.functional.helpers import PROBLEM
from tests.functional.payment_intake import (
    DEMO_PAY_SECRET,
    generic_event,
    objects,
    payment_intent,
    payments,
    post_generic,
    post_stripe,
    stripe_event,
)

DEEP = 10_000


def _stripe(**changes: Any) -> bytes:
    """A Stripe payment_intent.succeeded event with the top level (or the intent) changed."""
    intent = payment_intent()
    intent.update(changes.pop("intent", {}))
    event = json.loads(stripe_event("payment_intent.succeeded", intent))
    event.update(changes)
    return json.dumps(event).encode()


def _deep_stripe() -> bytes:
    """A Stripe event whose intent's metadata nests ``DEEP`` arrays deep."""
    nested = "[" * DEEP + "]" * DEEP
    return (
        b'{"id": "evt_deep", "object": "event", "type": "payment_intent.succeeded", "created": '
        + str(int(time.time())).encode()
        + b', "data": {"object": {"id": "pi_deep", "amount": 100, "currency": "eur",'
        + b' "metadata": {"deep": '
        + nested.encode()
        + b"}}}}"
    )


def _assert_refused_and_nothing_kept(response: Any, world: World) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.body)
    assert response.headers["Content-Type"] == PROBLEM
    world.pump.drain()
    assert world.written() == []  # no receipt, no GatewayEventReceived, no payment
    assert objects(world, "webhooks/") == {}
    assert payments(world) == []


@pytest.mark.parametrize(
    "body",
    [
        _stripe(created=1e20),
        _stripe(created=2**63),
        _stripe(created=10**12),
        _stripe(created=-1),
        _stripe(created=1.5),
        _stripe(created=str(int(time.time()))),
        _stripe(created=True),
        _stripe(intent={"created": 2**63}),
        _stripe(intent={"amount_received": 10**20, "amount": 10**20}),
        _stripe(intent={"amount_received": 2**63, "amount": 2**63}),
        _stripe(intent={"amount_received": -500, "amount": -500}),
        _stripe(intent={"amount_received": 1190.5, "amount": 1190.5}),
        _stripe(intent={"amount_received": 1e20, "amount": 1e20}),
        _stripe(intent={"metadata": {f"k{index}": "v" for index in range(51)}}),
        _deep_stripe(),
        stripe_event("payment_intent.succeeded", payment_intent())[:-1] + b', "id": "evt_2"}',
        _stripe(intent={"amount_received": 119000}).replace(b"119000", b"1e400", 1),
        _stripe(type="\ud800"),
    ],
    ids=[
        "created-1e20",
        "created-2^63",
        "created-year-33658",
        "created-negative",
        "created-float",
        "created-string",
        "created-bool",
        "intent-created-2^63",
        "amount-1e20-int",
        "amount-2^63",
        "amount-negative",
        "amount-fraction",
        "amount-float",
        "metadata-51-keys",
        "nested-10000-deep",
        "duplicate-id",
        "amount-infinite",
        "lone-surrogate",
    ],
)
def test_a_signed_but_hostile_stripe_event_is_refused_and_nothing_is_kept(
    client, world: World, body: bytes
):
    # Given a body Stripe's library signs with the stack's secret (post_stripe signs it)

    # When it is delivered
    response = post_stripe(client, body)

    # Then it is refused as an unreadable event, and nothing is kept
    _assert_refused_and_nothing_kept(response, world)
    assert json.loads(response.body)["type"].endswith("/invalid-event")


def _generic(**changes: Any) -> bytes:
    event = json.loads(generic_event(event_id=f"dpe_{uuid.uuid4().hex[:12]}"))
    data = changes.pop("data", {})
    event.update(changes)
    event["data"].update(data)
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    "body",
    [
        _generic(created=1e20),
        _generic(created=2**63),
        _generic(created=10**12),
        _generic(created=-1),
        _generic(created=1.5),
        _generic(created=str(int(time.time()))),
        _generic(created=True),
        _generic(data={"amount": 12.5}),
        _generic(data={"amount": "1" * 13}),
        _generic(data={"metadata": None}),
        b'{"id": "dpe_x", "type": "payment.succeeded", "created": '
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}",
        b'{"id": "dpe_x", "data": ' + b"[" * 40 + b"]" * 40 + b"}",
        _generic()[:-1] + b', "type": "payment.refunded"}',
    ],
    ids=[
        "created-1e20",
        "created-2^63",
        "created-year-33658",
        "created-negative",
        "created-float",
        "created-string",
        "created-bool",
        "amount-number",
        "amount-out-of-range",
        "metadata-null",
        "nested-10000-deep",
        "nested-40-deep",
        "duplicate-type",
    ],
)
def test_a_signed_but_hostile_generic_event_is_refused_and_nothing_is_kept(
    client, world: World, body: bytes
):
    # Given a body signed with the provider's secret (post_generic signs it)

    # When it is delivered
    response = post_generic(client, "demo-pay", body)

    # Then it is refused (400 unreadable, 422 a field), and nothing is kept
    _assert_refused_and_nothing_kept(response, world)


def test_a_generic_event_not_sent_as_json_is_refused_then_received_as_json(client, world: World):
    # Given a validly signed generic event
    body = _generic()

    # When it is delivered without a Content-Type
    unsent = client.http.post(
        "/webhooks/demo-pay",
        headers={
            "Webhook-Signature": webhooks.signature_header(DEMO_PAY_SECRET, int(time.time()), body)
        },
        body=body,
    )

    # Then it is refused with 415, and nothing is kept
    assert unsent.status_code == 415, unsent.body
    _assert_refused_and_nothing_kept(unsent, world)

    # When the same body is delivered as JSON, it is received
    assert post_generic(client, "demo-pay", body).status_code == 200
