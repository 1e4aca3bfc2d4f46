"""Close the unshipped rest of a partly shipped order: complete at what shipped.

One transaction: the closed order, its ``OrderClosed`` event, the rest's reservations back to
stock, the rest's value out of the customer's uninvoiced exposure, and the backorder markers
cleared. The shipments already made are invoiced as for a shipped order (a per-order customer
gets its one invoice for them on ``OrderClosed``). Losing a race for the order answers 409; the
retry of a request whose first attempt closed the order (and died before its answer was saved)
answers the closed order.
"""

from __future__ import annotations

import json

from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import Move, commit, stock_writes
from shared import errors, request_scope
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.order import Order
from shared.store import credit, outbox

CLOSED = "OrderClosed"


def close_order(order_id: str, reason: str, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    try:
        return _close(order, reason, principal)
    except errors.DomainError:
        if request_scope.made_before("cls", lambda made: _closed_by(order_id, made)):
            return get_order(order_id, principal)
        raise


def _close(order: Order, reason: str, principal: Principal) -> Order:
    closing_id = request_scope.request_scoped_id("cls")  # the same on a retry of this request
    with refused_as_conflicts(order.order_id):
        closed, event = order_domain.close(
            order, reason or "closed", principal.principal_id, closing_id=closing_id
        )
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


def _closed_by(order_id: str, closing_id: str) -> bool | None:
    """True when the order's history holds the closing of that id."""
    for item in outbox.history(order_id):
        if item.get("detail_type") == CLOSED:
            data = json.loads(item["detail"]).get("data", {})
            if data.get("closing_id") == closing_id:
                return True
    return None
