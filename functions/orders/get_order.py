"""Read one order; another customer's order is indistinguishable from a missing one."""

from __future__ import annotations

from shared.domain.order import Order
from shared.http import problems
from shared.http.auth import Principal
from shared.store import orders


def get_order(order_id: str, principal: Principal) -> Order:
    order = orders.get(order_id) if len(order_id) <= 64 else None
    if order is None or not principal.may_act_for(order.customer_id):
        raise problems.not_found(f"order {order_id}")
    return order
