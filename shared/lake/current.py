"""The current aging: the positions a nightly snapshot kept (sql/positions.sql at the end of its
day) rolled forward by what moved since (sql/movements.sql over the days after it), so an aging
of today reads one snapshot and the days' partitions, never the whole history.

``Positions`` is what the snapshot stores (``to_wire``, ``to_csv``) and reads back
(``from_wire``); ``roll`` adds the movements; ``aging`` buckets the result as
shared/domain/aging.py does. An item the snapshot did not hold and whose due date the days do
not tell (an item closed at the snapshot and reopened since) cannot be placed: ``roll`` raises
``Unplaceable`` and the caller reads the whole lake instead.
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
from shared.domain.aging import AgingReport
from shared.domain.reporting import ZERO

Key = tuple[str, str, str]  # customer, currency, item
Found = Sequence[Mapping[str, Any]]


class Unplaceable(Exception):
    """An item moved since the snapshot whose due date only the whole history tells."""


@dataclass(frozen=True)
class Positions:
    """Open items (amount and due date) and money held, per customer and currency, at the end
    of ``as_of``; the customers' names as last recorded."""

    as_of: date
    items: Mapping[Key, tuple[date, Decimal]]
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
                    "due_on": due_on.isoformat(),
                    "amount": str(amount),
                }
                for (customer, currency, item), (due_on, amount) in sorted(self.items.items())
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
                (row["customer_id"], row["currency"], row["item_id"]): (
                    date.fromisoformat(row["due_on"]),
                    Decimal(row["amount"]),
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
        writer.writerow(["as_of", "customer_id", "currency", "item_id", "due_on", "amount"])
        day = self.as_of.isoformat()
        for (customer, currency, item), (due_on, amount) in sorted(self.items.items()):
            writer.writerow([day, customer, currency, item, due_on.isoformat(), str(amount)])
        for (customer, currency), amount in sorted(self.held.items()):
            writer.writerow([day, customer, currency, "", "", str(amount)])
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
    for (customer, currency, _item), (due_on, amount) in positions.items.items():
        overdue = (positions.as_of - due_on).days
        buckets[(currency, customer)][aging_domain.bucket_of(overdue, edges)] += amount
        counts[(currency, customer)] += 1
    held = {(currency, customer): amount for (customer, currency), amount in positions.held.items()}
    known = {**(names or {}), **positions.names}
    return aging_domain.assemble(positions.as_of, edges, buckets, counts, held, known)


def _gathered(start: Positions, found: Found, as_of: date, *, rolling: bool) -> Positions:
    items = dict(start.items)
    held = dict(start.held)
    names = dict(start.names)
    for row in found:
        customer = row["customer_id"]
        if row["customer_name"] is not None:
            names[customer] = row["customer_name"]
        if row["currency"] is None:  # a customer named in the days, nothing moved
            continue
        amount = _decimal(row["amount"])
        if row["item_id"] is None:
            key = (customer, row["currency"])
            held[key] = held.get(key, ZERO) + amount
            if not held[key]:
                del held[key]
            continue
        _move(items, (customer, row["currency"], row["item_id"]), row["due_on"], amount, rolling)
    return Positions(as_of, items, held, names)


def _move(
    items: dict[Key, tuple[date, Decimal]],
    key: Key,
    due_on: Any,
    amount: Decimal,
    rolling: bool,
) -> None:
    if key in items:
        kept, before = items[key]
        due, amount = kept, before + amount
    elif due_on is None:
        if not amount and rolling:
            return
        raise Unplaceable(key[2])
    else:
        due = _day(due_on)
    if amount:
        items[key] = (due, amount)
    else:
        items.pop(key, None)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
