"""Requests racing for one order: one wins, every other answers 409 with the order's current
version, none answers 500, and stock and credit move exactly once."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from functions.orders import amend_order as amend_module
from functions.orders import cancel_order as cancel_module
from functions.orders.amend_order import amend_order
from functions.orders.cancel_order import cancel_order
from functions.orders.decide_credit import approve_order, reject_order
from functions.orders.ship_order import ship_order
from shared.domain.order import AmendmentRequest, ShipmentRequest
from shared.store import credit, orders, stock, table
from tests.functional.accounts import call
from tests.functional.conftest import ADMIN_KEY, World, order_body, post_order
from tests.functional.invoicing import exposure, placed
from tests.functional.races import conflicts, principal, race, reading_together, statuses

CUSTOMER = "cus_acme"


def _levels() -> dict[str, tuple[int, int]]:
    levels = stock.get_levels(["WIDGET-1", "GADGET-2"])
    return {sku: (level.available, level.reserved) for sku, level in levels.items()}


def _current(order_id: str) -> int:
    order = orders.get(order_id)
    assert order is not None
    return order.version


def _assert_conflicts_name(outcomes: list[Any], order_id: str) -> None:
    for body in conflicts(outcomes):
        assert body["status"] == 409 and body["title"] == "Conflict" and body["detail"]
        assert body["current_version"] == _current(order_id), body


def test_concurrent_cancels_of_a_customers_only_order_cancel_it_once(
    world: World, client, serializable_transactions
):
    # Given the customer's only order, confirmed: it holds stock and exposure
    before = (exposure(CUSTOMER).uninvoiced_orders, _levels())
    order = placed(client, world)
    admin = principal()

    # When four cancels of it arrive at once
    outcomes = race(*[lambda: cancel_order(order["id"], "duplicate", admin)] * 4)

    # Then one cancels it, the others answer 409 with the version it is at now
    assert statuses(outcomes) == [200, 409, 409, 409], outcomes
    _assert_conflicts_name(outcomes, order["id"])
    # and its credit and stock were released exactly once
    assert (exposure(CUSTOMER).uninvoiced_orders, _levels()) == before
    assert [o.body.status.value for o in outcomes if o.status == 200] == ["cancelled"]


def test_two_amendments_of_one_version_amend_it_once(
    world: World, client, serializable_transactions
):
    # Given a confirmed order at its version
    order = placed(client, world)
    admin = principal()

    def amend(quantity: int) -> Any:
        lines = [{"sku": "WIDGET-1", "quantity": quantity}]
        request = AmendmentRequest.model_validate({"version": order["version"], "lines": lines})
        return amend_order(order["id"], request, admin)

    # When two amendments of that version arrive at once
    outcomes = race(lambda: amend(2), lambda: amend(5))

    # Then one is applied, the other answers 409 with the version the first made
    assert statuses(outcomes) == [200, 409], outcomes
    _assert_conflicts_name(outcomes, order["id"])
    (won,) = [o.body for o in outcomes if o.status == 200]
    # and stock and exposure follow the amendment that won, once
    assert exposure(CUSTOMER).uninvoiced_orders == won.total
    assert _levels()["WIDGET-1"][1] == won.lines[0].reserved


def test_an_amendment_racing_a_cancel_leaves_one_of_them(
    world: World, client, serializable_transactions, monkeypatch
):
    # Given a confirmed order, read by both requests before either writes
    before = (exposure(CUSTOMER).uninvoiced_orders, _levels())
    order = placed(client, world)
    admin = principal()
    lines = [{"sku": "WIDGET-1", "quantity": 7}]
    request = AmendmentRequest.model_validate({"version": order["version"], "lines": lines})
    reading_together(monkeypatch, (amend_module, "get_order"), (cancel_module, "get_order"))

    # When an amendment and a cancel arrive at once
    outcomes = race(
        lambda: amend_order(order["id"], request, admin),
        lambda: cancel_order(order["id"], "changed my mind", admin),
    )

    # Then one wins and the other answers 409 with the current version
    assert statuses(outcomes) == [200, 409], outcomes
    _assert_conflicts_name(outcomes, order["id"])
    final = orders.get(order["id"])
    assert final is not None
    # and stock and exposure are those of the state that won
    if final.status.value == "cancelled":
        assert (exposure(CUSTOMER).uninvoiced_orders, _levels()) == before
    else:
        assert exposure(CUSTOMER).uninvoiced_orders == before[0] + final.total
        assert _levels()["WIDGET-1"][1] == before[1]["WIDGET-1"][1] + final.lines[0].reserved


def test_a_shipment_racing_a_cancel_leaves_one_of_them(
    world: World, client, serializable_transactions
):
    # Given a confirmed order
    before = (exposure(CUSTOMER).uninvoiced_orders, _levels())
    order = placed(client, world)
    admin = principal()
    shipment = ShipmentRequest.model_validate(
        {"carrier": "DHL", "tracking_number": "JD1", "lines": [{"line_no": 1, "quantity": 3}]}
    )

    # When a shipment and a cancel arrive at once
    outcomes = race(
        lambda: ship_order(order["id"], shipment, admin),
        lambda: cancel_order(order["id"], "too late?", admin),
    )

    # Then one wins and the other answers 409 with the current version
    assert statuses(outcomes) == [200, 409], outcomes
    _assert_conflicts_name(outcomes, order["id"])
    final = orders.get(order["id"])
    assert final is not None
    shipped = orders.shipments(order["id"])
    if final.status.value == "cancelled":
        assert shipped == [] and (exposure(CUSTOMER).uninvoiced_orders, _levels()) == before
    else:
        # the shipment's answer is the order after it
        (won,) = [o.body for o in outcomes if o.status == 200]
        assert won[0].version == final.version and won[0].lines[0].shipped == 3
        assert [s.shipment_id for s in shipped] == [won[1].shipment_id]
        assert _levels()["WIDGET-1"] == (before[1]["WIDGET-1"][0] - 3, before[1]["WIDGET-1"][1])


def test_an_approval_racing_a_rejection_leaves_one_decision(
    world: World, client, serializable_transactions
):
    # Given an order held by credit control (the limit is below its total)
    limit = credit.get_exposure(CUSTOMER)
    assert limit is not None
    table.transact([credit.change_limit(CUSTOMER, limit.credit_limit, Decimal("1.00"))])
    before = (exposure(CUSTOMER).uninvoiced_orders, _levels())
    order = placed_on_hold(client, world)
    admin = principal()

    # When the credit manager's approval and rejection arrive at once
    outcomes = race(
        lambda: approve_order(order["id"], admin),
        lambda: reject_order(order["id"], "risk", admin),
    )

    # Then one decision stands and the other answers 409 with the current version
    assert statuses(outcomes) == [200, 409], outcomes
    _assert_conflicts_name(outcomes, order["id"])
    final = orders.get(order["id"])
    assert final is not None
    if final.status.value == "rejected":
        assert (exposure(CUSTOMER).uninvoiced_orders, _levels()) == before
    else:
        assert final.status.value == "confirmed"
        assert exposure(CUSTOMER).uninvoiced_orders == before[0] + final.total


def placed_on_hold(client, world: World) -> dict[str, Any]:
    response = post_order(client, order_body(), key=ADMIN_KEY)
    assert response.status_code == 201, response.body
    world.pump.drain()
    order: dict[str, Any] = call(client, "GET", f"/orders/{json.loads(response.body)['id']}").body
    assert order["status"] == "on_hold", order
    return order


def test_the_losers_answer_is_problem_json_naming_the_current_version(world: World, client):
    # Given an order that was cancelled, and an amendment read before that
    order = placed(client, world)
    cancelled = call(client, "POST", f"/orders/{order['id']}/cancel", body={"reason": "dup"})
    assert cancelled.status == 200
    before = world.written()

    # When the cancel is sent again (another key) and the stale amendment arrives
    again = call(client, "POST", f"/orders/{order['id']}/cancel", body={"reason": "dup"})
    amendment = call(
        client,
        "PATCH",
        f"/orders/{order['id']}",
        body={"version": order["version"], "lines": [{"sku": "WIDGET-1", "quantity": 1}]},
    )

    # Then both answer 409 problem+json with the version the order is at, and write nothing
    for answer, kind in ((again, "invalid-order-state"), (amendment, "version-mismatch")):
        assert answer.status == 409, answer.body
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.body["type"].endswith("/" + kind)
        assert answer.body["current_version"] == cancelled.body["version"]
    assert world.written() == before
