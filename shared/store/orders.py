"""Orders in the single table: item mapping, reads, listings, and the shipment records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shared import clock
from shared.domain.order import Address, Order, OrderLine, OrderStatus, Shipment
from shared.store import table
from shared.store.table import Item, Page, Put


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
        "gsi2pk": f"ORDERSTATUS#{order.status.value}",
        "gsi2sk": f"{created_at}#{order.order_id}",
        "order_id": order.order_id,
        "placed_by": order.placed_by,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "purchase_order": order.purchase_order,
        "ship_to": order.ship_to.model_dump(exclude_none=True) if order.ship_to else None,
        "lines": [line.model_dump() for line in order.lines],
        "total": order.total,
        "status": order.status.value,
        "version": order.version,
        "created_at": created_at,
        "updated_at": clock.iso(order.updated_at),
    }


def from_item(item: Item) -> Order:
    def line(raw: dict[str, Any]) -> OrderLine:
        numbers = ("line_no", "quantity", "reserved", "shipped")
        return OrderLine.model_validate({**raw, **{name: int(raw[name]) for name in numbers}})

    return Order(
        order_id=item["order_id"],
        placed_by=item["placed_by"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        purchase_order=item.get("purchase_order"),
        ship_to=Address.model_validate(item["ship_to"]) if item.get("ship_to") else None,
        lines=tuple(line(raw) for raw in item["lines"]),
        total=Decimal(item["total"]),
        status=OrderStatus(item["status"]),
        version=int(item["version"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )


def get(order_id: str) -> Order | None:
    item = table.get(*order_key(order_id))
    return from_item(item) if item else None


def new(order: Order) -> Put:
    return Put.new(to_item(order))


def replacing(order: Order, previous: Order) -> Put:
    """The write of the next version, refused if someone else wrote since ``previous``."""
    return Put.replacing(to_item(order), previous.version)


def shipment_record(order: Order, shipment: Shipment) -> Put:
    pk, _ = order_key(order.order_id)
    return Put.new(
        {
            "pk": pk,
            "sk": f"SHIPMENT#{shipment.shipment_id}",
            "entity": "Shipment",
            "order_id": order.order_id,
            "customer_id": order.customer_id,
            **shipment.to_wire(),
        }
    )


def list_for_customer(
    customer_id: str, *, since: str | None, until: str | None, limit: int, cursor: str | None
) -> Page:
    return table.query_page(
        f"CUSTOMER#{customer_id}",
        index="gsi1",
        sk_from=f"ORDER#{since}" if since else "ORDER#",
        sk_to=f"ORDER#{until}~" if until else "ORDER#~",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def list_by_status(
    status: OrderStatus, *, since: str | None, until: str | None, limit: int, cursor: str | None
) -> Page:
    return table.query_page(
        f"ORDERSTATUS#{status.value}",
        index="gsi2",
        sk_from=since,
        sk_to=f"{until}~" if until else None,
        limit=limit,
        cursor=cursor,
        descending=True,
    )
