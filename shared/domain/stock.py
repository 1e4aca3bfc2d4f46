"""Stock of a SKU: units available to promise and units reserved for orders.

``on_hand = available + reserved``. An order reserves (available -> reserved), releases
(reserved -> available) and ships (reserved leaves the warehouse, on hand goes down). Staff set
on hand after a count or adjust it by a delta (a receipt, a write-off). Neither number ever goes
below zero: the store writes each move with the matching condition, so concurrent orders can
never oversell.

A SKU without a stock item is not stock-tracked (services, for instance): it is always
available and nothing is reserved for it. Its level says ``tracked=False`` (its zeros mean
nothing). ``version`` counts the staff's changes of a level (set, adjust); order moves leave it
alone, so a stock count is not refused because orders flowed meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.text import SingleLine
from shared.model import Model

SOURCE = "otc.stock"
MAX_UNITS = 1_000_000_000

Reason = Annotated[str, SingleLine(max_length=200)]


class StockError(Exception):
    """A stock move the levels do not allow (the API answers 409 with ``kind``)."""

    kind = "stock-conflict"


class InsufficientStockError(StockError):
    kind = "insufficient-stock"


class BelowReservedError(StockError):
    kind = "below-reserved"


class StaleVersionError(StockError):
    kind = "stale-version"


class NotTrackedError(StockError):
    kind = "not-stock-tracked"


# --- requests ---------------------------------------------------------------------------------


class SetOnHandRequest(Model):
    """PUT /stock/{sku}: the counted on-hand quantity and the version it replaces (0: new)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    on_hand: int = Field(ge=0, le=MAX_UNITS)
    version: int = Field(ge=0)
    reason: Reason | None = None


class AdjustmentRequest(Model):
    """POST /stock/{sku}/adjustments: + a receipt, - a write-off."""

    model_config = ConfigDict(extra="forbid", strict=True)

    delta: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, json_schema_extra={"not": {"const": 0}})
    reason: Reason

    @field_validator("delta")
    @classmethod
    def _moves_something(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("delta must not be 0")
        return delta


# --- the level --------------------------------------------------------------------------------


class StockLevel(Model):
    model_config = ConfigDict(frozen=True)

    sku: str
    tracked: bool = True
    available: int = Field(ge=0)
    reserved: int = Field(ge=0)
    version: int = Field(ge=0)  # 0: not tracked (yet)
    updated_at: datetime | None = None

    @classmethod
    def untracked(cls, sku: str) -> StockLevel:
        """The level of a SKU that keeps no stock: always available, nothing reserved."""
        return cls(sku=sku, tracked=False, available=0, reserved=0, version=0)

    @property
    def on_hand(self) -> int:
        return self.available + self.reserved

    def can_reserve(self, quantity: int) -> bool:
        return not self.tracked or quantity <= self.available

    def reserve(self, quantity: int) -> StockLevel:
        self._require_tracked(quantity)
        if quantity > self.available:
            raise InsufficientStockError(
                f"SKU {self.sku}: {quantity} wanted, {self.available} available"
            )
        return self._moved(available=self.available - quantity, reserved=self.reserved + quantity)

    def release(self, quantity: int) -> StockLevel:
        self._require_tracked(quantity)
        if quantity > self.reserved:
            raise StockError(f"SKU {self.sku}: cannot release {quantity}, {self.reserved} reserved")
        return self._moved(available=self.available + quantity, reserved=self.reserved - quantity)

    def ship(self, quantity: int) -> StockLevel:
        self._require_tracked(quantity)
        if quantity > self.reserved:
            raise StockError(f"SKU {self.sku}: cannot ship {quantity}, {self.reserved} reserved")
        return self._moved(available=self.available, reserved=self.reserved - quantity)

    def _require_tracked(self, quantity: int) -> None:
        if quantity <= 0:
            raise ValueError(f"a stock move is a positive number of units, not {quantity}")
        if not self.tracked:
            raise NotTrackedError(f"SKU {self.sku} is not stock-tracked: it has nothing to move")

    def _moved(self, *, available: int, reserved: int) -> StockLevel:
        return self.model_copy(update={"available": available, "reserved": reserved})

    def to_wire(self, *, full: bool = True) -> dict[str, Any]:
        """Staff see the whole level; ``full=False`` shows only what may be promised."""
        if not self.tracked:
            return {"sku": self.sku, "tracked": False}
        if not full:
            return {"sku": self.sku, "tracked": True, "available": self.available}
        return {
            "sku": self.sku,
            "tracked": True,
            "on_hand": self.on_hand,
            "available": self.available,
            "reserved": self.reserved,
            "version": self.version,
            "updated_at": clock.iso(self.updated_at) if self.updated_at else None,
        }


def shortfalls(wanted: Mapping[str, int], levels: Mapping[str, StockLevel]) -> dict[str, int]:
    """Units missing per SKU to reserve ``wanted`` (an untracked SKU, or one absent from
    ``levels``, never misses anything)."""
    missing: dict[str, int] = {}
    for sku, quantity in wanted.items():
        level = levels.get(sku)
        if level is not None and not level.can_reserve(quantity):
            missing[sku] = quantity - level.available
    return missing


# --- staff changes ----------------------------------------------------------------------------


def set_on_hand(
    current: StockLevel, on_hand: int, expected_version: int, reason: str | None = None
) -> tuple[StockLevel, DomainEvent]:
    """Set on hand to a counted quantity; what is reserved stays reserved.

    ``expected_version`` is the version the caller saw (0 while the SKU is not tracked: this
    starts tracking it). On hand below what is reserved is refused.
    """
    sku = current.sku
    if expected_version != current.version:
        raise StaleVersionError(
            f"SKU {sku}: stock is at version {current.version}, not {expected_version}; "
            "read it again"
        )
    if on_hand < 0:
        raise ValueError(f"on hand cannot be negative: {on_hand}")
    if on_hand < current.reserved:
        raise BelowReservedError(
            f"SKU {sku}: on hand {on_hand} is below the {current.reserved} units reserved "
            "for orders"
        )
    level = StockLevel(
        sku=sku,
        available=on_hand - current.reserved,
        reserved=current.reserved,
        version=current.version + 1,
        updated_at=clock.now(),
    )
    return level, _event("StockLevelSet", level, on_hand - current.on_hand, reason)


def adjust(current: StockLevel, delta: int, reason: str) -> tuple[StockLevel, DomainEvent]:
    """Receive (+) or write off (-) units; a write-off may take only what is available."""
    if not current.tracked:
        raise NotTrackedError(
            f"SKU {current.sku} is not stock-tracked; PUT /stock/{current.sku} with version 0 "
            "starts tracking it"
        )
    if delta == 0:
        raise ValueError("an adjustment moves at least one unit")
    if current.available + delta < 0:
        raise InsufficientStockError(
            f"SKU {current.sku}: cannot write off {-delta}, {current.available} available"
        )
    level = current.model_copy(
        update={
            "available": current.available + delta,
            "version": current.version + 1,
            "updated_at": clock.now(),
        }
    )
    return level, _event("StockAdjusted", level, delta, reason)


def _event(detail_type: str, level: StockLevel, delta: int, reason: str | None) -> DomainEvent:
    occurred_at = level.updated_at or clock.now()
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=level.sku,
        occurred_at=occurred_at,
        data={
            "sku": level.sku,
            "on_hand": level.on_hand,
            "available": level.available,
            "reserved": level.reserved,
            "delta": delta,
            "reason": reason,
            "version": level.version,
        },
    )
