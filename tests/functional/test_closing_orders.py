"""Closing the unshipped rest of a partly shipped order, over the API.

Before closing existed, a partly shipped order could be neither amended nor cancelled: its
unshipped rest held stock and credit exposure for ever, and a per-order customer was never
invoiced for what did ship.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from functions.orders import close_order as close_module
from functions.orders import ship_order as ship_module
from functions.orders.close_order import close_order
from functions.orders.ship_order import ship_order
from shared.domain.order import ShipmentRequest
from shared.store import orders, stock
from tests.functional.accounts import call
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import events
from tests.functional.invoicing import (
    amount,
    assert_ledger_balanced,
    documents,
    exposure,
    placed,
    ship,
)
from tests.functional.races import conflicts, principal, race, reading_together, statuses

CUSTOMER = "cus_acme"
OTHER_PARTNER_KEY = "otc_test_other_partner_key_0123456789"


def _emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def _widgets() -> tuple[int, int]:
    level = stock.get_levels(["WIDGET-1"])["WIDGET-1"]
    return level.available, level.reserved


def _invoiced_per_order(client: Any) -> None:
    customer = call(client, "GET", f"/customers/{CUSTOMER}").body
    answer = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": customer["version"], "invoicing": "per_order"},
    )
    assert answer.status == 200, answer.body


def _refused(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/" + kind), answer.body
    problem: dict[str, Any] = answer.body
    return problem


def _close(client: Any, order_id: str, reason: str = "customer no longer needs it", **kw: Any):
    return call(client, "POST", f"/orders/{order_id}/close", body={"reason": reason}, **kw)


def test_closing_the_rest_releases_stock_and_credit_and_invoices_what_shipped(
    world: World, client
) -> None:
    # Given a per-order customer's order of 3 widgets (59.97) and 1 gadget (0.13), 2 widgets
    # shipped: nothing is invoiced yet, the whole 60.10 is uninvoiced exposure
    _invoiced_per_order(client)
    before = _widgets()
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    assert documents(world) == []
    assert exposure(CUSTOMER).uninvoiced_orders == Decimal("60.10")

    # When the partner closes the unshipped rest
    answer = _close(client, order["id"], key=PARTNER_KEY)
    world.pump.drain()

    # Then the order is closed, complete at what shipped
    assert answer.status == 200, answer.body
    closed = answer.body
    assert closed["status"] == "closed"
    assert [
        (line["quantity"], line["shipped"], line["closed"], line["reserved"], line["backordered"])
        for line in closed["lines"]
    ] == [(3, 2, 1, 0, 0), (1, 0, 1, 0, 0)]
    assert call(client, "GET", f"/orders/{order['id']}").body == closed
    # and the rest's stock is back: only the 2 shipped widgets left the available stock
    assert _widgets() == (before[0] - 2, before[1])
    # and one invoice bills the 2 widgets shipped: 39.98 net, 47.58 with 19 % VAT
    [invoice] = documents(world)
    assert [(line["order_line_no"], line["quantity"]) for line in invoice["lines"]] == [(1, "2")]
    assert invoice["net_total"]["amount"] == "39.98"
    assert invoice["total"]["amount"] == "47.58"
    # and the exposure holds the invoice, nothing of the closed rest (20.12)
    figures = exposure(CUSTOMER)
    assert figures.uninvoiced_orders == 0
    assert figures.open_receivables == Decimal("47.58")
    assert figures.headroom == figures.credit_limit - Decimal("47.58")
    assert_ledger_balanced(CUSTOMER)
    # and the event says what was given up, and who closed it why
    [event] = events(world, "OrderClosed")
    assert event["released"] == {"amount": "20.12", "currency": "EUR"}
    assert event["closed_by"] == "prt_demo"
    assert event["reason"] == "customer no longer needs it"
    history = call(client, "GET", f"/orders/{order['id']}/history").body["events"]
    assert history[-1]["type"] == "OrderClosed"
    # and the customer, told the rest would follow, is told once what will not ship
    [message] = [m for m in _emails() if "closed" in getattr(m, "subject", "")]
    assert message.subject == "Order PO-4711 closed: the rest will not ship"
    assert "<td>Widget (WIDGET-1)</td><td>1</td>" in message.body
    assert "<td>Gadget (GADGET-2)</td><td>1</td>" in message.body


def test_a_per_shipment_customer_keeps_its_shipment_invoices_and_gets_no_more(
    world: World, client
) -> None:
    # Given an order whose first shipment (2 widgets) was invoiced
    before = _widgets()
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    [first] = documents(world)
    assert exposure(CUSTOMER).uninvoiced_orders == Decimal("20.12")

    # When the rest is closed
    assert _close(client, order["id"]).status == 200
    world.pump.drain()

    # Then no invoice is added, the rest's exposure and stock are released
    assert documents(world) == [first]
    figures = exposure(CUSTOMER)
    assert figures.uninvoiced_orders == 0
    assert figures.open_receivables == amount(first["total"])
    assert _widgets() == (before[0] - 2, before[1])
    assert_ledger_balanced(CUSTOMER)


def test_a_backordered_rest_stops_waiting_for_stock(world: World, client) -> None:
    # Given an order of 8 widgets with 3 in stock: 3 shipped, 5 backordered
    stock.adjust("WIDGET-1", 3 - stock.get_level("WIDGET-1").available, "count")
    order = placed(client, world, lines=[{"sku": "WIDGET-1", "quantity": 8}])
    assert order["lines"][0]["backordered"] == 5
    ship(client, world, order["id"], [(1, 3)])
    markers = [i for i in world.table_items() if i["pk"] == "BACKORDER#WIDGET-1"]
    assert len(markers) == 1

    # When the rest is closed
    closed = _close(client, order["id"]).body

    # Then nothing waits for stock any more, and stock arriving later stays available
    assert closed["lines"][0]["closed"] == 5 and closed["lines"][0]["backordered"] == 0
    assert [i for i in world.table_items() if i["pk"] == "BACKORDER#WIDGET-1"] == []
    assert exposure(CUSTOMER).uninvoiced_orders == 0
    stock.adjust("WIDGET-1", 10, "receipt")
    world.pump.drain()
    assert _widgets() == (10, 0)


def test_only_a_partly_shipped_order_can_be_closed(world: World, client) -> None:
    # Given a confirmed order, nothing shipped
    order = placed(client, world)
    # Then closing is refused: cancel it instead
    problem = _refused(_close(client, order["id"]), 409, "invalid-order-state")
    assert "cancel it instead" in problem["detail"]

    # Given it shipped in full
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    # Then there is no rest to close
    _refused(_close(client, order["id"]), 409, "invalid-order-state")


def test_a_closed_order_neither_ships_nor_closes_again(world: World, client) -> None:
    # Given a closed order
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 1)])
    assert _close(client, order["id"]).status == 200
    world.pump.drain()
    snapshot = world.table_items()

    # Then a second close, a shipment, an amendment and a cancel are all refused, writing nothing
    assert _close(client, order["id"]).status == 409
    body = {"carrier": "DHL", "tracking_number": "JD1", "lines": [{"line_no": 1, "quantity": 1}]}
    assert call(client, "POST", f"/orders/{order['id']}/shipments", body=body).status == 409
    assert call(client, "POST", f"/orders/{order['id']}/cancel", body={}).status == 409
    version = call(client, "GET", f"/orders/{order['id']}").body["version"]
    patch = {"version": version, "purchase_order": "PO-2"}
    assert call(client, "PATCH", f"/orders/{order['id']}", body=patch).status == 409
    assert len(world.table_items()) == len(snapshot)


def test_a_retried_close_answers_the_first_answer_and_closes_once(world: World, client) -> None:
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    first = _close(client, order["id"], idempotency_key="close-1")
    again = _close(client, order["id"], idempotency_key="close-1")
    assert first.status == again.status == 200
    assert first.body == again.body
    assert len(events(world, "OrderClosed")) == 1
    # the same key with another body is refused
    other = _close(client, order["id"], reason="something else", idempotency_key="close-1")
    assert other.status == 422


def test_a_partner_cannot_close_an_order_of_a_customer_it_is_not_bound_to(
    world: World, client
) -> None:
    from infra.local.seed import demo_principal
    from shared.http.auth import Role

    demo_principal("prt_other", "partner", "Other", Role.PARTNER, OTHER_PARTNER_KEY)
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    _refused(_close(client, order["id"], key=OTHER_PARTNER_KEY), 404, "not-found")
    assert call(client, "GET", f"/orders/{order['id']}").body["status"] == "partially_shipped"


def test_a_close_racing_a_shipment_leaves_one_of_them(
    world: World, client, serializable_transactions, monkeypatch
) -> None:
    # Given a partly shipped order, read by both requests before either writes
    before = _widgets()
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 1)])
    admin = principal()
    shipment = ShipmentRequest.model_validate(
        {"carrier": "DHL", "tracking_number": "JD9", "lines": [{"line_no": 1, "quantity": 2}]}
    )

    reading_together(monkeypatch, (ship_module, "get_order"), (close_module, "get_order"))

    # When the rest ships while someone closes it
    outcomes = race(
        lambda: ship_order(order["id"], shipment, admin),
        lambda: close_order(order["id"], "racing", admin),
    )

    # Then one wins, the other answers 409, and stock and credit moved once
    assert statuses(outcomes) == [200, 409], outcomes
    assert conflicts(outcomes)
    final = orders.get(order["id"])
    assert final is not None
    world.pump.drain()
    if final.status.value == "closed":
        assert [line.closed for line in final.lines] == [2, 1]
        assert _widgets() == (before[0] - 1, before[1])
    else:
        assert final.status.value == "partially_shipped"  # the gadget still waits
        assert _widgets() == (before[0] - 3, before[1])
    assert exposure(CUSTOMER).uninvoiced_orders == (
        0 if final.status.value == "closed" else Decimal("0.13")
    )
    assert json.dumps(events(world, "OrderClosed"))  # readable events, whoever won
