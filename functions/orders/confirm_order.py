"""Confirm a received order (on OrderReceived). Idempotent on the triggering event's id."""

from __future__ import annotations

from shared.domain import order as order_domain
from shared.domain.order import OrderStatus
from shared.observability import logger
from shared.store import orders
from shared.store.outbox import AlreadyConsumedError

CONSUMER = "order-confirmation"


def confirm_received_order(order_id: str, event_id: str) -> bool:
    """Return True when this call confirmed the order, False when there was nothing to do.

    A stale write (the order moved between read and write) raises, so the message is retried
    and the next attempt sees the new state.
    """
    order = orders.get(order_id)
    if order is None or order.status is not OrderStatus.RECEIVED:
        logger.info("nothing to confirm", extra={"order_id": order_id, "event_id": event_id})
        return False
    confirmed, event = order_domain.confirm(order)
    try:
        orders.transition(confirmed, order.version, event, consumed=(CONSUMER, event_id))
    except AlreadyConsumedError:
        logger.info("event already applied", extra={"order_id": order_id, "event_id": event_id})
        return False
    return True
