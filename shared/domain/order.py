"""The order aggregate: what a partner asked for, priced by the server, and the moves it may make.

Invariants the moves keep (the use cases write the matching stock and credit changes):

- a received, held, rejected or cancelled order holds no stock and adds no credit exposure;
- a confirmed or partially shipped order holds ``reserved`` units per line (reserved, not yet
  shipped) and adds its total to the customer's uninvoiced exposure;
- a line's ``backordered`` units (ordered, neither reserved nor shipped) wait for stock;
- nothing shipped can be amended or cancelled; nothing beyond what is reserved can ship;
- a partly shipped order may be closed: its unshipped rest (``closed`` units per line) is given
  up, it holds no stock and no exposure any more, and it is complete at what shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from shared import clock, ids
from shared.domain.events import DomainEvent
from shared.domain.money import DecimalString, Money, minor_units, quantize
from shared.domain.text import MultiLine, SingleLine
from shared.model import Model

SOURCE = "otc.orders"
MAX_LINES = 200
MAX_QUANTITY = 1_000_000

Text = Annotated[str, SingleLine(max_length=120)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class OrderStatus(StrEnum):
    RECEIVED = "received"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # partly shipped, the rest given up: complete at what shipped


OPEN_FOR_CHANGE = frozenset({OrderStatus.RECEIVED, OrderStatus.ON_HOLD, OrderStatus.CONFIRMED})
HOLDS_STOCK = frozenset({OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED})
SHIPPING_DONE = frozenset({OrderStatus.SHIPPED, OrderStatus.CLOSED})  # nothing more will ship


class OrderTransitionError(Exception):
    """The order is not in a state that allows the move (the API answers 409)."""


class ShipmentError(ValueError):
    """A shipment that does not fit the order (the API answers 422 with the line)."""

    def __init__(self, index: int, field: str, detail: str) -> None:
        super().__init__(detail)
        self.index, self.field, self.detail = index, field, detail


class ShipTo(Model):
    """Where an order ships to."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Text | None = None
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: Annotated[str, SingleLine(max_length=20)]
    region: Text | None = None
    country: CountryCode


class OrderLineRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    sku: Text
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: DecimalString | None = None  # optional; if given it must match the server's price


class OrderRequest(Model):
    """What a partner POSTs. Strict: a number where a string belongs is an error, not a guess."""

    model_config = ConfigDict(extra="forbid", strict=True)

    customer_id: Text
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    purchase_order: Text | None = None
    ship_to: ShipTo | None = None
    lines: list[OrderLineRequest] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        minor_units(code)
        return code


class AmendmentRequest(Model):
    """A versioned change before shipment: new lines (repriced), a new ship-to, or both."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1)
    lines: list[OrderLineRequest] | None = Field(default=None, min_length=1, max_length=MAX_LINES)
    ship_to: ShipTo | None = None
    purchase_order: Text | None = None


class ShipmentLineRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    line_no: int = Field(ge=1)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)


class ShipmentRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    carrier: Text
    tracking_number: Text
    lines: list[ShipmentLineRequest] = Field(min_length=1, max_length=MAX_LINES)


class DecisionRequest(Model):
    """A credit manager's approval or rejection of a held order, or a cancellation."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Annotated[str, MultiLine(max_length=500, min_length=0)] = ""


