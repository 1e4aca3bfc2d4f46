"""Orders in the single table: item mapping, reads, listings, and the shipment records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared import clock
from shared.domain.order import Order, OrderLine, OrderStatus, Shipment, ShipTo
from shared.domain.text import STORED
from shared.store import readable, table
from shared.store.table import Delete, Item, Page, Put, Write


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


@readable.reader
def from_item(item: Item) -> Order:
    def line(raw: dict[str, Any]) -> OrderLine:
        numbers = ("line_no", "quantity", "reserved", "shipped")
        counts = {name: int(raw[name]) for name in numbers}
        return OrderLine.model_validate({**raw, **counts, "closed": int(raw.get("closed", 0))})

    return Order(
        order_id=item["order_id"],
        placed_by=item["placed_by"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        purchase_order=item.get("purchase_order"),
        ship_to=ShipTo.model_validate(item["ship_to"], context=STORED)
        if item.get("ship_to")
        else None,
        lines=tuple(line(raw) for raw in item["lines"]),
        total=Decimal(item["total"]),
        status=OrderStatus(item["status"]),
        version=int(item["version"]),
        created_at=clock.parse(item["created_at"]),
        updated_at=clock.parse(item["updated_at"]),
    )


def _number(value: Any) -> int:
    """An item's count for sorting (0 when it is not one: the item reads as unreadable later)."""
    return int(value) if isinstance(value, int | Decimal) and value == int(value) else 0


@readable.reader
def shipment_from_item(item: Item) -> Shipment:
    return Shipment.model_validate(item)


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
            "order_version": order.version,  # the order's version the shipment made
            **shipment.to_wire(),
        }
    )


def shipment(order_id: str, shipment_id: str) -> Shipment | None:
    item = table.get(order_key(order_id)[0], f"SHIPMENT#{shipment_id}")
    return shipment_from_item(item) if item else None


# --- backorder markers: BACKORDER#<sku> / <created>#<order id>, oldest first ------------------


def backorder_key(sku: str, order: Order) -> tuple[str, str]:
    return f"BACKORDER#{sku}", f"{clock.iso(order.created_at)}#{order.order_id}"


def backordered_skus(order: Order) -> set[str]:
    """Tracked SKUs this order waits for; only an order that holds stock waits (a held or
    cancelled order holds nothing and waits for nothing)."""
    if not order.holds_stock:
        return set()
    return {line.sku for line in order.lines if line.tracked and line.backordered > 0}


def backorder_markers(before: Order, after: Order) -> list[Write]:
    """The marker writes that keep one marker per (SKU, order) while the order waits for it."""
    waited, waits = backordered_skus(before), backordered_skus(after)
    puts: list[Write] = [
        Put(
            item={
                "pk": (key := backorder_key(sku, after))[0],
                "sk": key[1],
                "entity": "Backorder",
                "sku": sku,
                "order_id": after.order_id,
                "customer_id": after.customer_id,
            }
        )
        for sku in sorted(waits - waited)
    ]
    deletes: list[Write] = [Delete(backorder_key(sku, before)) for sku in sorted(waited - waits)]
    return puts + deletes


def backorders(sku: str, *, limit: int, cursor: str | None) -> Page:
    """One page of the orders waiting for ``sku``, oldest first."""
    return table.query_page(f"BACKORDER#{sku}", limit=limit, cursor=cursor)


def list_for_customer(
    customer_id: str, *, since: str | None, until: str | None, limit: int, cursor: str | None
) -> Page:
    return table.customer_page(
        customer_id, "ORDER", since=since, until=until, limit=limit, cursor=cursor
    )


def list_by_status(
    status: OrderStatus, *, since: str | None, until: str | None, limit: int, cursor: str | None
) -> Page:
    """Orders in ``status`` by creation date, newest first."""
    partition = f"ORDERSTATUS#{status.value}"
    return table.status_page(
        partition, since=since, until=until, limit=limit, cursor=cursor, descending=True
    )


def shipments(order_id: str) -> list[Shipment]:
    """Every shipment of the order, in the order they were recorded (by time, then by the
    order's version each made: ids are not time-ordered, a retried request names its shipment)."""
    pk, _ = order_key(order_id)
    found: list[Item] = []
    cursor: str | None = None
    while True:
        page = table.query_page(pk, sk_from="SHIPMENT#", sk_to="SHIPMENT#~", cursor=cursor)
        found += page.items
        if not (cursor := page.cursor):
            break
    found.sort(
        key=lambda item: (str(item.get("shipped_at")), str(item.get("order_version", 0)).zfill(20))
    )
    return [shipment_from_item(item) for item in found]
