"""Cancel an order before anything shipped: its reservations and credit exposure are released."""

from __future__ import annotations

from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import Move, commit, stock_writes
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.order import Order
from shared.store import credit


def cancel_order(order_id: str, reason: str, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    with refused_as_conflicts(order.order_id):
        cancelled, event = order_domain.cancel(order, reason or "cancelled", principal.principal_id)
    releases = {sku: -units for sku, units in order.reserved_by_sku().items()}
    move = Move(
        before=order,
        after=cancelled,
        events=[event],
        credit=credit.release_uninvoiced(order.customer_id, order.total)
        if order.holds_stock
        else None,
        stock=stock_writes(releases),
    )
    with refused_as_conflicts(order.order_id):
        return commit(lambda: move).after
