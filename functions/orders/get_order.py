"""Read one order; another customer's order is indistinguishable from a missing one."""

from __future__ import annotations

from shared import errors
from shared.domain.access import Principal
from shared.domain.order import Order
from shared.store import orders


def get_order(order_id: str, principal: Principal) -> Order:
    order = orders.get(order_id) if len(order_id) <= 64 else None
    if order is None or not principal.may_act_for(order.customer_id):
        raise errors.NotFound(f"order {order_id}")
    return order
