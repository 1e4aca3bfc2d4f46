"""The current aging and open items: the positions a nightly snapshot kept (sql/positions.sql at
the end of its day) rolled forward by what moved since (sql/movements.sql over the days after
it), so a report of today reads one snapshot and the days' partitions, never the whole history.

``Positions`` is what the snapshot stores (``to_wire``, ``to_csv``) and reads back
(``from_wire``); ``roll`` adds the movements; ``aging`` buckets the result as
shared/domain/aging.py does, ``open_items`` lists it as shared/domain/open_items.py does. An
item the snapshot did not hold and whose due date the days do not tell (an item closed at the
snapshot and reopened since) cannot be placed: ``roll`` raises ``Unplaceable`` and the caller
reads the whole lake instead. An item whose description (number, issue day) neither tells (a
snapshot taken before positions described their items; a charge on an invoice the snapshot did
not hold open and the days did not issue) ages, but is not listed: ``open_items`` raises
``Unplaceable``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared.domain import aging as aging_domain
from shared.domain import open_items as open_items_domain
from shared.domain.aging import AgingReport
from shared.domain.open_items import OpenItemsReport
from shared.domain.reporting import ZERO
from shared.domain.statement import OpenInvoice

Key = tuple[str, str, str]  # customer, currency, item
Found = Sequence[Mapping[str, Any]]
_ABOUT = ("kind", "number", "issued_on", "legacy")


class Unplaceable(Exception):
    """An item moved since the snapshot whose due date (or description) only the whole history
    tells."""


@dataclass(frozen=True)
class About:
    """What an open-items row says of an item besides its due day and amount."""

    kind: str
    number: str
    issued_on: date
    legacy: bool

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "issued_on": self.issued_on.isoformat(),
            "legacy": self.legacy,
        }

    @classmethod
    def read(cls, row: Mapping[str, Any]) -> About | None:
        """From a row's ``kind``, ``number``, ``issued_on`` and ``legacy``; None when it has no
        number."""
        if row.get("number") is None:
            return None
        legacy = row["legacy"]
        return cls(
            kind=str(row["kind"]),
            number=str(row["number"]),
            issued_on=_day(row["issued_on"]),
            legacy=legacy if isinstance(legacy, bool) else str(legacy).lower() == "true",
        )


@dataclass(frozen=True)
class Position:
    """An open item's due day and open amount, and its description when known."""

    due_on: date
    amount: Decimal
    about: About | None = None


