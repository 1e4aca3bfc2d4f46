"""Fill backorders when stock arrives (on StockAdjusted / StockLevelSet with units available).

The orders waiting for a SKU are found through their backorder markers (``BACKORDER#<sku>``,
oldest order first), never a Scan. Each order in turn reserves what it waits for out of what is
available now, in ONE transaction with its new version, a ``BackorderAllocated`` event, the
conditional stock update and the marker's removal once nothing of the SKU is backordered.

No consumed marker: a redelivered or a stale stock event is harmless, since only what is both
backordered and available is reserved, under the same conditions as any order move.
"""

from __future__ import annotations

from functions.orders.reservations import Move, available, commit, stock_writes
from shared.domain import order as order_domain
from shared.domain.allocation import plan
from shared.observability import logger
from shared.store import orders
from shared.store.outbox import StaleStateError

PAGE = 25
ORDER_ATTEMPTS = 3


class _NothingToFill(Exception):
    """The order no longer waits for the SKU (filled, cancelled, held or amended meanwhile)."""


class _OutOfStock(Exception):
    """The SKU has no units available any more."""


def fill_backorders(sku: str, available_after_event: int) -> int:
    """Units of ``sku`` reserved for waiting orders, oldest order first."""
    if available_after_event <= 0:
        return 0
    filled, cursor = 0, None
    while True:
        page = orders.backorders(sku, limit=PAGE, cursor=cursor)
        for marker in page.items:
            try:
                filled += _fill(marker["order_id"], sku)
            except _OutOfStock:
                return _done(sku, filled)
        if not (cursor := page.cursor):
            return _done(sku, filled)


def _fill(order_id: str, sku: str) -> int:
    """Reserve for one order what it waits for of ``sku``; the units reserved."""
    for attempt in range(ORDER_ATTEMPTS):
        try:
            return _units(commit(lambda: _allocation(order_id, sku)), sku)
        except _NothingToFill:
            return 0
        except StaleStateError:  # the order itself changed meanwhile: read it again
            if attempt == ORDER_ATTEMPTS - 1:
                raise
    return 0


def _allocation(order_id: str, sku: str) -> Move:
    """The allocation to one order, planned on the current order and stock level."""
    order = orders.get(order_id)
    if order is None or sku not in orders.backordered_skus(order):
        raise _NothingToFill
    levels, _ = available([sku])
    free = levels.get(sku, 0)
    if free <= 0:
        raise _OutOfStock
    lines = [line for line in order.lines if line.sku == sku and line.tracked]
    allocation = plan(lines, {sku: free}, {sku: order.reserved_by_sku().get(sku, 0)})
    allocated, event = order_domain.allocate(order, sku, allocation.reserved)
    return Move(before=order, after=allocated, events=[event], stock=stock_writes(allocation.delta))


def _units(move: Move, sku: str) -> int:
    before = move.before.reserved_by_sku().get(sku, 0)
    return move.after.reserved_by_sku().get(sku, 0) - before


def _done(sku: str, filled: int) -> int:
    logger.info("backorders filled", extra={"sku": sku, "units": filled})
    return filled
