"""A credit manager's decision on a held order: approve (confirm beyond the limit) or reject."""

from __future__ import annotations

from functions.orders.confirm_order import reserve_and_confirm
from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import commit
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.order import Order
from shared.store import orders, outbox


def approve_order(order_id: str, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    with refused_as_conflicts(order.order_id):
        move = commit(
            lambda: reserve_and_confirm(
                order, enforce_limit=False, approved_by=principal.principal_id
            )
        )
    return move.after


def reject_order(order_id: str, reason: str, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    with refused_as_conflicts(order.order_id):
        rejected, event = order_domain.reject(
            order, reason or "rejected by credit control", principal.principal_id
        )
        outbox.commit([orders.replacing(rejected, order)], [event])
    return rejected
