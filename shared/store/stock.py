"""Stock levels in the single table: (``ITEM#<sku>``, ``STOCK``) holds available and reserved.

Order moves are ``table.Update`` objects for the ORDER's own transaction (with the order and
its event): ``reserve``, ``release``, ``ship``. Each carries the condition that keeps its level
from going below zero, so a transaction that would oversell fails as a whole
(``TransactionConflictError``, or ``outbox.StaleStateError`` through ``outbox.commit``). They
apply to tracked SKUs only: on a SKU without a stock item their condition fails.

Staff moves (``set_on_hand``, ``adjust``) are outbox transactions of their own, with the events
StockLevelSet and StockAdjusted. They read the level, decide, and write guarded by exactly what
they read; an order moving the same SKU in between makes them read and decide again.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared import clock
from shared.domain import pricing
from shared.domain import stock as stock_domain
from shared.domain.events import DomainEvent
from shared.domain.stock import StockError, StockLevel
from shared.store import outbox, readable, table
from shared.store.table import Item, Put, Update, Write

ATTEMPTS = 5


class ConcurrentChangeError(StockError):
    kind = "concurrent-update"


def stock_key(sku: str) -> tuple[str, str]:
    return f"ITEM#{sku}", "STOCK"


# --- order moves: Updates for the order's transaction -----------------------------------------


def reserve(sku: str, quantity: int) -> Update:
    """available -> reserved; fails unless ``quantity`` units are available (never oversell)."""
    return Update(
        key=stock_key(sku),
        expression="SET available = available - :q, reserved = reserved + :q",
        condition="available >= :q",
        values={":q": _units(quantity)},
    )


def release(sku: str, quantity: int) -> Update:
    """reserved -> available; fails unless ``quantity`` units are reserved."""
    return Update(
        key=stock_key(sku),
        expression="SET available = available + :q, reserved = reserved - :q",
        condition="reserved >= :q",
        values={":q": _units(quantity)},
    )


def ship(sku: str, quantity: int) -> Update:
    """Reserved units leave the warehouse (on hand goes down); fails unless they are reserved."""
    return Update(
        key=stock_key(sku),
        expression="SET reserved = reserved - :q",
        condition="reserved >= :q",
        values={":q": _units(quantity)},
    )


def _units(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"a stock move is a positive number of units, not {quantity!r}")
    return quantity


# --- reads ------------------------------------------------------------------------------------


def to_item(level: StockLevel) -> Item:
    pk, sk = stock_key(level.sku)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Stock",
        "sku": level.sku,
        "available": level.available,
        "reserved": level.reserved,
        "version": level.version,
        "updated_at": clock.iso(level.updated_at or clock.now()),
    }


@readable.reader
def from_item(raw: Item) -> StockLevel:
    return StockLevel(
        sku=raw["sku"],
        available=int(raw["available"]),
        reserved=int(raw["reserved"]),
        version=int(raw["version"]),
        updated_at=clock.parse(raw["updated_at"]),
    )


def get_level(sku: str) -> StockLevel:
    """The level; ``tracked`` is False when the SKU keeps no stock (or is no SKU at all)."""
    raw = table.get(*stock_key(sku)) if pricing.is_sku(sku) else None
    return from_item(raw) if raw else StockLevel.untracked(sku)


def get_levels(skus: Iterable[str]) -> dict[str, StockLevel]:
    """Every SKU asked for -> its level; ``level.tracked`` False: it keeps no stock and is
    always available. One BatchGetItem (100 SKUs per call); consistent reads."""
    wanted = list(dict.fromkeys(skus))
    keys = [stock_key(sku) for sku in wanted if pricing.is_sku(sku)]
    found = {raw["sku"]: from_item(raw) for raw in (table.get_many(keys) if keys else [])}
    return {sku: found.get(sku) or StockLevel.untracked(sku) for sku in wanted}


# --- staff moves: outbox transactions ---------------------------------------------------------


def set_on_hand(
    sku: str, on_hand: int, expected_version: int, reason: str | None = None
) -> tuple[StockLevel, bool]:
    """Set on hand to a count (available = on_hand - reserved); answers the level and whether
    tracking started. Raises ``StaleVersionError``, ``BelowReservedError`` (stock domain),
    ``ConcurrentChangeError`` when orders kept moving the SKU through every attempt."""
    for _ in range(ATTEMPTS):
        current = get_level(sku)
        level, event = stock_domain.set_on_hand(current, on_hand, expected_version, reason)
        if _committed(level_write(current, level), event):
            return level, not current.tracked
    raise ConcurrentChangeError(f"SKU {sku}: stock kept changing; try again")


def adjust(sku: str, delta: int, reason: str) -> StockLevel:
    """Receive (+) or write off (-) units. Raises ``NotTrackedError``, ``InsufficientStockError``
    (a write-off beyond what is available), ``ConcurrentChangeError``."""
    for _ in range(ATTEMPTS):
        current = get_level(sku)
        level, event = stock_domain.adjust(current, delta, reason)
        if _committed(replace_level(current, level), event):
            return level
    raise ConcurrentChangeError(f"SKU {sku}: stock kept changing; try again")


def level_write(current: StockLevel, level: StockLevel) -> Write:
    """The write that sets ``level``: over exactly the ``current`` read, or the first one."""
    return replace_level(current, level) if current.tracked else Put.new(to_item(level))


def replace_level(current: StockLevel, level: StockLevel) -> Update:
    """Write ``level`` over exactly the ``current`` that was read."""
    return Update(
        key=stock_key(level.sku),
        expression="SET available = :available, version = :version, updated_at = :now",
        condition="version = :was_version AND available = :was_available "
        "AND reserved = :was_reserved",
        values={
            ":available": level.available,
            ":version": level.version,
            ":now": clock.iso(level.updated_at or clock.now()),
            ":was_version": current.version,
            ":was_available": current.available,
            ":was_reserved": current.reserved,
        },
    )


def _committed(write: Write, event: DomainEvent) -> bool:
    try:
        outbox.commit([write], [event])
    except outbox.StaleStateError:
        return False
    return True
