"""Writing an order move together with its stock and credit changes, safely under concurrency.

A move is planned on a snapshot of stock levels and written in ONE transaction with the order's
new version, its events, the conditional stock updates (never below zero) and the conditional
credit update (never beyond the limit), with the backorder markers the move creates or clears
(one per SKU the order waits for: how arriving stock finds it, oldest first). If another order
took the stock meanwhile, only the stock conditions fail: the move is planned again on fresh
levels. A failed credit condition is reported to the caller (which holds the order); a failed
order guard means the order itself changed, and the caller's retry will see it. The order guard
comes first: when it failed, every other condition was judged against a stale read (the
cancel that lost to another cancel also finds the exposure released), so only it is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.domain.events import DomainEvent
from shared.domain.order import Order
from shared.store import orders, outbox, stock
from shared.store.outbox import StaleStateError
from shared.store.table import Update, Write

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Move:
    """One order move: the order before and after, its events, and what else changes with it."""

    before: Order
    after: Order
    events: Sequence[DomainEvent]
    credit: Update | None = None
    stock: Sequence[Update] = field(default_factory=tuple)
    extra: Sequence[Write] = field(default_factory=tuple)


class CreditLimitExceededError(Exception):
    """The credit condition failed: the customer's headroom is smaller than the move needs."""


def stock_writes(delta: Mapping[str, int]) -> list[Update]:
    """Reserve what grows, release what shrinks (one update per SKU: a transaction may not
    touch an item twice)."""
    return [
        stock.reserve(sku, units) if units > 0 else stock.release(sku, -units)
        for sku, units in sorted(delta.items())
        if units
    ]


def available(skus: Sequence[str]) -> tuple[dict[str, int], set[str]]:
    """Available units per stock-tracked SKU, and the SKUs that keep no stock."""
    levels = stock.get_levels(sorted(set(skus)))
    tracked = {sku: level.available for sku, level in levels.items() if level.tracked}
    return tracked, set(skus) - set(tracked)


def commit(plan: Callable[[], Move], *, consumed: tuple[str, str] | None = None) -> Move:
    """Plan and write the move, planning again while only stock conditions fail."""
    for _ in range(MAX_ATTEMPTS):
        move = plan()
        state: list[Write] = [orders.replacing(move.after, move.before)]
        if move.credit is not None:
            state.append(move.credit)
        first_stock = len(state)
        state += [*move.stock, *move.extra, *orders.backorder_markers(move.before, move.after)]
        try:
            outbox.commit(state, move.events, consumed=consumed)
        except StaleStateError as conflict:
            if 0 in conflict.failed:
                raise  # the order changed since it was read: nothing else it failed is news
            if move.credit is not None and 1 in conflict.failed:
                raise CreditLimitExceededError from conflict
            stock_range = range(first_stock, first_stock + len(move.stock))
            if conflict.failed and all(index in stock_range for index in conflict.failed):
                continue  # another order took the stock first: plan on fresh levels
            raise
        return move
    raise StaleStateError([])