class PricedLine(Protocol):
    """What the catalog's pricing answers per requested line."""

    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def tax_category(self) -> str: ...
    @property
    def supply(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def line_total(self) -> Decimal: ...


class OrderLine(Model):
    model_config = ConfigDict(frozen=True)

    line_no: int
    sku: str
    name: str
    unit: str
    tax_category: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    supply: str = "goods"  # goods | services (VAT: see shared.domain.pricing.Supply)
    tracked: bool = True  # False: the SKU keeps no stock (services), it is always available
    reserved: int = 0  # reserved for this line and not yet shipped
    shipped: int = 0
    closed: int = 0  # given up unshipped when the order was closed

    @property
    def backordered(self) -> int:
        return self.quantity - self.reserved - self.shipped - self.closed

    def to_wire(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "sku": self.sku,
            "name": self.name,
            "unit": self.unit,
            "tax_category": self.tax_category,
            "supply": self.supply,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
            "line_total": str(self.line_total),
            "reserved": self.reserved,
            "shipped": self.shipped,
            "backordered": self.backordered,
            "closed": self.closed,
        }


class ShipmentLine(Model):
    model_config = ConfigDict(frozen=True)

    line_no: int
    sku: str
    quantity: int


class Shipment(Model):
    model_config = ConfigDict(frozen=True)

    shipment_id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[ShipmentLine, ...]

    def to_wire(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "shipped_at": clock.iso(self.shipped_at),
            "lines": [line.model_dump() for line in self.lines],
        }


class Order(Model):
    model_config = ConfigDict(frozen=True)

    order_id: str
    placed_by: str
    customer_id: str
    currency: str
    purchase_order: str | None
    ship_to: ShipTo | None = None
    lines: tuple[OrderLine, ...]
    total: Decimal
    status: OrderStatus
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def holds_stock(self) -> bool:
        return self.status in HOLDS_STOCK

    def reserved_by_sku(self) -> dict[str, int]:
        """Units this order holds per tracked SKU (one SKU may sit on several lines)."""
        held: dict[str, int] = {}
        if self.holds_stock:
            for line in self.lines:
                if line.tracked and line.reserved:
                    held[line.sku] = held.get(line.sku, 0) + line.reserved
        return held

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.order_id,
            "customer_id": self.customer_id,
            "placed_by": self.placed_by,
            "purchase_order": self.purchase_order,
            "currency": self.currency,
            "status": self.status.value,
            "ship_to": self.ship_to.model_dump() if self.ship_to else None,
            "lines": [line.to_wire() for line in self.lines],
            "total": Money(amount=self.total, currency=self.currency).to_wire(),
            "version": self.version,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


# --- moves ------------------------------------------------------------------------------------


def place(
    request: OrderRequest,
    priced: Sequence[PricedLine],
    placed_by: str,
    tracked: Mapping[str, bool],
    *,
    order_id: str | None = None,
) -> tuple[Order, DomainEvent]:
    """A received order with the server's prices; ``tracked`` says which SKUs keep stock."""
    now = clock.now()
    order = Order(
        order_id=order_id or ids.new_id("ord"),
        placed_by=placed_by,
        customer_id=request.customer_id,
        currency=request.currency,
        purchase_order=request.purchase_order,
        ship_to=request.ship_to,
        lines=_lines(priced, tracked),
        total=_total(priced, request.currency),
        status=OrderStatus.RECEIVED,
        version=1,
        created_at=now,
        updated_at=now,
    )
    return order, _event("OrderReceived", order)


def confirm(
    order: Order,
    reserved: Mapping[int, int],
    *,
    approved_by: str | None = None,
    email_notice: bool | None = None,
) -> tuple[Order, DomainEvent]:
    """Confirm, ``reserved`` units per line number (the rest of a tracked line is backordered).

    ``email_notice``: whether the customer's order notices want an e-mail of it, when known
    (the event then says so, and the bus takes it to the customer notifications only if so).
    """
    if order.status not in {OrderStatus.RECEIVED, OrderStatus.ON_HOLD}:
        raise OrderTransitionError(
            f"order {order.order_id} is {order.status}; it cannot be confirmed"
        )
    if approved_by is None and order.status is OrderStatus.ON_HOLD:
        raise OrderTransitionError(f"order {order.order_id} is on hold; a credit manager decides")
    confirmed = _next(
        order, status=OrderStatus.CONFIRMED, lines=_with_reservations(order, reserved)
    )
    extra: dict[str, Any] = {"approved_by": approved_by} if approved_by else {}
    if email_notice is not None:
        extra["email_notice"] = email_notice
    return confirmed, _event("OrderConfirmed", confirmed, **extra)


def hold(order: Order, reason: str) -> tuple[Order, DomainEvent]:
    if order.status not in {OrderStatus.RECEIVED, OrderStatus.CONFIRMED}:
        raise OrderTransitionError(f"order {order.order_id} is {order.status}; it cannot be held")
    held = _next(order, status=OrderStatus.ON_HOLD, lines=_released(order))
    return held, _event("OrderHeld", held, reason=reason)


def reject(order: Order, reason: str, rejected_by: str) -> tuple[Order, DomainEvent]:
    if order.status is not OrderStatus.ON_HOLD:
        raise OrderTransitionError(f"order {order.order_id} is {order.status}, not on hold")
    rejected = _next(order, status=OrderStatus.REJECTED)
    return rejected, _event("OrderRejected", rejected, reason=reason, rejected_by=rejected_by)


def cancel(order: Order, reason: str, cancelled_by: str) -> tuple[Order, DomainEvent]:
    _require_open(order, "cancelled")
    cancelled = _next(order, status=OrderStatus.CANCELLED, lines=_released(order))
    return cancelled, _event("OrderCancelled", cancelled, reason=reason, cancelled_by=cancelled_by)


def amend(
    order: Order,
    *,
    amended_by: str,
    priced: Sequence[PricedLine] | None = None,
    untracked: set[str] | None = None,
    reserve: Callable[[tuple[OrderLine, ...]], Mapping[int, int]] | None = None,
    ship_to: ShipTo | None = None,
    purchase_order: str | None = None,
) -> tuple[Order, DomainEvent]:
    """A new version before any shipment: new lines (repriced), ship-to or purchase order.

    For an order that holds stock, ``reserve`` tells what the new lines may hold (planned by the
    caller on current stock plus what the order held); the event records before and after.
    """
    _require_open(order, "amended")
    changed: dict[str, Any] = {}
    if priced is not None:
        changed["lines"] = tuple(
            line.model_copy(update={"tracked": line.sku not in (untracked or set())})
            for line in _lines(priced, {})
        )
        changed["total"] = _total(priced, order.currency)
    if ship_to is not None:
        changed["ship_to"] = ship_to
    if purchase_order is not None:
        changed["purchase_order"] = purchase_order
    amended = _next(order, **changed)
    if order.holds_stock and reserve is not None:
        reserved = reserve(amended.lines)
        amended = amended.model_copy(update={"lines": _with_reservations(amended, reserved)})
    before, after = order.to_wire(), amended.to_wire()
    fields = {
        "lines": "lines",
        "total": "total",
        "ship_to": "ship_to",
        "purchase_order": "purchase_order",
    }
    changes = {
        wire: {"before": before[wire], "after": after[wire]}
        for name, wire in fields.items()
        if name in changed
    }
    return amended, _event("OrderAmended", amended, changes=changes, amended_by=amended_by)


def ship(
    order: Order, request: ShipmentRequest, shipped_by: str, *, shipment_id: str | None = None
) -> tuple[Order, Shipment, DomainEvent]:
    """Ship reserved units; anything beyond a line's reservation is refused (never over-ship)."""
    if order.status not in HOLDS_STOCK:
        raise OrderTransitionError(f"order {order.order_id} is {order.status}; nothing can ship")
    by_number = {line.line_no: line for line in order.lines}
    shipping: dict[int, int] = {}
    for index, requested in enumerate(request.lines):
        line = by_number.get(requested.line_no)
        if line is None:
            raise ShipmentError(index, "line_no", f"order has no line {requested.line_no}")
        total = shipping.get(line.line_no, 0) + requested.quantity
        outstanding = line.quantity - line.shipped
        if total > outstanding:
            raise ShipmentError(
                index, "quantity",
                f"line {line.line_no}: {total} exceeds the {outstanding} not yet shipped",
            )  # fmt: skip
        if total > line.reserved:
            raise ShipmentError(
                index, "quantity",
                f"line {line.line_no}: only {line.reserved} reserved; the rest is backordered",
            )  # fmt: skip
        shipping[line.line_no] = total
    lines = tuple(
        line.model_copy(
            update={
                "reserved": line.reserved - shipping.get(line.line_no, 0),
                "shipped": line.shipped + shipping.get(line.line_no, 0),
            }
        )
        for line in order.lines
    )
    done = all(line.shipped == line.quantity for line in lines)
    status = OrderStatus.SHIPPED if done else OrderStatus.PARTIALLY_SHIPPED
    shipped = _next(order, status=status, lines=lines)
    shipment = Shipment(
        shipment_id=shipment_id or ids.new_id("shp"),
        carrier=request.carrier,
        tracking_number=request.tracking_number,
        shipped_at=shipped.updated_at,
        lines=tuple(
            ShipmentLine(line_no=number, sku=by_number[number].sku, quantity=quantity)
            for number, quantity in sorted(shipping.items())
        ),
    )
    event = _event("OrderShipped", shipped, shipment=shipment.to_wire(), shipped_by=shipped_by)
    return shipped, shipment, event


def close(
    order: Order, reason: str, closed_by: str, *, closing_id: str | None = None
) -> tuple[Order, DomainEvent]:
    """Give up the unshipped rest of a partly shipped order: it is complete at what shipped.

    Its reservations go back to stock and ``unshipped_value`` leaves the customer's exposure
    (the caller writes both); the shipments already made are invoiced as for a shipped order.
    ``closing_id`` names this closing in its event (a retried request finds it there).
    """
    if order.status is not OrderStatus.PARTIALLY_SHIPPED:
        hint = "; cancel it instead" if order.status in OPEN_FOR_CHANGE else ""
        raise OrderTransitionError(
            f"order {order.order_id} is {order.status}, not partially shipped{hint}"
        )
    lines = tuple(
        line.model_copy(update={"reserved": 0, "closed": line.quantity - line.shipped})
        for line in order.lines
    )
    closed = _next(order, status=OrderStatus.CLOSED, lines=lines)
    released = Money(amount=unshipped_value(order), currency=order.currency).to_wire()
    return closed, _event(
        "OrderClosed",
        closed,
        closing_id=closing_id or ids.new_id("cls"),
        reason=reason,
        closed_by=closed_by,
        released=released,
    )


def unshipped_value(order: Order) -> Decimal:
    """What of the order's total has not shipped: the exposure its unshipped rest holds.

    Shipments release ``round(price x shipped)`` per line in total (see the invoicing), so this
    rest and the shipments' releases add up to exactly the total the confirmation added.
    """
    shipped = sum(
        (quantize(line.unit_price * line.shipped, order.currency) for line in order.lines),
        Decimal(0),
    )
    return order.total - shipped


def allocate(order: Order, sku: str, reserved: Mapping[int, int]) -> tuple[Order, DomainEvent]:
    """Backordered units of ``sku`` get stock: ``reserved`` is the new reservation per line
    number of that SKU (never less than held, never more than not yet shipped)."""
    if order.status not in HOLDS_STOCK:
        raise OrderTransitionError(f"order {order.order_id} is {order.status}; it holds no stock")
    allocated = 0
    lines: list[OrderLine] = []
    for line in order.lines:
        if line.sku != sku or not line.tracked or line.line_no not in reserved:
            lines.append(line)
            continue
        units = reserved[line.line_no]
        if not line.reserved <= units <= line.quantity - line.shipped:
            raise ValueError(f"line {line.line_no}: cannot hold {units} of {sku}")
        allocated += units - line.reserved
        lines.append(line.model_copy(update={"reserved": units}))
    if allocated <= 0:
        raise OrderTransitionError(f"order {order.order_id} waits for no {sku} to allocate")
    after = _next(order, lines=tuple(lines))
    return after, _event("BackorderAllocated", after, sku=sku, allocated=allocated)


def mark_untracked(order: Order, skus: set[str]) -> Order:
    """The same order knowing which SKUs keep no stock (services): they never backorder."""
    lines = tuple(line.model_copy(update={"tracked": line.sku not in skus}) for line in order.lines)
    return order.model_copy(update={"lines": lines})


# --- helpers ----------------------------------------------------------------------------------


def _lines(priced: Sequence[PricedLine], tracked: Mapping[str, bool]) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(
            line_no=number,
            sku=line.sku,
            name=line.name,
            unit=line.unit,
            tax_category=line.tax_category,
            supply=line.supply,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            tracked=tracked.get(line.sku, True),
        )
        for number, line in enumerate(priced, start=1)
    )


