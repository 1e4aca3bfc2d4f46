"""Amend an order before shipment: a new version, repriced, with stock and credit following.

A confirmed order keeps what it can of its reservations (re-planned on current stock plus what
it held) and its exposure follows the new total. If the new total would exceed the credit
limit, the order is amended and put on hold in the same write: its stock and exposure are
released until a credit manager decides.
"""

from __future__ import annotations

from decimal import Decimal

from functions.catalog.price_lines import price_lines
from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import (
    CreditLimitExceededError,
    Move,
    available,
    commit,
    stock_writes,
)
from shared import errors
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.allocation import plan
from shared.domain.order import AmendmentRequest, Order
from shared.store import credit
from shared.store.table import Update


def amend_order(order_id: str, request: AmendmentRequest, principal: Principal) -> Order:
    order = get_order(order_id, principal)
    if request.version != order.version:
        raise errors.Conflict(
            "version-mismatch",
            f"order {order_id} is at version {order.version}, not {request.version}",
            current_version=order.version,
        )
    if request.lines is None and request.ship_to is None and request.purchase_order is None:
        raise errors.Unprocessable(
            "empty-amendment", "an amendment changes lines, ship_to or purchase_order"
        )
    priced = (
        price_lines(request.lines, order.currency, order.customer_id) if request.lines else None
    )

    def amendment(enforce_limit: bool) -> Move:
        levels, untracked = available([line.sku for line in (priced or order.lines)])
        held = order.reserved_by_sku()
        amended, event = order_domain.amend(
            order,
            amended_by=principal.principal_id,
            priced=priced,
            untracked=untracked,
            reserve=lambda lines: plan(lines, levels, held).reserved,
            ship_to=request.ship_to,
            purchase_order=request.purchase_order,
        )
        if not order.holds_stock:
            return Move(before=order, after=amended, events=[event])
        allocation = plan(amended.lines, levels, held)
        if not enforce_limit:  # over the limit: amend, then hold, releasing stock and exposure
            held_order, hold_event = order_domain.hold(
                amended, "the amended order would exceed the credit limit"
            )
            return Move(
                before=order,
                after=held_order,
                events=[event, hold_event],
                credit=credit.release_uninvoiced(order.customer_id, order.total),
                stock=stock_writes({sku: -units for sku, units in held.items()}),
            )
        return Move(
            before=order,
            after=amended,
            events=[event],
            credit=_exposure_change(order, amended.total),
            stock=stock_writes(allocation.delta),
        )

    with refused_as_conflicts(order.order_id):
        try:
            return commit(lambda: amendment(enforce_limit=True)).after
        except CreditLimitExceededError:
            return commit(lambda: amendment(enforce_limit=False)).after


def _exposure_change(order: Order, new_total: Decimal) -> Update | None:
    grows = new_total - order.total
    if grows > 0:
        return credit.add_uninvoiced(order.customer_id, grows, enforce_limit=True)
    if grows < 0:
        return credit.release_uninvoiced(order.customer_id, -grows)
    return None
