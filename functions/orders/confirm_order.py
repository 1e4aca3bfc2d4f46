"""Confirm a received order (on OrderReceived): credit check, then stock reservation.

The order is held, not rejected, when its customer is on credit hold or the order would take
the customer's exposure beyond the credit limit; a credit manager then decides. Otherwise every
tracked line reserves what stock allows and backorders the rest. Idempotent on the event id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.orders.reservations import (
    CreditLimitExceededError,
    Move,
    available,
    commit,
    stock_writes,
)
from shared.domain import notifications, pricing
from shared.domain import order as order_domain
from shared.domain.allocation import plan
from shared.domain.customer import Customer, CustomerStatus
from shared.domain.order import Order, OrderStatus
from shared.observability import logger
from shared.store import credit, customers, orders, outbox, stock, table
from shared.store.outbox import AlreadyConsumedError

CONSUMER = "order-confirmation"


def confirm_received_order(
    order_id: str, event_id: str, placed: Mapping[str, Any] | None = None
) -> bool:
    """True when this call moved the order (confirmed or held), False when nothing was to do.

    ``placed``: the order as its OrderReceived event carries it. The order is read in one call
    with its customer, its SKUs' stock levels and its chain head, the keys taken from ``placed``
    (from the stored order when the event carries none); what the order names now and the event
    did not (an amendment since) is read on its own.
    """
    known = _readable(placed)
    if known is None and (stored := orders.get(order_id)) is not None:
        known = stored.to_wire()
    ahead = [orders.order_key(order_id), *_to_read(order_id, known)] if known else []
    with table.reading_ahead(ahead):
        order = orders.get(order_id)
        if order is None or order.status is not OrderStatus.RECEIVED:
            logger.info("nothing to confirm", extra={"order_id": order_id, "event_id": event_id})
            return False
        try:
            _confirm_or_hold(order, (CONSUMER, event_id))
        except AlreadyConsumedError:
            logger.info("event already applied", extra={"order_id": order_id, "event_id": event_id})
            return False
    return True


def _readable(placed: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The event's order when it names a customer and its lines' SKUs (else read the order)."""
    if not placed or not isinstance(placed.get("customer_id"), str):
        return None
    lines = placed.get("lines")
    if not isinstance(lines, list) or not all(
        isinstance(line, dict) and isinstance(line.get("sku"), str) for line in lines
    ):
        return None
    return placed


def _to_read(order_id: str, order: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What confirming reads: the customer, its SKUs' stock levels, the order's chain head."""
    skus = sorted({line["sku"] for line in order.get("lines", []) if pricing.is_sku(line["sku"])})
    return [
        customers.customer_key(order["customer_id"]),
        *(stock.stock_key(sku) for sku in skus),
        outbox.head_key(order_id),
    ]


def _confirm_or_hold(order: Order, consumed: tuple[str, str]) -> None:
    customer = customers.get(order.customer_id)
    if customer is None or customer.status is not CustomerStatus.ACTIVE:
        _hold(order, "the customer is on credit hold", consumed)
        return
    try:
        commit(
            lambda: reserve_and_confirm(order, enforce_limit=True, customer=customer),
            consumed=consumed,
        )
    except CreditLimitExceededError:
        _hold(order, "the order would exceed the customer's credit limit", consumed)


def reserve_and_confirm(
    order: Order,
    *,
    enforce_limit: bool,
    approved_by: str | None = None,
    customer: Customer | None = None,
) -> Move:
    """The confirmation of ``order`` planned on current stock levels; with its ``customer``,
    the event says whether the customer's order notices want an e-mail of it."""
    levels, untracked = available([line.sku for line in order.lines])
    order = order_domain.mark_untracked(order, untracked)
    allocation = plan(order.lines, levels, {})
    email_notice = (
        None
        if customer is None
        else notifications.wants_email("OrderConfirmed", customer.order_notices, order.placed_by)
    )
    confirmed, event = order_domain.confirm(
        order, allocation.reserved, approved_by=approved_by, email_notice=email_notice
    )
    return Move(
        before=order,
        after=confirmed,
        events=[event],
        credit=credit.add_uninvoiced(order.customer_id, order.total, enforce_limit=enforce_limit),
        stock=stock_writes(allocation.delta),
    )


def _hold(order: Order, reason: str, consumed: tuple[str, str]) -> None:
    held, event = order_domain.hold(order, reason)
    outbox.commit([orders.replacing(held, order)], [event], consumed=consumed)
