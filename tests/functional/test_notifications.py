"""Customer e-mails: order events on the bus -> rule -> queue -> notify_customers -> SES (moto).

Each e-mail goes out exactly once per (event, recipient), however often SQS delivers the event,
and a failed send is retried until it goes out once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from shared import clock
from shared.adapters import mail
from shared.store import customers
from shared.store import notifications as markers
from tests.functional.conftest import World
from tests.functional.order_events import detail, envelope, put_on_bus, shipment, sqs_batch

SENDER = "billing@otc.example"
BILLING_EMAIL = "ap@acme.example"  # cus_acme's, from the seed


def _outbox() -> list[Any]:
    """Every message moto's SES (v1 and v2 share it) accepted in this world."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def _markers(world: World) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item["pk"].startswith("NOTIFIED#")]


def _batch(*details: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    bodies = [json.dumps(envelope(detail_type, event)) for detail_type, event in details]
    return sqs_batch(bodies, queue="otc-local-customer-notifications")


def _fail_first(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[str]:
    """Make SES refuse the first ``failures`` sends; return a log of every send attempted."""
    real_send = mail.send
    attempts: list[str] = []

    def flaky(**kwargs: Any) -> str:
        attempts.append(kwargs["recipient"])
        if len(attempts) <= failures:
            raise ConnectionError("SES endpoint unreachable")
        return real_send(**kwargs)

    monkeypatch.setattr(mail, "send", flaky)
    return attempts


def set_order_notices(client: Any, preference: str, customer_id: str = "cus_acme") -> None:
    from tests.functional.accounts import call

    version = call(client, "GET", f"/customers/{customer_id}").body["version"]
    body = {"version": version, "order_notices": preference}
    answer = call(client, "PATCH", f"/customers/{customer_id}", body=body)
    assert answer.status == 200 and answer.body["order_notices"] == preference, answer.body


@pytest.fixture(autouse=True)
def _emailed(client: Any) -> None:
    """The tests of what is sent and how often: cus_acme asked for every order notice by
    e-mail (the defaults: tests/functional/test_order_notices.py)."""
    set_order_notices(client, "email")


# --- what is sent -----------------------------------------------------------------------------


def test_a_confirmed_order_is_emailed_to_the_customer_once(world: World) -> None:
    # Given an OrderConfirmed on the bus
    event = detail("OrderConfirmed")
    put_on_bus(world, "OrderConfirmed", event)

    # When the consumers run
    world.pump.drain()

    # Then the customer got one e-mail from the sender, about their purchase order
    [message] = _outbox()
    assert message.source == SENDER
    assert message.destinations == {"ToAddresses": [BILLING_EMAIL]}
    assert message.subject == "Order PO-4711 confirmed"
    assert "Hello ACME Retail GmbH," in message.body
    assert "Widget, blue (WIDGET-1)" in message.body
    assert "Gadget &lt;pro&gt; (GADGET-2)" in message.body  # escaped, never markup
    assert "60.10 EUR" in message.body
    # and the marker records SES's message id
    [marker] = _markers(world)
    assert marker["pk"] == f"NOTIFIED#{event['metadata']['event_id']}"
    assert marker["status"] == "sent"
    assert marker["message_id"] == message.id
    assert marker["expires_at"] > datetime.now(UTC).timestamp() + 365 * 86400


def test_a_shipment_email_lists_what_shipped_and_how_to_track_it(world: World) -> None:
    # Given a partial shipment: 2 of 3 widgets, by UPS
    ship = shipment([(1, "WIDGET-1", 2)], carrier="UPS", tracking_number="1Z999AA10123456784")
    put_on_bus(world, "OrderShipped", detail("OrderShipped", ship=ship))

    # When
    world.pump.drain()

    # Then
    [message] = _outbox()
    assert message.subject == "Part of order PO-4711 shipped"
    assert "1Z999AA10123456784" in message.body
    assert "UPS" in message.body
    assert "<td>Widget, blue (WIDGET-1)</td><td>2</td>" in message.body
    assert "GADGET-2" not in message.body  # it did not ship
    assert "rest of your order follows" in message.body


def test_a_held_order_email_says_under_review_and_keeps_the_reason_inside(world: World) -> None:
    # Given an order held for credit
    put_on_bus(world, "OrderHeld", detail("OrderHeld", reason="credit limit exceeded by 1,250"))

    # When
    world.pump.drain()

    # Then
    [message] = _outbox()
    assert message.subject == "Order PO-4711 is under review"
    assert "under review" in message.body
    assert "credit" not in message.body.lower()
    assert "1,250" not in message.body


def test_only_confirmed_held_shipped_and_rejected_orders_are_emailed(world: World) -> None:
    # Given every other order event on the bus
    for detail_type in ("OrderReceived", "OrderAmended", "OrderCancelled"):
        put_on_bus(world, detail_type, detail(detail_type))

    # Then the rule routes none of them to the notification queue, and nothing is sent
    assert world.queue_depth("CustomerNotificationsQueue") == 0
    world.pump.drain()
    assert _outbox() == []


def test_the_contact_email_is_preferred_to_the_billing_email(world, monkeypatch) -> None:
    # Given a customer with a contact address besides the billing one
    acme = SimpleNamespace(
        customer_id="cus_acme",
        legal_name="ACME Retail GmbH",
        billing_email=BILLING_EMAIL,
        contact_email="orders@acme.example",
        order_notices="email",
    )
    monkeypatch.setattr(customers, "get", lambda customer_id: acme)

    # When
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()

    # Then
    [message] = _outbox()
    assert message.destinations == {"ToAddresses": ["orders@acme.example"]}


def test_an_order_of_an_unknown_customer_is_skipped_not_retried(world, client) -> None:
    # Given
    batch = _batch(("OrderConfirmed", detail("OrderConfirmed", customer_id="cus_gone")))

    # When
    result = client.lambda_.invoke("notify_customers", batch).payload

    # Then
    assert result == {"batchItemFailures": []}
    assert _outbox() == []


# --- exactly once ---------------------------------------------------------------------------------


def test_a_duplicated_event_sends_nothing_more(world: World, client) -> None:
    # Given one event published twice (two bus envelopes, one event id) and redelivered by SQS
    event = detail("OrderConfirmed")
    put_on_bus(world, "OrderConfirmed", event)
    put_on_bus(world, "OrderConfirmed", event)
    world.pump.drain()
    again = client.lambda_.invoke(
        "notify_customers", _batch(("OrderConfirmed", event), ("OrderConfirmed", event))
    ).payload

    # Then one e-mail went out, and the duplicates completed without failing
    assert again == {"batchItemFailures": []}
    assert len(_outbox()) == 1
    assert len(_markers(world)) == 1


def test_two_events_of_one_order_are_two_emails(world: World) -> None:
    order_id = "ord_01KAT3ZPD9X4M6Q2B8N5R7V0WE"
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed", order_id=order_id))
    put_on_bus(world, "OrderShipped", detail("OrderShipped", order_id=order_id))
    world.pump.drain()
    assert sorted(m.subject for m in _outbox()) == [
        "Order PO-4711 confirmed",
        "Part of order PO-4711 shipped",
    ]


def test_a_failed_send_releases_its_claim_and_the_retry_sends_once(
    world: World, client, monkeypatch
) -> None:
    # Given SES failing on the first attempt
    attempts = _fail_first(monkeypatch, failures=1)
    batch = _batch(("OrderConfirmed", detail("OrderConfirmed")))

    # When the consumer gets the event (with another one that goes through)
    batch["Records"].append(_batch(("OrderHeld", detail("OrderHeld")))["Records"][0])
    first = client.lambda_.invoke("notify_customers", batch).payload

    # Then the failed record is reported for a retry, and no claim is left behind
    assert first == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert [m.subject for m in _outbox()] == ["Order PO-4711 is under review"]
    assert [m["detail_type"] for m in _markers(world)] == ["OrderHeld"]

    # When SQS delivers the batch again (twice, say)
    for _ in range(2):
        assert client.lambda_.invoke("notify_customers", batch).payload == {"batchItemFailures": []}

    # Then each e-mail went out exactly once, the failed one on its second attempt
    assert len(attempts) == 3
    assert sorted(m.subject for m in _outbox()) == [
        "Order PO-4711 confirmed",
        "Order PO-4711 is under review",
    ]


def test_sends_that_fail_are_retried_through_the_queue_until_one_goes_out(
    world: World, monkeypatch
) -> None:
    # Given SES failing twice, and the real path: bus -> rule -> queue -> pump
    attempts = _fail_first(monkeypatch, failures=2)
    put_on_bus(world, "OrderShipped", detail("OrderShipped"))

    # When the pump retries as Lambda's event source mapping would
    world.pump.drain()

    # Then the third attempt sent it, once, and the queue is empty
    assert len(attempts) == 3
    assert len(_outbox()) == 1
    assert world.queue_depth("CustomerNotificationsQueue") == 0
    assert world.queue_depth("CustomerNotificationsDeadLetterQueue") == 0


def test_a_send_that_never_succeeds_ends_in_the_dlq_with_no_claim_left(
    world: World, monkeypatch
) -> None:
    attempts = _fail_first(monkeypatch, failures=1000)
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()
    assert len(attempts) == 5  # maxReceiveCount of the queue
    assert world.queue_depth("CustomerNotificationsDeadLetterQueue") == 1
    assert _markers(world) == []


def test_a_claim_in_progress_is_respected_and_an_abandoned_one_taken_over(
    world: World, client
) -> None:
    # Given an attempt that claimed the e-mail and then died before sending
    event = detail("OrderConfirmed")
    assert markers.claim(event["metadata"]["event_id"], BILLING_EMAIL, detail_type="OrderConfirmed")
    batch = _batch(("OrderConfirmed", event))

    # When a duplicate arrives within the claim's lease, it leaves the e-mail to the holder
    assert client.lambda_.invoke("notify_customers", batch).payload == {"batchItemFailures": []}
    assert _outbox() == []

    # When the message's retry arrives after the lease, it takes the claim over and sends
    later = datetime.now(UTC) + markers.CLAIM_LEASE + timedelta(seconds=1)
    clock.set_clock(lambda: later)
    try:
        assert client.lambda_.invoke("notify_customers", batch).payload == {"batchItemFailures": []}
    finally:
        clock.set_clock(None)
    [message] = _outbox()
    [marker] = _markers(world)
    assert marker["status"] == "sent" and marker["message_id"] == message.id


def test_an_unverified_sender_fails_and_retries_rather_than_drops(world, client, monkeypatch):
    # Given a sender SES does not know (on AWS: the verification link was never clicked)
    from shared.config import settings

    monkeypatch.setenv("SENDER_EMAIL", "nobody@unverified.example")
    settings.cache_clear()
    try:
        batch = _batch(("OrderConfirmed", detail("OrderConfirmed")))
        # When the consumer gets an event: its one record is reported failed, so SQS retries it
        answer = client.lambda_.invoke("notify_customers", batch).payload
        [record] = batch["Records"]
        assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    finally:
        monkeypatch.undo()
        settings.cache_clear()

    # Then the message is retried (and would dead-letter), and no claim blocks a later send
    assert _outbox() == []
    assert _markers(world) == []
    assert client.lambda_.invoke("notify_customers", batch).payload == {"batchItemFailures": []}
    assert len(_outbox()) == 1


# --- a rejected order ---------------------------------------------------------------------------


def test_a_rejected_order_is_emailed_once_with_the_reason(world: World, client) -> None:
    # Given an order held for credit (the customer was told "under review")
    from decimal import Decimal

    from infra.local.seed import demo_principal
    from shared.http.auth import Role
    from shared.store import credit, table
    from tests.functional.accounts import call
    from tests.functional.conftest import PARTNER_KEY, order_body, post_order

    credit_key = "otc_test_credit_manager_key_0123456789"
    demo_principal("stf_credit", "staff", "Credit manager", Role.CREDIT_MANAGER, credit_key)
    exposure = credit.get_exposure("cus_acme")
    assert exposure is not None
    table.transact([credit.change_limit("cus_acme", exposure.credit_limit, Decimal("1.00"))])
    placed = post_order(client, order_body(purchase_order="PO-REJ-1"), key=PARTNER_KEY)
    world.pump.drain()
    order_id = json.loads(placed.body)["id"]
    [review] = _outbox()
    assert review.subject == "Order PO-REJ-1 is under review"

    # When the credit manager rejects it with a reason
    reason = "Payment history <overdue> since 2026-09"
    path = f"/orders/{order_id}/reject"
    answer = call(client, "POST", path, key=credit_key, body={"reason": reason})
    assert answer.status == 200 and answer.body["status"] == "rejected"
    world.pump.drain()

    # Then the customer gets one e-mail saying so, with the reason (escaped in the HTML part)
    [_, message] = _outbox()
    assert message.destinations == {"ToAddresses": [BILLING_EMAIL]}
    assert message.subject == "Order PO-REJ-1 not accepted"
    assert "cannot accept your order PO-REJ-1" in message.body
    assert "Reason: Payment history &lt;overdue&gt; since 2026-09." in message.body
    rejected = [m for m in _markers(world) if m.get("detail_type") == "OrderRejected"]
    assert [m["status"] for m in rejected] == ["sent"]

    # and a redelivery of the event sends nothing more
    [event] = [
        item
        for item in world.table_items()
        if item.get("entity") == "Event" and item["detail_type"] == "OrderRejected"
    ]
    again = client.lambda_.invoke(
        "notify_customers", _batch(("OrderRejected", json.loads(event["detail"])))
    ).payload
    assert again == {"batchItemFailures": []}
    assert len(_outbox()) == 2
