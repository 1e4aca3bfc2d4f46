"""The order aggregate: what a partner asked for, priced in Decimal, and the moves it may make."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared import clock, ids
from shared.domain.events import DomainEvent
from shared.domain.money import Money, minor_units, quantize

SOURCE = "otc.orders"
MAX_LINES = 200
MAX_QUANTITY = 1_000_000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
DecimalString = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,6})?$")]


class OrderStatus(StrEnum):
    RECEIVED = "received"
    CONFIRMED = "confirmed"


class OrderTransitionError(Exception):
    """The order is not in a state that allows the move."""


class OrderLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    sku: Text
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price: DecimalString


class OrderRequest(BaseModel):
    """What a partner POSTs. Strict: a number where a string belongs is an error, not a guess."""

    model_config = ConfigDict(extra="forbid", strict=True)

    customer_id: Text
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    purchase_order: Text | None = None
    lines: list[OrderLineRequest] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        minor_units(code)
        return code


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    partner_id: str
    customer_id: str
    currency: str
    purchase_order: str | None
    lines: tuple[OrderLine, ...]
    total: Decimal
    status: OrderStatus
    version: int
    created_at: datetime
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.order_id,
            "customer_id": self.customer_id,
            "purchase_order": self.purchase_order,
            "currency": self.currency,
            "status": self.status.value,
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "line_total": str(line.line_total),
                }
                for line in self.lines
            ],
            "total": Money(amount=self.total, currency=self.currency).to_wire(),
            "version": self.version,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


def place(request: OrderRequest, partner_id: str) -> tuple[Order, DomainEvent]:
    """Price the request line by line (half-up to the minor unit) and record that it arrived."""
    lines = tuple(
        OrderLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=Decimal(line.unit_price),
            line_total=quantize(line.quantity * Decimal(line.unit_price), request.currency),
        )
        for line in request.lines
    )
    now = clock.now()
    order = Order(
        order_id=ids.new_id("ord"),
        partner_id=partner_id,
        customer_id=request.customer_id,
        currency=request.currency,
        purchase_order=request.purchase_order,
        lines=lines,
        total=quantize(sum((line.line_total for line in lines), Decimal(0)), request.currency),
        status=OrderStatus.RECEIVED,
        version=1,
        created_at=now,
        updated_at=now,
    )
    return order, _event("OrderReceived", order)


def confirm(order: Order) -> tuple[Order, DomainEvent]:
    if order.status is not OrderStatus.RECEIVED:
        raise OrderTransitionError(f"order {order.order_id} is {order.status}, not received")
    confirmed = order.model_copy(
        update={
            "status": OrderStatus.CONFIRMED,
            "version": order.version + 1,
            "updated_at": clock.now(),
        }
    )
    return confirmed, _event("OrderConfirmed", confirmed)


def _event(detail_type: str, order: Order) -> DomainEvent:
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=order.order_id,
        occurred_at=order.updated_at,
        data=order.to_wire(),
    )
