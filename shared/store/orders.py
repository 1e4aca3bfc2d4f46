"""Orders in the single table: item mapping and the writes each order move makes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.order import Order, OrderLine, OrderStatus
from shared.store import outbox, table
from shared.store.table import Item, Put


def order_key(order_id: str) -> tuple[str, str]:
    return f"ORDER#{order_id}", "ORDER"


def to_item(order: Order) -> Item:
    pk, sk = order_key(order.order_id)
    created_at = clock.iso(order.created_at)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Order",
        "gsi1pk": f"CUSTOMER#{order.customer_id}",
        "gsi1sk": f"ORDER#{created_at}#{order.order_id}",
        "order_id": order.order_id,
        "partner_id": order.partner_id,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "purchase_order": order.purchase_order,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in order.lines
        ],
        "total": order.total,
        "status": order.status.value,
        "version": order.version,
        "created_at": created_at,
        "updated_at": clock.iso(order.updated_at),
    }


def from_item(item: Item) -> Order:
    def line(raw: dict[str, Any]) -> OrderLine:
        return OrderLine(
            sku=raw["sku"],
            quantity=int(raw["quantity"]),
            unit_price=Decimal(raw["unit_price"]),
            line_total=Decimal(raw["line_total"]),
        )

    return Order(
        order_id=item["order_id"],
        partner_id=item["partner_id"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        purchase_order=item.get("purchase_order"),
        lines=tuple(line(raw) for raw in item["lines"]),
        total=Decimal(item["total"]),
        status=OrderStatus(item["status"]),
        version=int(item["version"]),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


def get(order_id: str) -> Order | None:
    item = table.get(*order_key(order_id))
    return from_item(item) if item else None


def create(order: Order, event: DomainEvent) -> None:
    outbox.commit([Put.new(to_item(order))], [event])


def transition(
    order: Order,
    previous_version: int,
    event: DomainEvent,
    *,
    consumed: tuple[str, str] | None = None,
) -> None:
    outbox.commit([Put.replacing(to_item(order), previous_version)], [event], consumed=consumed)
