"""The order side end to end: pricing, credit, stock, amendments, cancellation, shipments."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest

from infra.local.seed import demo_principal
from shared.http.auth import Role
from shared.store import credit, stock
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, order_body, post_order

CREDIT_KEY = "otc_test_credit_manager_key_0123456789"
AUDITOR_KEY = "otc_test_auditor_key_0123456789abcdef"


@pytest.fixture
def staff(world: World) -> None:
    demo_principal("stf_credit", "staff", "Credit manager", Role.CREDIT_MANAGER, CREDIT_KEY)
    demo_principal("stf_audit", "staff", "Auditor", Role.AUDITOR, AUDITOR_KEY)


def _call(client, method: str, path: str, key: str = PARTNER_KEY, body: Any = None) -> Any:
    headers = {
        "X-Api-Key": key,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    raw = json.dumps(body) if body is not None else None
    response = getattr(client.http, method)(path, headers=headers, body=raw)
    return response.status_code, json.loads(response.body) if response.body else None


def _placed(client, world: World, **overrides: Any) -> dict[str, Any]:
    response = post_order(client, order_body(**overrides))
    assert response.status_code == 201, response.body
    world.pump.drain()
    return _call(client, "get", f"/orders/{json.loads(response.body)['id']}")[1]


def _set_limit(customer_id: str, limit: str) -> None:
    from shared.store import table

    exposure = credit.get_exposure(customer_id)
    assert exposure is not None
    table.transact([credit.change_limit(customer_id, exposure.credit_limit, Decimal(limit))])


def _uninvoiced(customer_id: str) -> Decimal:
    exposure = credit.get_exposure(customer_id)
    assert exposure is not None
    return exposure.uninvoiced_orders


# --- pricing ----------------------------------------------------------------------------------


def test_the_server_prices_the_order_from_the_catalog(world, client):
    # Given lines without prices
    body = order_body(
        lines=[{"sku": "WIDGET-1", "quantity": 2}, {"sku": "GADGET-2", "quantity": 3}]
    )
    # When the partner places it
    response = post_order(client, body)
    # Then the catalog's prices apply, rounded half-up per line
    order = json.loads(response.body)
    assert response.status_code == 201
    assert [line["unit_price"] for line in order["lines"]] == ["19.99", "0.125"]
    assert [line["line_total"] for line in order["lines"]] == ["39.98", "0.38"]
    assert order["total"] == {"amount": "40.36", "currency": "EUR"}


@pytest.mark.parametrize(
    ("line", "pointer"),
    [
        ({"sku": "NO-SUCH-SKU", "quantity": 1}, "#/lines/0/sku"),
        ({"sku": "WIDGET-1", "quantity": 1, "unit_price": "18.00"}, "#/lines/0/unit_price"),
    ],
    ids=["unknown-sku", "price-mismatch"],
)
def test_unpriceable_lines_are_refused_with_a_pointer_and_nothing_written(
    world, client, line, pointer
):
    response = post_order(client, order_body(lines=[line]))
    problem = json.loads(response.body)
    assert response.status_code == 422
    assert problem["type"].endswith("/pricing-error")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert not [item for item in world.table_items() if item.get("entity") == "Order"]


def test_an_order_in_another_currency_than_the_customers_is_refused(world, client):
    response = post_order(client, order_body(currency="GBP"))
    assert response.status_code == 422
    assert json.loads(response.body)["type"].endswith("/currency-mismatch")


# --- confirmation: stock and credit -----------------------------------------------------------


def test_confirmation_reserves_stock_and_adds_exposure(world, client):
    before = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    order = _placed(client, world)
    after = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    assert order["status"] == "confirmed"
    assert [line["reserved"] for line in order["lines"]] == [3, 1]
    assert (after.available, after.reserved) == (before.available - 3, before.reserved + 3)
    exposure = credit.get_exposure("cus_acme")
    assert exposure is not None and exposure.uninvoiced_orders == Decimal("60.10")


def test_short_stock_backorders_the_rest_of_the_line(world, client):
    stock.adjust("WIDGET-1", -(stock.get_levels(["WIDGET-1"])["WIDGET-1"].available - 2), "count")
    order = _placed(client, world, lines=[{"sku": "WIDGET-1", "quantity": 5}])
    assert order["status"] == "confirmed"
    assert order["lines"][0]["reserved"] == 2 and order["lines"][0]["backordered"] == 3
    assert stock.get_levels(["WIDGET-1"])["WIDGET-1"].available == 0


def test_untracked_skus_never_backorder(world, client):
    order = _placed(client, world, lines=[{"sku": "SERVICE-HOUR", "quantity": 40}])
    assert order["lines"][0]["backordered"] == 0 and order["lines"][0]["reserved"] == 40


def test_twenty_concurrent_orders_for_the_last_five_units_reserve_exactly_five(
    world, client, serializable_transactions
):
    from functions.orders.confirm_order import confirm_received_order

    # Given 5 units left and 20 received orders of one unit each
    stock.adjust("GADGET-2", -(stock.get_levels(["GADGET-2"])["GADGET-2"].available - 5), "count")
    ids = [
        json.loads(post_order(client, order_body(lines=[{"sku": "GADGET-2", "quantity": 1}])).body)[
            "id"
        ]
        for _ in range(20)
    ]
    # When 20 workers confirm them at the same moment
    start = threading.Barrier(20)
    errors: list[BaseException] = []

    def confirm(order_id: str) -> None:
        start.wait()
        try:
            confirm_received_order(order_id, f"evt_{order_id}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=confirm, args=(order_id,)) for order_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly five units are reserved, the other fifteen orders are backordered
    assert errors == []
    lines = [_call(client, "get", f"/orders/{order_id}")[1]["lines"][0] for order_id in ids]
    assert sum(line["reserved"] for line in lines) == 5
    assert sum(line["backordered"] for line in lines) == 15
    level = stock.get_levels(["GADGET-2"])["GADGET-2"]
    assert (level.available, level.reserved) == (0, 5)


def test_an_order_over_the_credit_limit_is_held_and_approval_confirms_it(world, client, staff):
    # Given a customer with 100.00 of headroom
    _set_limit("cus_acme", "100.00")
    # When an order of 199.90 arrives
    order = _placed(client, world, lines=[{"sku": "WIDGET-1", "quantity": 10}])
    # Then it is held, holding no stock and no exposure
    assert order["status"] == "on_hold"
    assert all(line["reserved"] == 0 for line in order["lines"])
    assert _uninvoiced("cus_acme") == 0
    # and a partner or an AR clerk may not approve it
    assert _call(client, "post", f"/orders/{order['id']}/approve")[0] == 403
    # When the credit manager approves it
    status, approved = _call(client, "post", f"/orders/{order['id']}/approve", CREDIT_KEY)
    # Then it is confirmed with its stock, and the decision is in its history
    assert status == 200 and approved["status"] == "confirmed"
    assert approved["lines"][0]["reserved"] == 10
    assert _uninvoiced("cus_acme") == Decimal("199.90")
    history = _call(client, "get", f"/orders/{order['id']}/history")[1]["events"]
    assert [event["type"] for event in history] == ["OrderReceived", "OrderHeld", "OrderConfirmed"]
    assert history[-1]["data"]["approved_by"] == "stf_credit"


def test_a_credit_manager_may_reject_a_held_order(world, client, staff):
    _set_limit("cus_acme", "1.00")
    order = _placed(client, world)
    status, rejected = _call(
        client, "post", f"/orders/{order['id']}/reject", CREDIT_KEY, {"reason": "risk"}
    )
    assert status == 200 and rejected["status"] == "rejected"
    history = _call(client, "get", f"/orders/{order['id']}/history")[1]["events"]
    assert history[-1]["type"] == "OrderRejected"
    assert (
        history[-1]["data"]["reason"] == "risk"
        and history[-1]["data"]["rejected_by"] == "stf_credit"
    )
    assert _call(client, "post", f"/orders/{order['id']}/approve", CREDIT_KEY)[0] == 409


def test_a_customer_on_credit_hold_gets_every_order_held(world, client):
    from shared.store import table

    item = table.get("CUSTOMER#cus_acme", "CUSTOMER")
    assert item is not None
    table.transact([table.Put(item={**item, "status": "credit_hold"})])
    assert _placed(client, world)["status"] == "on_hold"


def test_an_auditor_cannot_write(world, client, staff):
    response = post_order(client, order_body(), key=AUDITOR_KEY)
    assert response.status_code == 403
    assert json.loads(response.body)["type"].endswith("/forbidden")
    assert not [item for item in world.table_items() if item.get("entity") == "Order"]


# --- amendments and cancellation ----------------------------------------------------------------


def test_an_amendment_is_a_new_version_with_stock_and_exposure_following(world, client):
    order = _placed(client, world)
    before = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    amendment = {
        "version": order["version"],
        "lines": [{"sku": "WIDGET-1", "quantity": 5}],
        "ship_to": {"line1": "Dock 4", "city": "Hamburg", "postal_code": "20457", "country": "DE"},
    }
    status, amended = _call(client, "patch", f"/orders/{order['id']}", body=amendment)
    assert status == 200, amended
    assert amended["version"] == order["version"] + 1
    assert amended["total"]["amount"] == "99.95"
    assert amended["ship_to"]["city"] == "Hamburg"
    after = stock.get_levels(["WIDGET-1", "GADGET-2"])
    assert after["WIDGET-1"].available == before.available - 2  # 3 held -> 5 held
    assert _uninvoiced("cus_acme") == Decimal("99.95")
    change = _call(client, "get", f"/orders/{order['id']}/history")[1]["events"][-1]
    assert change["type"] == "OrderAmended"
    assert change["data"]["changes"]["total"] == {
        "before": {"amount": "60.10", "currency": "EUR"},
        "after": {"amount": "99.95", "currency": "EUR"},
    }
    # a second amendment against the old version is refused and changes nothing
    stale = _call(
        client,
        "patch",
        f"/orders/{order['id']}",
        body={**amendment, "lines": [{"sku": "WIDGET-1", "quantity": 1}]},
    )
    assert stale[0] == 409
    assert _call(client, "get", f"/orders/{order['id']}")[1]["total"]["amount"] == "99.95"


def test_an_amendment_beyond_the_credit_limit_holds_the_order_and_releases_its_stock(world, client):
    _set_limit("cus_acme", "100.00")
    order = _placed(client, world)
    status, amended = _call(
        client,
        "patch",
        f"/orders/{order['id']}",
        body={"version": order["version"], "lines": [{"sku": "WIDGET-1", "quantity": 50}]},
    )
    assert status == 200 and amended["status"] == "on_hold"
    assert stock.get_levels(["WIDGET-1"])["WIDGET-1"].reserved == 0
    assert _uninvoiced("cus_acme") == 0


def test_cancelling_releases_stock_and_exposure(world, client):
    before = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    order = _placed(client, world)
    status, cancelled = _call(
        client, "post", f"/orders/{order['id']}/cancel", body={"reason": "duplicate"}
    )
    assert status == 200 and cancelled["status"] == "cancelled"
    assert stock.get_levels(["WIDGET-1"])["WIDGET-1"].available == before.available
    assert _uninvoiced("cus_acme") == 0


# --- shipments ----------------------------------------------------------------------------------


def test_partial_then_full_shipment(world, client):
    order = _placed(client, world)
    path = f"/orders/{order['id']}/shipments"
    first = {
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "lines": [{"line_no": 1, "quantity": 2}],
    }
    status, shipped = _call(client, "post", path, body=first)
    assert status == 201, shipped
    assert shipped["order"]["status"] == "partially_shipped"
    assert shipped["shipment"]["lines"] == [{"line_no": 1, "sku": "WIDGET-1", "quantity": 2}]
    level = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    # an over-shipment is refused and changes nothing
    over = {"carrier": "DHL", "tracking_number": "JD0002", "lines": [{"line_no": 1, "quantity": 2}]}
    status, problem = _call(client, "post", path, body=over)
    assert status == 422 and problem["errors"][0]["pointer"] == "#/lines/0/quantity"
    assert stock.get_levels(["WIDGET-1"])["WIDGET-1"] == level
    # the rest ships, the order is shipped, and it can no longer be amended or cancelled
    rest = {
        "carrier": "DHL",
        "tracking_number": "JD0003",
        "lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}],
    }
    status, shipped = _call(client, "post", path, body=rest)
    assert status == 201 and shipped["order"]["status"] == "shipped"
    assert stock.get_levels(["WIDGET-1"])["WIDGET-1"].reserved == level.reserved - 1
    assert _call(client, "post", f"/orders/{order['id']}/cancel")[0] == 409
    events = [
        i
        for i in world.table_items()
        if i.get("entity") == "Event" and i["detail_type"] == "OrderShipped"
    ]
    assert len(events) == 2
    assert {json.loads(e["detail"])["data"]["shipment"]["tracking_number"] for e in events} == {
        "JD0001",
        "JD0003",
    }


def test_a_retried_shipment_post_ships_once(world, client):
    order = _placed(client, world)
    headers = {
        "X-Api-Key": PARTNER_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": "ship-1",
    }
    body = json.dumps(
        {"carrier": "UPS", "tracking_number": "1Z", "lines": [{"line_no": 1, "quantity": 1}]}
    )
    first = client.http.post(f"/orders/{order['id']}/shipments", headers=headers, body=body)
    again = client.http.post(f"/orders/{order['id']}/shipments", headers=headers, body=body)
    assert first.status_code == again.status_code == 201
    assert json.loads(first.body) == json.loads(again.body)
    assert _call(client, "get", f"/orders/{order['id']}")[1]["lines"][0]["shipped"] == 1


# --- listing ------------------------------------------------------------------------------------


def test_orders_list_by_customer_a_page_at_a_time(world, client):
    ids = [json.loads(post_order(client, order_body()).body)["id"] for _ in range(3)]
    status, page = _call(client, "get", "/orders?customer_id=cus_acme&limit=2")
    assert status == 200 and len(page["orders"]) == 2 and page["next_cursor"]
    status, rest = _call(
        client, "get", f"/orders?customer_id=cus_acme&limit=2&cursor={page['next_cursor']}"
    )
    listed = [o["id"] for o in page["orders"] + rest["orders"]]
    created = [o["created_at"] for o in page["orders"] + rest["orders"]]
    assert sorted(listed) == sorted(ids) and created == sorted(created, reverse=True)
    assert _call(client, "get", "/orders?customer_id=cus_acme&status=confirmed")[1]["orders"] == []
    world.pump.drain()
    assert len(_call(client, "get", "/orders?status=confirmed", ADMIN_KEY)[1]["orders"]) == 3


@pytest.mark.parametrize(
    "query",
    [
        "/orders",
        "/orders?limit=0",
        "/orders?status=lost&customer_id=cus_acme",
        "/orders?customer_id=cus_acme&cursor=%%%",
    ],
)
def test_bad_listing_queries_answer_400(world, client, query):
    status, problem = _call(client, "get", query)
    assert status == 400 and problem["type"].endswith("/invalid-query")


def test_a_partner_lists_nothing_of_a_customer_it_is_not_bound_to(world, client):
    post_order(client, order_body(), key=ADMIN_KEY)
    status, page = _call(client, "get", "/orders?customer_id=cus_other")
    assert status == 200 and page["orders"] == []


@pytest.mark.parametrize(
    "placed",
    [
        {"customer_id": "cus_acme", "lines": [{"sku": "WIDGET-1", "quantity": 1}]},
        {"customer_id": 7, "lines": "not lines"},
        None,
    ],
    ids=["event-names-other-skus", "unusable-event-data", "no-event-data"],
)
def test_confirming_reads_the_order_as_stored_whatever_its_event_said(
    world, client, placed: dict[str, Any] | None
):
    from functions.orders.confirm_order import confirm_received_order

    # Given a received order of 2 GADGET-2 (not confirmed yet), and an event that names another
    # SKU (an amendment since), data that is no order, or nothing
    before = stock.get_levels(["GADGET-2", "WIDGET-1"])
    order_id = json.loads(
        post_order(client, order_body(lines=[{"sku": "GADGET-2", "quantity": 2}])).body
    )["id"]

    # When the worker confirms it with that event data
    assert confirm_received_order(order_id, f"evt_{order_id}", placed) is True

    # Then it reserved the stored order's SKU, and nothing of the one the event named
    order = _call(client, "get", f"/orders/{order_id}")[1]
    assert order["status"] == "confirmed" and order["lines"][0]["reserved"] == 2
    after = stock.get_levels(["GADGET-2", "WIDGET-1"])
    assert after["GADGET-2"].reserved == before["GADGET-2"].reserved + 2
    assert after["WIDGET-1"] == before["WIDGET-1"]