@dataclass(frozen=True)
class Positions:
    """Open items and money held, per customer and currency, at the end of ``as_of``; the
    customers' names as last recorded."""

    as_of: date
    items: Mapping[Key, Position]
    held: Mapping[tuple[str, str], Decimal]
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, found: Found, as_of: date) -> Positions:
        """From sql/positions.sql's rows."""
        return _gathered(cls(as_of, {}, {}), found, as_of, rolling=False)

    def to_wire(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "items": [
                {
                    "customer_id": customer,
                    "currency": currency,
                    "item_id": item,
                    "due_on": position.due_on.isoformat(),
                    "amount": str(position.amount),
                    **(position.about.to_wire() if position.about else {}),
                }
                for (customer, currency, item), position in sorted(self.items.items())
            ],
            "held": [
                {"customer_id": customer, "currency": currency, "amount": str(amount)}
                for (customer, currency), amount in sorted(self.held.items())
            ],
            "names": dict(sorted(self.names.items())),
        }

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Positions:
        return cls(
            as_of=date.fromisoformat(wire["as_of"]),
            items={
                (row["customer_id"], row["currency"], row["item_id"]): Position(
                    date.fromisoformat(row["due_on"]), Decimal(row["amount"]), About.read(row)
                )
                for row in wire["items"]
            },
            held={
                (row["customer_id"], row["currency"]): Decimal(row["amount"])
                for row in wire["held"]
            },
            names=dict(wire.get("names", {})),
        )

    def to_csv(self) -> str:
        """One row per open item, then one per customer's money held (item_id empty)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = ["as_of", "customer_id", "currency", "item_id", "due_on", "amount", *_ABOUT]
        writer.writerow(header)
        day = self.as_of.isoformat()
        for (customer, currency, item), position in sorted(self.items.items()):
            about = position.about.to_wire() if position.about else {}
            described = [about.get(name, "") for name in _ABOUT]
            due_on, open_amount = position.due_on.isoformat(), str(position.amount)
            writer.writerow([day, customer, currency, item, due_on, open_amount, *described])
        for (customer, currency), amount in sorted(self.held.items()):
            writer.writerow([day, customer, currency, "", "", str(amount), *[""] * len(_ABOUT)])
        return out.getvalue()


def roll(start: Positions, found: Found, as_of: date) -> Positions:
    """``start`` with sql/movements.sql's rows (the days after ``start.as_of`` up to ``as_of``)
    added (``Unplaceable`` when an item cannot be placed)."""
    if as_of < start.as_of:
        raise ValueError(f"positions of {start.as_of} do not roll back to {as_of}")
    return _gathered(start, found, as_of, rolling=True)


def aging(
    positions: Positions,
    edges: Sequence[int] = aging_domain.DEFAULT_EDGES,
    names: Mapping[str, str] | None = None,
) -> AgingReport:
    """The aging of the positions at the end of their day; ``names`` name customers the
    positions do not."""
    edges = aging_domain.check_edges(edges)
    width = len(edges) + 2
    buckets: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * width)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for (customer, currency, _item), position in positions.items.items():
        overdue = (positions.as_of - position.due_on).days
        buckets[(currency, customer)][aging_domain.bucket_of(overdue, edges)] += position.amount
        counts[(currency, customer)] += 1
    held = {(currency, customer): amount for (customer, currency), amount in positions.held.items()}
    known = {**(names or {}), **positions.names}
    return aging_domain.assemble(positions.as_of, edges, buckets, counts, held, known)


def open_items(
    positions: Positions,
    edges: Sequence[int] = aging_domain.DEFAULT_EDGES,
    names: Mapping[str, str] | None = None,
) -> OpenItemsReport:
    """The open items of the positions at the end of their day (``Unplaceable`` when one is
    not described); ``names`` name customers the positions do not."""
    owned = []
    # in the books' order (customer, currency, item), which the report's sort keeps for ties
    for (customer, currency, item_id), position in sorted(positions.items.items()):
        if (about := position.about) is None:
            raise Unplaceable(item_id)
        item = OpenInvoice(
            invoice_id=item_id,
            number=about.number,
            issued_on=about.issued_on,
            due_on=position.due_on,
            amount_due=position.amount,
            legacy=about.legacy,
            kind=about.kind,
        )
        owned.append((customer, currency, item))
    known = {**(names or {}), **positions.names}
    return open_items_domain.report(positions.as_of, edges, owned, known)


def _gathered(start: Positions, found: Found, as_of: date, *, rolling: bool) -> Positions:
    items = dict(start.items)
    held = dict(start.held)
    names = dict(start.names)
    charged_on: dict[Key, str] = {}  # new charges numbered by an invoice the positions hold
    for row in found:
        customer = row["customer_id"]
        if row["customer_name"] is not None:
            names[customer] = row["customer_name"]
        if row["currency"] is None:  # a customer named in the days, nothing moved
            continue
        amount = _decimal(row["amount"])
        if row["item_id"] is None:
            owner = (customer, row["currency"])
            held[owner] = held.get(owner, ZERO) + amount
            if not held[owner]:
                del held[owner]
            continue
        key = (customer, row["currency"], row["item_id"])
        if key not in items and row.get("charged_invoice_id") is not None:
            charged_on[key] = row["charged_invoice_id"]
        _move(items, key, row, amount, rolling)
    _number_charges(items, start.items, charged_on)
    return Positions(as_of, items, held, names)


def _move(
    items: dict[Key, Position], key: Key, row: Mapping[str, Any], amount: Decimal, rolling: bool
) -> None:
    if key in items:
        kept = items[key]
        position = Position(kept.due_on, kept.amount + amount, kept.about)
    elif row["due_on"] is None:
        if not amount and rolling:
            return
        raise Unplaceable(key[2])
    else:
        position = Position(_day(row["due_on"]), amount, About.read(row))
    if position.amount:
        items[key] = position
    else:
        items.pop(key, None)


def _number_charges(
    items: dict[Key, Position], held_before: Mapping[Key, Position], charged_on: Mapping[Key, str]
) -> None:
    """Number each new charge by its invoice as the positions before described it (left
    undescribed when they did not hold that invoice)."""
    numbers = {
        item_id: position.about.number
        for (_customer, _currency, item_id), position in held_before.items()
        if position.about is not None and position.about.kind == "invoice"
    }
    for key, invoice_id in charged_on.items():
        if key in items and invoice_id in numbers:
            kept = items[key]
            about = About(key[2].split(":", 1)[0], numbers[invoice_id], kept.due_on, False)
            items[key] = Position(kept.due_on, kept.amount, about)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
