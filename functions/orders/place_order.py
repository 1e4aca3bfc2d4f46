"""Place an order for a customer the caller may act for; it starts as received."""

from __future__ import annotations

from shared.domain import order as order_domain
from shared.domain.order import Order, OrderRequest
from shared.http import problems
from shared.http.auth import Principal
from shared.store import customers, orders


def place_order(request: OrderRequest, principal: Principal) -> Order:
    if not principal.may_act_for(request.customer_id) or not customers.get(request.customer_id):
        raise problems.not_found(f"customer {request.customer_id}")
    order, event = order_domain.place(request, principal.principal_id)
    orders.create(order, event)
    return order
