"""Deliver events to partners' webhooks, and replay them.

An order event goes to the partner in the order's ``placed_by`` if it registered a webhook for
that event type; orders staff placed have no partner webhook and deliver nothing. A money event
(an invoice or credit note issued, a payment applied or refunded, a write-off, a credit applied)
goes to every partner subscribed to its type and bound to its customer, and so does a case event
(a customer's question, request or dispute opened, answered or resolved). Each (partner, event) has
one delivery item, keyed by the event id: a redelivered message finds it, and once it says
``delivered`` nothing is POSTed again. A failed attempt is recorded and raised as
``RetryLaterError`` with an exponential backoff; after the queue's maxReceiveCount the message
rests in the DLQ, and an admin or the partner can replay the delivery through the API.

Every attempt resolves the URL's host again and POSTs only to an address it vetted (see
``shared.adapters.webhook_destination``): a host that now resolves inside the network is a
failed attempt that connected nowhere, with the reason on record.

Deliveries are at least once: two copies of one message processed at the same moment may both
POST, and a crash after a 2xx but before it is recorded POSTs again. Receivers deduplicate on
``OTC-Event-Id`` (docs/notifications.md).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import ConfigDict

from shared import clock, errors
from shared.adapters import webhook_destination, webhook_http
from shared.adapters.bus_events import BusEvent
from shared.adapters.host_resolution import ResolverUnavailableError
from shared.adapters.sqs_backoff import RetryLaterError
from shared.domain import webhooks as domain
from shared.model import Model
from shared.observability import logger, metrics
from shared.store import principals
from shared.store import webhooks as store
from shared.store.webhooks import Delivery, DeliveryStatus, Webhook

# As maxReceiveCount of PartnerWebhooksQueue in infra/resources.yaml (a unit test keeps them equal).
MAX_RECEIVES = 8


class Outcome(StrEnum):
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already_delivered"
    NO_SUBSCRIBER = "no_subscriber"


def deliver_event(event: BusEvent, receive_count: int = 1) -> Outcome:
    """POST the event to its partners' webhooks; raise ``RetryLaterError`` when one failed."""
    if event.detail_type in domain.CUSTOMER_EVENT_TYPES:
        return _deliver_customer_event(event, receive_count)
    partner_id = event.detail.data.get("placed_by")
    if not isinstance(partner_id, str) or not partner_id:
        return Outcome.NO_SUBSCRIBER
    return deliver_to(partner_id, event, receive_count)


def _deliver_customer_event(event: BusEvent, receive_count: int) -> Outcome:
    """Every subscribed partner bound to the customer gets it; one failing does not hold the
    others back (a retry finds theirs delivered and POSTs only what failed)."""
    customer_id = event.detail.data.get("customer_id")
    if not isinstance(customer_id, str) or not customer_id:
        return Outcome.NO_SUBSCRIBER
    outcomes: list[Outcome] = []
    failed: list[RetryLaterError] = []
    for partner_id in store.subscribers(event.detail_type):
        partner = principals.get(partner_id)
        if partner is None or customer_id not in partner.customer_ids:
            continue
        try:
            outcomes.append(deliver_to(partner_id, event, receive_count))
        except RetryLaterError as error:
            failed.append(error)
    if failed:
        raise min(failed, key=lambda error: error.delay_seconds)
    if Outcome.DELIVERED in outcomes:
        return Outcome.DELIVERED
    return Outcome.ALREADY_DELIVERED if outcomes else Outcome.NO_SUBSCRIBER


def deliver_to(partner_id: str, event: BusEvent, receive_count: int) -> Outcome:
    """POST the event to this partner's webhook if it subscribed to the event's type."""
    metadata = event.detail.metadata
    context = {"event_id": metadata.event_id, "detail_type": event.detail_type}
    webhook = store.get_webhook(partner_id)
    if webhook is None or event.detail_type not in webhook.events:
        return Outcome.NO_SUBSCRIBER
    now = clock.iso(clock.now())
    delivery = store.open_delivery(
        Delivery(
            delivery_id=domain.delivery_id_for(metadata.event_id),
            partner_id=partner_id,
            event_id=metadata.event_id,
            event_type=event.detail_type,
            status=DeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            updated_at=now,
            body=domain.payload(
                metadata.event_id, event.detail_type, metadata.occurred_at, event.detail.data
            ).decode(),
        )
    )
    context |= {"partner_id": partner_id, "delivery_id": delivery.delivery_id}
    if delivery.status is DeliveryStatus.DELIVERED:
        logger.info("event already delivered", extra=context)
        return Outcome.ALREADY_DELIVERED
    delivery = attempt(webhook, delivery, retries_left=receive_count < MAX_RECEIVES)
    if delivery.status is DeliveryStatus.DELIVERED:
        return Outcome.DELIVERED
    logger.warning(
        "webhook delivery failed",
        extra={**context, "attempts": delivery.attempts, "status_code": delivery.last_status_code},
    )
    raise RetryLaterError(
        f"delivery {delivery.delivery_id} failed: {delivery.last_error}",
        domain.backoff_seconds(delivery.attempts),
    )


def attempt(webhook: Webhook, delivery: Delivery, *, retries_left: bool) -> Delivery:
    """POST the delivery's body, freshly signed, to the webhook's URL; record the outcome."""
    body = delivery.body.encode()
    timestamp = int(clock.now().timestamp())
    secret = webhook.secret.get_secret_value()
    outcome = _post(webhook.url, body, domain.headers(secret, delivery.event_id, timestamp, body))
    if outcome.ok:
        metrics.add_metric(name="WebhooksDelivered", unit="Count", value=1)
        return store.record_attempt(
            delivery,
            status=DeliveryStatus.DELIVERED,
            status_code=outcome.status_code,
            error=None,
            next_attempt=None,
        )
    metrics.add_metric(name="WebhookDeliveryFailures", unit="Count", value=1)
    wait = timedelta(seconds=domain.backoff_seconds(delivery.attempts + 1))
    return store.record_attempt(
        delivery,
        status=DeliveryStatus.FAILED,
        status_code=outcome.status_code,
        error=outcome.error,
        next_attempt=clock.iso(clock.now() + wait) if retries_left else None,
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> webhook_http.HttpOutcome:
    """POST to the URL's vetted address; a URL that no longer passes is a failure, not a call."""
    try:
        destination = webhook_destination.vet(url)
    except domain.InvalidWebhookUrlError as error:
        return webhook_http.HttpOutcome(status_code=None, error=f"refused: {error}")
    except ResolverUnavailableError as error:
        return webhook_http.HttpOutcome(status_code=None, error=str(error))
    return webhook_http.post(destination, body, headers)


class ReplayRequest(Model):
    """The (empty) body of a replay: nothing to choose, the delivery is sent as recorded."""

    model_config = ConfigDict(extra="forbid")


def replay(partner_id: str, delivery_id: str) -> Delivery:
    """Send a recorded delivery again, now, to the webhook's current URL; no retry if it fails."""
    delivery = store.get_delivery(partner_id, delivery_id) if len(delivery_id) <= 64 else None
    if delivery is None:
        raise errors.NotFound(f"delivery {delivery_id}")
    webhook = store.get_webhook(partner_id)
    if webhook is None:
        raise errors.Conflict(
            "webhook-not-registered", f"partner {partner_id} has no webhook to replay to"
        )
    replayed = attempt(webhook, delivery, retries_left=False)
    logger.info(
        "delivery replayed",
        extra={
            "partner_id": partner_id,
            "delivery_id": delivery_id,
            "status": replayed.status.value,
        },
    )
    return replayed
