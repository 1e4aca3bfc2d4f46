"""Order events as the order side publishes them (the event contract), for consumer tests.

``detail`` is ``{metadata: {event_id, aggregate_id, occurred_at}, data}``; ``data`` is the order's
wire form, plus ``reason`` on OrderHeld / OrderRejected / OrderCancelled and ``shipment`` on
OrderShipped. Pure: no AWS, usable from unit tests too.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared import ids

ACCOUNT = "123456789012"
OCCURRED_AT = "2026-11-23T10:15:00.000Z"

STATUS = {
    "OrderReceived": "received",
    "OrderConfirmed": "confirmed",
    "OrderHeld": "on_hold",
    "OrderRejected": "rejected",
    "OrderAmended": "confirmed",
    "OrderCancelled": "cancelled",
    "OrderShipped": "partially_shipped",
    "OrderClosed": "closed",
}


def order_data(
    *,
    order_id: str | None = None,
    customer_id: str = "cus_acme",
    placed_by: str = "prt_demo",
    purchase_order: str | None = "PO-4711",
    status: str = "confirmed",
    shipped: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """The wire form of a two-line EUR order (3 widgets, 1 gadget)."""
    return {
        "id": order_id or ids.new_id("ord"),
        "customer_id": customer_id,
        "placed_by": placed_by,
        "purchase_order": purchase_order,
        "currency": "EUR",
        "status": status,
        "ship_to": {
            "name": "ACME Retail GmbH - Warehouse",
            "line1": "Hafenstrasse 1",
            "city": "Hamburg",
            "postal_code": "20457",
            "country": "DE",
        },
        "lines": [
            {
                "line_no": 1,
                "sku": "WIDGET-1",
                "name": "Widget, blue",
                "unit": "EA",
                "tax_category": "standard",
                "quantity": 3,
                "unit_price": "19.99",
                "line_total": "59.97",
                "reserved": 3 - shipped[0],
                "shipped": shipped[0],
                "backordered": 0,
            },
            {
                "line_no": 2,
                "sku": "GADGET-2",
                "name": "Gadget <pro>",
                "unit": "EA",
                "tax_category": "standard",
                "quantity": 1,
                "unit_price": "0.125",
                "line_total": "0.13",
                "reserved": 1 - shipped[1],
                "shipped": shipped[1],
                "backordered": 0,
            },
        ],
        "total": {"amount": "60.10", "currency": "EUR"},
        "version": 3,
        "created_at": "2026-11-23T09:30:12.345Z",
        "updated_at": OCCURRED_AT,
    }


def shipment(
    lines: list[tuple[int, str, int]] | None = None,
    *,
    carrier: str = "DHL",
    tracking_number: str = "JJD0099887766",
) -> dict[str, Any]:
    return {
        "shipment_id": ids.new_id("shp"),
        "carrier": carrier,
        "tracking_number": tracking_number,
        "shipped_at": OCCURRED_AT,
        "lines": [
            {"line_no": line_no, "sku": sku, "quantity": quantity}
            for line_no, sku, quantity in (lines or [(1, "WIDGET-1", 2)])
        ],
    }


def detail(
    detail_type: str,
    *,
    event_id: str | None = None,
    reason: str | None = None,
    ship: dict[str, Any] | None = None,
    **order: Any,
) -> dict[str, Any]:
    """The bus ``detail`` of an order event."""
    if detail_type == "OrderShipped" and ship is None:
        ship = shipment()
    shipped = (0, 0)
    if ship is not None:
        by_line = {line["line_no"]: line["quantity"] for line in ship["lines"]}
        shipped = (by_line.get(1, 0), by_line.get(2, 0))
    data = order_data(status=STATUS[detail_type], shipped=shipped, **order)
    if detail_type in ("OrderHeld", "OrderRejected", "OrderCancelled"):
        data["reason"] = reason or "credit limit exceeded by 1,250.00 EUR"
    if ship is not None:
        data["shipment"] = ship
    return {
        "metadata": {
            "event_id": event_id or ids.new_id("evt"),
            "aggregate_id": data["id"],
            "occurred_at": OCCURRED_AT,
        },
        "data": data,
    }


def envelope(detail_type: str, event_detail: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge envelope a consumer finds in its SQS message."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "otc.orders",
        "account": ACCOUNT,
        "time": "2026-11-23T10:15:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": event_detail,
    }


def sqs_batch(bodies: list[str], queue: str = "otc-local-partner-webhooks") -> dict[str, Any]:
    """An SQS batch as Lambda delivers it: every record has its own message id."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{uuid.uuid4()}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def put_on_bus(world: Any, detail_type: str, event_detail: dict[str, Any]) -> None:
    """Put an order event on the stack's bus, as the outbox publisher does."""
    answer = world.session.client("events").put_events(
        Entries=[
            {
                "Source": "otc.orders",
                "DetailType": detail_type,
                "Detail": json.dumps(event_detail),
                "EventBusName": world.outputs["EventBusName"],
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
