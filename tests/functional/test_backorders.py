"""Backorders get stock when it arrives: oldest order first, found through markers, never twice."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from shared.store import outbox, stock
from tests.functional.conftest import World
from tests.functional.test_order_lifecycle import _call, _placed

SKU = "WIDGET-1"


def _leave_available(units: int) -> None:
    stock.adjust(SKU, units - stock.get_level(SKU).available, "count")


def _markers(world: World) -> dict[str, dict[str, Any]]:
    """order id -> its backorder marker for SKU."""
    return {
        item["order_id"]: item for item in world.table_items() if item["pk"] == f"BACKORDER#{SKU}"
    }


def _order(client, order_id: str) -> dict[str, Any]:
    return _call(client, "get", f"/orders/{order_id}")[1]


def _line(order: dict[str, Any]) -> tuple[int, int]:
    return order["lines"][0]["reserved"], order["lines"][0]["backordered"]


def _stock_event_message(detail_type: str) -> str:
    """The last stock event of SKU as EventBridge puts it on the consumer's queue."""
    item = [e for e in outbox.history(SKU) if e["detail_type"] == detail_type][-1]
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "otc.stock",
            "account": "123456789012",
            "time": "2026-11-23T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(item["detail"]),
        }
    )


def _deliver(client, body: str) -> Any:
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:otc-local-backorder-allocation",
        "awsRegion": "us-east-1",
    }
    return client.lambda_.invoke("allocate_backorders", {"Records": [record]}).payload


def test_arriving_stock_fills_a_backorder_and_removes_its_marker(world, client):
    # Given an order for 5 with 2 available: 3 backordered, and a marker for it
    _leave_available(2)
    order = _placed(client, world, lines=[{"sku": SKU, "quantity": 5}])
    assert _line(order) == (2, 3)
    assert set(_markers(world)) == {order["id"]}

    # When 10 units arrive and the events flow
    stock.adjust(SKU, 10, "delivery")
    world.pump.drain()

    # Then the order holds all 5, the marker is gone, and 7 stay available
    filled = _order(client, order["id"])
    assert _line(filled) == (5, 0)
    assert filled["version"] == order["version"] + 1
    assert _markers(world) == {}
    assert stock.get_level(SKU).available == 7
    last = _call(client, "get", f"/orders/{order['id']}/history")[1]["events"][-1]
    assert last["type"] == "BackorderAllocated"
    assert (last["data"]["sku"], last["data"]["allocated"]) == (SKU, 3)


def test_the_oldest_backorder_is_served_first(world, client):
    # Given two orders for 3 each, placed one after the other with nothing available
    _leave_available(0)
    older = _placed(client, world, lines=[{"sku": SKU, "quantity": 3}])
    time.sleep(0.01)  # markers sort by creation time (milliseconds)
    newer = _placed(client, world, lines=[{"sku": SKU, "quantity": 3}])
    assert _line(older) == _line(newer) == (0, 3)

    # When 4 units arrive
    stock.adjust(SKU, 4, "delivery")
    world.pump.drain()

    # Then the older order is filled and the newer gets what is left
    assert _line(_order(client, older["id"])) == (3, 0)
    assert _line(_order(client, newer["id"])) == (1, 2)
    assert set(_markers(world)) == {newer["id"]}
    assert stock.get_level(SKU).available == 0


def test_cancelling_a_backordered_order_removes_its_marker(world, client):
    # Given a backordered order
    _leave_available(0)
    order = _placed(client, world, lines=[{"sku": SKU, "quantity": 4}])
    assert set(_markers(world)) == {order["id"]}

    # When it is cancelled, and then stock arrives
    status, _ = _call(client, "post", f"/orders/{order['id']}/cancel", body={"reason": "no"})
    stock.adjust(SKU, 5, "delivery")
    world.pump.drain()

    # Then its marker went with the cancellation and the stock stays free
    assert status == 200
    assert _markers(world) == {}
    assert _line(_order(client, order["id"])) == (0, 4)
    assert stock.get_level(SKU).available == 5


def test_amendments_keep_the_markers_in_step_with_the_backorder(world, client):
    # Given an order for 5 with 2 available (3 backordered)
    _leave_available(2)
    order = _placed(client, world, lines=[{"sku": SKU, "quantity": 5}])

    # When it is amended down to what it holds, the marker goes
    status, smaller = _call(
        client,
        "patch",
        f"/orders/{order['id']}",
        body={"version": order["version"], "lines": [{"sku": SKU, "quantity": 2}]},
    )
    assert status == 200, smaller
    assert _line(smaller) == (2, 0)
    assert _markers(world) == {}

    # And when it is amended beyond what is available, the marker comes back
    status, larger = _call(
        client,
        "patch",
        f"/orders/{order['id']}",
        body={"version": smaller["version"], "lines": [{"sku": SKU, "quantity": 6}]},
    )
    assert status == 200, larger
    assert _line(larger) == (2, 4)
    assert set(_markers(world)) == {order["id"]}


def test_the_same_stock_event_delivered_again_changes_nothing_more(world, client):
    # Given a backordered order and a delivery of 10 units
    _leave_available(2)
    order = _placed(client, world, lines=[{"sku": SKU, "quantity": 5}])
    stock.adjust(SKU, 10, "delivery")
    message = _stock_event_message("StockAdjusted")

    # When that event reaches the consumer twice, and then the pump delivers it once more
    assert _deliver(client, message) == {"batchItemFailures": []}
    assert _deliver(client, message) == {"batchItemFailures": []}
    world.pump.drain()

    # Then the backorder was filled once: one allocation event, 7 units still available
    filled = _order(client, order["id"])
    assert _line(filled) == (5, 0)
    assert filled["version"] == order["version"] + 1
    events = _call(client, "get", f"/orders/{order['id']}/history")[1]["events"]
    assert [e["type"] for e in events].count("BackorderAllocated") == 1
    assert stock.get_level(SKU).available == 7
    assert stock.get_level(SKU).reserved == 5


def test_stock_events_leaving_nothing_available_touch_no_order(world, client):
    # Given a backordered order
    _leave_available(0)
    order = _placed(client, world, lines=[{"sku": SKU, "quantity": 2}])

    # When a stock event saying nothing is available arrives
    assert _deliver(client, _stock_event_message("StockAdjusted")) == {"batchItemFailures": []}

    # Then the order still waits
    assert _order(client, order["id"])["version"] == order["version"]
    assert set(_markers(world)) == {order["id"]}
