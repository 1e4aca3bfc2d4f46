"""Partner webhooks and their deliveries in the single table, under the partner's partition.

| item | pk | sk |
| --- | --- | --- |
| webhook | ``PRINCIPAL#<partner id>`` | ``WEBHOOK`` |
| delivery | ``PRINCIPAL#<partner id>`` | ``DELIVERY#<delivery id>`` (one per event, time-ordered) |
| subscriber | ``WEBHOOK_SUBSCRIBERS#<money event type>`` | ``PARTNER#<partner id>`` |

A money event names a customer, not a partner: the partners to tell are found through the
subscriber items of its type (one Query, never a Scan), written in the same transaction as the
webhook. The deliverer checks each against the webhook itself and the partner's bound customers,
so a subscriber item left behind by racing registrations sends nothing.

The signing secret is stored (it must sign every delivery; the table is encrypted with our KMS
key) and kept in a ``SecretStr`` everywhere else, so it never reaches a log or a response by
accident. Deliveries carry the exact body they POST, so a replay sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ConfigDict, SecretStr

from shared import clock
from shared.adapters import aws
from shared.model import Model
from shared.store import readable, table
from shared.store.table import Delete, Item, Page, Put, Write, from_dynamo, to_dynamo

WEBHOOK_SK = "WEBHOOK"
SUBSCRIBERS_PREFIX = "WEBHOOK_SUBSCRIBERS#"
SUBSCRIBER_PREFIX = "PARTNER#"
DELIVERY_PREFIX = "DELIVERY#"
DELIVERY_TTL = timedelta(days=30)  # the window in which a delivery can be listed and replayed
MAX_ERROR_LENGTH = 300


def partition(partner_id: str) -> str:
    return f"PRINCIPAL#{partner_id}"


class Webhook(Model):
    model_config = ConfigDict(frozen=True)

    partner_id: str
    url: str
    events: tuple[str, ...]
    secret: SecretStr
    created_at: datetime
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        """What GET answers: never the secret."""
        return {
            "partner_id": self.partner_id,
            "url": self.url,
            "events": list(self.events),
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # recorded, not attempted yet (or the attempt never reported back)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # the last attempt failed; ``next_attempt`` says when the next one is due


class Delivery(Model):
    model_config = ConfigDict(frozen=True)

    delivery_id: str
    partner_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt: str | None = None
    created_at: str
    updated_at: str
    delivered_at: str | None = None
    body: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.delivery_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status.value,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "next_attempt": self.next_attempt,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "delivered_at": self.delivered_at,
        }


# --- webhooks -----------------------------------------------------------------------------------


def get_webhook(partner_id: str) -> Webhook | None:
    item = table.get(partition(partner_id), WEBHOOK_SK)
    if item is None:
        return None
    return Webhook(
        partner_id=item["partner_id"],
        url=item["url"],
        events=tuple(item["events"]),
        secret=SecretStr(item["secret"]),
        created_at=clock.parse(item["created_at"]),
        updated_at=clock.parse(item["updated_at"]),
    )


def put_webhook(webhook: Webhook, previous: Webhook | None, indexed: Collection[str]) -> None:
    """Create or replace the partner's one webhook, with a subscriber item per ``indexed`` type
    it subscribes to (and without those of ``previous`` it no longer subscribes to)."""
    item = {
        "pk": partition(webhook.partner_id),
        "sk": WEBHOOK_SK,
        "entity": "Webhook",
        "partner_id": webhook.partner_id,
        "url": webhook.url,
        "events": list(webhook.events),
        "secret": webhook.secret.get_secret_value(),
        "created_at": clock.iso(webhook.created_at),
        "updated_at": clock.iso(webhook.updated_at),
    }
    subscribed = [event for event in webhook.events if event in indexed]
    dropped = [event for event in (previous.events if previous else ()) if event in indexed]
    writes: list[Write] = [Put(item=item)]
    writes += [Put(item=_subscriber_item(event, webhook.partner_id)) for event in subscribed]
    writes += [
        Delete(subscriber_key(event, webhook.partner_id))
        for event in dropped
        if event not in subscribed
    ]
    table.transact(writes)


def delete_webhook(partner_id: str) -> bool:
    """Remove the webhook and its subscriber items; ``False`` when there was none."""
    webhook = get_webhook(partner_id)
    if webhook is None:
        return False
    writes: list[Write] = [
        Delete((partition(partner_id), WEBHOOK_SK), condition="attribute_exists(pk)"),
        *(Delete(subscriber_key(event, partner_id)) for event in webhook.events),
    ]
    try:
        table.transact(writes)
    except table.TransactionConflictError:
        return False
    return True


# --- subscribers of a money event type ------------------------------------------------------------


def subscriber_key(event_type: str, partner_id: str) -> tuple[str, str]:
    return SUBSCRIBERS_PREFIX + event_type, SUBSCRIBER_PREFIX + partner_id


def _subscriber_item(event_type: str, partner_id: str) -> Item:
    pk, sk = subscriber_key(event_type, partner_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "WebhookSubscriber",
        "event_type": event_type,
        "partner_id": partner_id,
    }


def subscribers(event_type: str) -> list[str]:
    """The partners whose webhook subscribed to ``event_type`` (as the subscriber items say)."""
    found: list[str] = []
    cursor: str | None = None
    while True:
        page = table.query_page(SUBSCRIBERS_PREFIX + event_type, limit=100, cursor=cursor)
        found += [item["partner_id"] for item in page.items if "partner_id" in item]
        if not (cursor := page.cursor):
            return found


# --- deliveries ---------------------------------------------------------------------------------


def delivery_key(partner_id: str, delivery_id: str) -> tuple[str, str]:
    return partition(partner_id), DELIVERY_PREFIX + delivery_id


@readable.reader
def _delivery(item: Item) -> Delivery:
    return Delivery.model_validate({k: item.get(k) for k in Delivery.model_fields})


def get_delivery(partner_id: str, delivery_id: str) -> Delivery | None:
    item = table.get(*delivery_key(partner_id, delivery_id))
    return _delivery(item) if item else None


def open_delivery(delivery: Delivery) -> Delivery:
    """Record a new delivery, or return the one already recorded for the same event."""
    pk, sk = delivery_key(delivery.partner_id, delivery.delivery_id)
    expires_at = int((clock.now() + DELIVERY_TTL).timestamp())
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "WebhookDelivery",
        **delivery.model_dump(mode="json"),
        "expires_at": expires_at,
    }
    try:
        aws.client("dynamodb").put_item(
            TableName=table.table_name(),
            Item=to_dynamo(item),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing: Any = error.response.get("Item")
        if existing:
            return _delivery(from_dynamo(existing))
        found = get_delivery(delivery.partner_id, delivery.delivery_id)
        return found or delivery
    return delivery


def record_attempt(
    delivery: Delivery,
    *,
    status: DeliveryStatus,
    status_code: int | None,
    error: str | None,
    next_attempt: str | None,
) -> Delivery:
    """Count one more attempt and its outcome (atomically: concurrent attempts both count)."""
    now = clock.iso(clock.now())
    values: Item = {
        ":one": 1,
        ":status": status.value,
        ":code": status_code,
        ":error": error[:MAX_ERROR_LENGTH] if error else None,
        ":next": next_attempt,
        ":now": now,
    }
    sets = [
        "attempts = attempts + :one",
        "#status = :status",
        "last_status_code = :code",
        "last_error = :error",
        "next_attempt = :next",
        "updated_at = :now",
    ]
    if status is DeliveryStatus.DELIVERED:
        sets.append("delivered_at = :now")
    answer = aws.client("dynamodb").update_item(
        TableName=table.table_name(),
        Key=to_dynamo(
            dict(
                zip(
                    ("pk", "sk"),
                    delivery_key(delivery.partner_id, delivery.delivery_id),
                    strict=True,
                )
            )
        ),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={key: _value(value) for key, value in values.items()},
        ReturnValues="ALL_NEW",
    )
    return _delivery(from_dynamo(answer["Attributes"]))


def _value(value: Any) -> dict[str, Any]:
    """One attribute value; ``None`` is stored as NULL (``to_dynamo`` drops it)."""
    return {"NULL": True} if value is None else to_dynamo({"v": value})["v"]


def list_deliveries(partner_id: str, *, limit: int, cursor: str | None) -> Page:
    """Newest first."""
    return table.query_page(
        partition(partner_id),
        sk_from=DELIVERY_PREFIX,
        sk_to=DELIVERY_PREFIX + "~",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def deliveries(page: Page) -> list[Delivery]:
    return [_delivery(item) for item in page.items]
