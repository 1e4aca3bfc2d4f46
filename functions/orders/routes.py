"""HTTP routes of orders: place, read, amend, decide, close and ship them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/orders", methods=["POST"], requires=Action.PLACE_ORDERS)
def post_order(principal: Principal) -> Response:
    from functions.orders.place_order import place_order
    from shared.domain.order import Order, OrderRequest

    order_request = routes.json_body(OrderRequest)

    def answer(order: Order) -> Answer:
        location = f"/orders/{order.order_id}"
        return {"status": 201, "body": order.to_wire(), "headers": {"Location": location}}

    def place(save_answer: Callable[[Answer], Any]) -> Answer:
        # counted as OrdersReceived on commit; the answer is saved in the order's transaction
        return answer(place_order(order_request, principal, lambda o: save_answer(answer(o))))

    return routes.once_in_commit("orders.place", principal, order_request, place)


@routes.route("/orders", methods=["GET"], requires=Action.READ)
def list_orders(principal: Principal) -> Response:
    from functions.orders.list_orders import OrderQuery, list_orders

    found = list_orders(routes.query(OrderQuery), principal)
    orders = [o.to_wire() for o in found.orders]
    return json_response(
        {"orders": orders, "next_cursor": found.next_cursor, "skipped": found.skipped}
    )


@routes.route("/orders/{order_id}", methods=["GET"], requires=Action.READ)
def get_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.get_order import get_order

    return json_response(get_order(order_id, principal).to_wire())


@routes.route("/orders/{order_id}/history", methods=["GET"], requires=Action.READ)
def get_order_history(order_id: str, principal: Principal) -> Response:
    from functions.orders.order_history import order_history

    return json_response({"events": order_history(order_id, principal)})


@routes.route("/orders/{order_id}", methods=["PATCH"], requires=Action.PLACE_ORDERS)
def patch_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.amend_order import amend_order
    from shared.domain.order import AmendmentRequest

    amended = amend_order(order_id, routes.json_body(AmendmentRequest), principal)
    return json_response(amended.to_wire())


@routes.route("/orders/{order_id}/cancel", methods=["POST"], requires=Action.PLACE_ORDERS)
def cancel_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.cancel_order import cancel_order

    return _decision(order_id, principal, "orders.cancel", cancel_order)


@routes.route("/orders/{order_id}/approve", methods=["POST"], requires=Action.DECIDE_CREDIT)
def approve_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.decide_credit import approve_order

    return _decision(order_id, principal, "orders.approve", lambda o, _, p: approve_order(o, p))


@routes.route("/orders/{order_id}/reject", methods=["POST"], requires=Action.DECIDE_CREDIT)
def reject_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.decide_credit import reject_order

    return _decision(order_id, principal, "orders.reject", reject_order)


@routes.route("/orders/{order_id}/close", methods=["POST"], requires=Action.PLACE_ORDERS)
def close_order(order_id: str, principal: Principal) -> Response:
    from functions.orders.close_order import close_order

    return _decision(order_id, principal, "orders.close", close_order)


def _decision(
    order_id: str, principal: Principal, operation: str, decide: Callable[..., Any]
) -> Response:
    """POST /orders/{id}/<decision> with an optional reason, once per Idempotency-Key."""
    from shared.domain.order import DecisionRequest

    decision = routes.optional_body(DecisionRequest)

    def run() -> Answer:
        return {"status": 200, "body": decide(order_id, decision.reason, principal).to_wire()}

    return routes.once(f"{operation}.{order_id}", principal, decision, run)


@routes.route("/orders/{order_id}/shipments", methods=["POST"], requires=Action.SHIP_ORDERS)
def post_shipment(order_id: str, principal: Principal) -> Response:
    from functions.orders.ship_order import ship_order
    from shared.domain.order import ShipmentRequest

    shipment_request = routes.json_body(ShipmentRequest)

    def run() -> Answer:
        order, shipment = ship_order(order_id, shipment_request, principal)
        return {"status": 201, "body": {"shipment": shipment.to_wire(), "order": order.to_wire()}}

    return routes.once(f"orders.ship.{order_id}", principal, shipment_request, run)
