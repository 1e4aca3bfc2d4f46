"""Webhook events received from payment gateways: one receipt per (provider, event id).

- receipt: ``GATEWAYEVENT#<provider>#<event id>`` / ``GATEWAYEVENT``: put (``Put.new``) with the
  ``GatewayEventReceived`` event, so a gateway's retries and duplicate deliveries of one event
  are recorded - and acted on - once. Events of types the intake does not act on are recorded
  as ``ignored``, without an event.

The receipt lives as long as the table (no TTL): gateways retry for days, and a receipt is also
the index from an event id to the evidence kept in S3.
"""

from __future__ import annotations

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.gateway_events import GatewayEvent
from shared.domain.payment import SOURCE
from shared.store import outbox, table
from shared.store.outbox import StaleStateError
from shared.store.table import Item, Put

SORT_KEY = "GATEWAYEVENT"


class DuplicateGatewayEventError(Exception):
    """The event was received before."""


def receipt_key(provider: str, event_id: str) -> tuple[str, str]:
    return f"GATEWAYEVENT#{provider}#{event_id}", SORT_KEY


def received(provider: str, event_id: str) -> bool:
    return table.get(*receipt_key(provider, event_id)) is not None


def received_event(event: GatewayEvent) -> DomainEvent:
    """``GatewayEventReceived``: the parsed event, for the consumer that records its effect."""
    return DomainEvent(
        detail_type="GatewayEventReceived",
        source=SOURCE,
        aggregate_id=f"{event.provider}:{event.event_id}",
        data=event.to_data(),
    )


def record(event: GatewayEvent) -> None:
    """The receipt and (for an event the intake acts on) ``GatewayEventReceived``, at once.

    Raises ``DuplicateGatewayEventError`` when the event was received before.
    """
    receipt = Put.new(_receipt_item(event, "received" if event.action else "ignored"))
    events = [received_event(event)] if event.action else []
    try:
        outbox.commit([receipt], events)
    except StaleStateError as stale:
        raise DuplicateGatewayEventError(f"{event.provider} {event.event_id}") from stale


def _receipt_item(event: GatewayEvent, outcome: str) -> Item:
    pk, sk = receipt_key(event.provider, event.event_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "GatewayEvent",
        "provider": event.provider,
        "event_id": event.event_id,
        "type": event.type,
        "outcome": outcome,
        "external_id": event.external_id,
        "evidence_key": event.evidence_key,
        "created": clock.iso(event.created),
        "received_at": clock.iso(clock.now()),
    }
