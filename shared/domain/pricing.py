"""The catalog and its prices: what an item is, what it costs a customer, and pricing order lines.

An item is sold in a unit of measure (a UN/ECE Recommendation 20 code) under a tax category. It
has at most one list price per currency and, per customer, at most one customer price per
currency that overrides the list price for that customer. Pricing is pure: the store looks the
facts up (``shared.store.catalog.lookup``), ``price`` turns requested lines into priced lines or
into one problem per failing line. Amounts are Decimal; equal values are equal prices whatever
their trailing zeros (19.99 == 19.990).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import ConfigDict, Field, field_validator

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.money import DecimalString, minor_units, quantize
from shared.domain.text import SingleLine
from shared.model import Model

SOURCE = "otc.catalog"

SKU_PATTERN = r"^[A-Z0-9._-]{1,64}$"
_SKU = re.compile(SKU_PATTERN)
MAX_PRICE_DECIMALS = 6

# Common UN/ECE Recommendation 20 unit codes (the list accepts these; extend it as needed).
UNITS: dict[str, str] = {
    "EA": "each",
    "C62": "one",
    "H87": "piece",
    "PR": "pair",
    "SET": "set",
    "DZN": "dozen",
    "GRM": "gram",
    "KGM": "kilogram",
    "TNE": "tonne",
    "LBR": "pound",
    "MLT": "millilitre",
    "LTR": "litre",
    "MTQ": "cubic metre",
    "MMT": "millimetre",
    "CMT": "centimetre",
    "MTR": "metre",
    "KMT": "kilometre",
    "MTK": "square metre",
    "KWH": "kilowatt hour",
    "SEC": "second",
    "MIN": "minute",
    "HUR": "hour",
    "DAY": "day",
    "WEE": "week",
    "MON": "month",
    "ANN": "year",
}

Name = Annotated[str, SingleLine(max_length=200)]
CustomerId = Annotated[str, SingleLine(max_length=120)]


class TaxCategory(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"
    EXEMPT = "exempt"


class Supply(StrEnum):
    """What an item is a supply of, for VAT: goods are dispatched, services are rendered.

    It decides the code of a sale to a business in another member state: an intra-community
    supply of goods (K) or a service under the reverse charge (AE).
    """

    GOODS = "goods"
    SERVICES = "services"


PriceSource = Literal["list", "customer"]


def is_sku(value: str) -> bool:
    return bool(_SKU.match(value))


def decimals(amount: Decimal) -> int:
    """Significant decimal places: 19.990 has 2, 100 has 0."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def canonical(unit_price: Decimal, currency: str) -> Decimal:
    """The same value written with the currency's minor digits at least: 95 -> 95.00, 0.125
    stays 0.125, 19.990 -> 19.99 (so the wire never depends on how a price was typed)."""
    places = max(minor_units(currency), decimals(unit_price))
    return unit_price.quantize(Decimal(1).scaleb(-places))


# --- requests ---------------------------------------------------------------------------------


class ItemRequest(Model):
    """PUT /catalog/items/{sku}: the whole item (the SKU is in the path)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    unit: str = Field(json_schema_extra={"enum": list(UNITS)})  # what _known_unit admits
    tax_category: TaxCategory = Field(strict=False)  # lax only to take the enum's text values
    supply: Supply = Field(default=Supply.GOODS, strict=False)
    active: bool = True

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, code: str) -> str:
        if code not in UNITS:
            raise ValueError(f"'{code}' is not a supported UN/ECE rec 20 unit code")
        return code


class PriceRequest(Model):
    """PUT /catalog/items/{sku}/prices/{currency}: a list price, or a customer's price."""

    model_config = ConfigDict(extra="forbid", strict=True)

    unit_price: DecimalString
    customer_id: CustomerId | None = None


# --- the catalog ------------------------------------------------------------------------------


class CatalogItem(Model):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    unit: str
    tax_category: TaxCategory
    active: bool
    version: int
    supply: Supply = Supply.GOODS
    created_at: datetime
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "unit": self.unit,
            "tax_category": self.tax_category.value,
            "supply": self.supply.value,
            "active": self.active,
            "version": self.version,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


class Price(Model):
    """A list price (``customer_id`` None) or a customer's price, per unit, in one currency."""

    model_config = ConfigDict(frozen=True)

    sku: str
    currency: str
    unit_price: Decimal
    customer_id: str | None = None
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "currency": self.currency,
            "unit_price": str(self.unit_price),
            "customer_id": self.customer_id,
            "updated_at": clock.iso(self.updated_at),
        }


def upsert_item(
    sku: str, request: ItemRequest, current: CatalogItem | None
) -> tuple[CatalogItem, DomainEvent] | None:
    """The item as requested, the next version of ``current``; None when nothing changes."""
    if not is_sku(sku):
        raise ValueError(f"'{sku}' is not a SKU")
    now = clock.now()
    fields = request.model_dump()
    if current is None:
        item = CatalogItem.model_validate(
            {"sku": sku, "version": 1, "created_at": now, "updated_at": now, **fields}
        )
    elif all(getattr(current, name) == value for name, value in fields.items()):
        return None
    else:
        item = current.model_copy(
            update={**fields, "version": current.version + 1, "updated_at": now}
        )
    event = DomainEvent(
        detail_type="ItemUpserted",
        source=SOURCE,
        aggregate_id=sku,
        occurred_at=now,
        data={**item.to_wire(), "created": current is None},
    )
    return item, event


