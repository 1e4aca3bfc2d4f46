"""Close the unshipped rest of a partly shipped order: complete at what shipped.

One transaction: the closed order, its ``OrderClosed`` event, the rest's reservations back to
stock, the rest's value out of the customer's uninvoiced exposure, and the backorder markers
cleared. The shipments already made are invoiced as for a shipped order (a per-order customer
gets its one invoice for them on ``OrderClosed``). Losing a race for the order answers 409.
"""

from __future__ import annotations

from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import Move, commit, stock_writes
from shared.domain import order as order_domain
from shared.domain.order import Order
from shared.http.auth import Principal
from shared.store import credit


def close_order(order_id: str, reason: str, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    with refused_as_conflicts(order.order_id):
        closed, event = order_domain.close(order, reason or "closed", principal.principal_id)
    rest = order_domain.unshipped_value(order)
    move = Move(
        before=order,
        after=closed,
        events=[event],
        credit=credit.release_uninvoiced(order.customer_id, rest) if rest > 0 else None,
        stock=stock_writes({sku: -units for sku, units in order.reserved_by_sku().items()}),
    )
    with refused_as_conflicts(order.order_id):
        return commit(lambda: move).after