def _total(priced: Sequence[PricedLine], currency: str) -> Decimal:
    return quantize(sum((line.line_total for line in priced), Decimal(0)), currency)


def _with_reservations(order: Order, reserved: Mapping[int, int]) -> tuple[OrderLine, ...]:
    """Lines with these reservations; untracked lines are always fully available."""
    return tuple(
        line.model_copy(
            update={
                "reserved": line.quantity - line.shipped
                if not line.tracked
                else reserved.get(line.line_no, 0)
            }
        )
        for line in order.lines
    )


def _released(order: Order) -> tuple[OrderLine, ...]:
    return tuple(line.model_copy(update={"reserved": 0}) for line in order.lines)


def _require_open(order: Order, move: str) -> None:
    if order.status not in OPEN_FOR_CHANGE or any(line.shipped for line in order.lines):
        raise OrderTransitionError(f"order {order.order_id} is {order.status}; it cannot be {move}")


def _next(order: Order, **changes: Any) -> Order:
    return order.model_copy(
        update={**changes, "version": order.version + 1, "updated_at": clock.now()}
    )


def _event(detail_type: str, order: Order, **extra: Any) -> DomainEvent:
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=order.order_id,
        occurred_at=order.updated_at,
        data={**order.to_wire(), **extra},
    )