def set_price(
    sku: str, currency: str, unit_price: Decimal, customer_id: str | None, current: Price | None
) -> tuple[Price, DomainEvent] | None:
    """The new price (None when it equals ``current``). Refuses negatives and > 6 decimals."""
    minor_units(currency)
    if not unit_price.is_finite() or unit_price < 0:
        raise ValueError(f"a unit price is a non-negative amount, not {unit_price}")
    if decimals(unit_price) > MAX_PRICE_DECIMALS:
        raise ValueError(f"a unit price has at most 6 decimals, not {unit_price}")
    unit_price = canonical(unit_price, currency)
    if current is not None and current.unit_price == unit_price:
        return None
    now = clock.now()
    price = Price(
        sku=sku, currency=currency, unit_price=unit_price, customer_id=customer_id, updated_at=now
    )
    event = DomainEvent(
        detail_type="PriceSet",
        source=SOURCE,
        aggregate_id=sku,
        occurred_at=now,
        data={
            **price.to_wire(),
            "previous_unit_price": str(current.unit_price) if current else None,
        },
    )
    return price, event


def remove_customer_price(price: Price) -> DomainEvent:
    if price.customer_id is None:
        raise ValueError("only a customer's price is removed; a list price is replaced")
    return DomainEvent(
        detail_type="PriceRemoved",
        source=SOURCE,
        aggregate_id=price.sku,
        data={
            "sku": price.sku,
            "currency": price.currency,
            "customer_id": price.customer_id,
            "previous_unit_price": str(price.unit_price),
        },
    )


# --- pricing order lines ----------------------------------------------------------------------


class RequestedLine(Protocol):
    """A line to price: the order request's lines fit (``unit_price`` is what the caller states)."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> str | Decimal | None: ...


@dataclass(frozen=True)
class CatalogFacts:
    """What the store found for some SKUs in one currency, for one customer."""

    currency: str
    customer_id: str | None
    items: Mapping[str, CatalogItem] = field(default_factory=dict)
    list_prices: Mapping[str, Decimal] = field(default_factory=dict)
    customer_prices: Mapping[str, Decimal] = field(default_factory=dict)


class PricedLine(Model):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    unit: str
    tax_category: TaxCategory
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    price_source: PriceSource
    supply: Supply = Supply.GOODS

    def to_wire(self) -> dict[str, Any]:
        return {
            **self.model_dump(exclude={"unit_price", "line_total", "tax_category", "supply"}),
            "tax_category": self.tax_category.value,
            "supply": self.supply.value,
            "unit_price": str(self.unit_price),
            "line_total": str(self.line_total),
        }


class LineProblem(Model):
    """Why line ``index`` cannot be priced; ``field`` is the request field to blame."""

    model_config = ConfigDict(frozen=True)

    index: int
    field: Literal["sku", "unit_price"]
    detail: str

    @property
    def pointer(self) -> str:
        return f"#/lines/{self.index}/{self.field}"


@dataclass(frozen=True)
class Pricing:
    """Every line priced, or (``problems`` not empty) the reasons some lines cannot be."""

    lines: tuple[PricedLine, ...]
    problems: tuple[LineProblem, ...]


def price(lines: Sequence[RequestedLine], facts: CatalogFacts) -> Pricing:
    """Price each line: the customer's price, else the list price, times the quantity, half-up
    to the currency's minor unit. A stated unit price must equal ours (as a Decimal)."""
    currency = facts.currency
    minor_units(currency)
    priced: list[PricedLine] = []
    problems: list[LineProblem] = []
    for index, line in enumerate(lines):
        item = facts.items.get(line.sku)
        if item is None:
            problems.append(LineProblem(index=index, field="sku", detail=f"unknown SKU {line.sku}"))
            continue
        if not item.active:
            problems.append(
                LineProblem(index=index, field="sku", detail=f"SKU {line.sku} is not sold anymore")
            )
            continue
        source: PriceSource
        if line.sku in facts.customer_prices:
            ours, source = facts.customer_prices[line.sku], "customer"
        elif line.sku in facts.list_prices:
            ours, source = facts.list_prices[line.sku], "list"
        else:
            problems.append(
                LineProblem(
                    index=index, field="sku", detail=f"SKU {line.sku} has no price in {currency}"
                )
            )
            continue
        if line.unit_price is not None and _as_decimal(line.unit_price) != ours:
            problems.append(
                LineProblem(
                    index=index,
                    field="unit_price",
                    detail=(
                        f"the stated unit price {line.unit_price} differs from the "
                        f"{source} price {ours} {currency} of SKU {line.sku}"
                    ),
                )
            )
            continue
        priced.append(
            PricedLine(
                sku=item.sku,
                name=item.name,
                unit=item.unit,
                tax_category=item.tax_category,
                supply=item.supply,
                quantity=line.quantity,
                unit_price=ours,
                line_total=quantize(line.quantity * ours, currency),
                price_source=source,
            )
        )
    if problems:
        return Pricing(lines=(), problems=tuple(problems))
    return Pricing(lines=tuple(priced), problems=())


def _as_decimal(value: str | Decimal) -> Decimal | None:
    """The stated price as a Decimal; text that is no number never equals a price."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
