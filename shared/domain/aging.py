"""AR aging as of any day, rebuilt from the books (shared.domain.reporting: what was open)."""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict

from shared.domain.money import quantize
from shared.domain.reporting import (
    ZERO,
    Books,
    IndexedBooks,
)
from shared.domain.text import spreadsheet_cell
from shared.model import Model

DEFAULT_EDGES = (30, 60, 90)
MAX_EDGES = 8


def bucket_labels(edges: Sequence[int]) -> tuple[str, ...]:
    """``(30, 60, 90)`` -> current, 1-30, 31-60, 61-90, 90+ (days past due)."""
    labels = ["current"]
    low = 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{edges[-1]}+")
    return tuple(labels)


def check_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Edges ascending above 0 (ValueError otherwise)."""
    chosen = tuple(int(edge) for edge in edges)
    if not chosen or len(chosen) > MAX_EDGES:
        raise ValueError(f"between 1 and {MAX_EDGES} bucket edges")
    if chosen[0] < 1 or any(b <= a for a, b in itertools.pairwise(chosen)):
        raise ValueError("bucket edges are whole days above 0, ascending")
    return chosen


def bucket_of(days_past_due: int, edges: Sequence[int]) -> int:
    """0 for current (not past due), then 1.. per edge, the last for beyond the last edge."""
    if days_past_due <= 0:
        return 0
    for index, edge in enumerate(edges, start=1):
        if days_past_due <= edge:
            return index
    return len(edges) + 1


class AgingRow(Model):
    """One customer's (or the total's) open receivables by bucket, in one currency."""

    model_config = ConfigDict(frozen=True)

    customer_id: str | None  # None on the total
    customer_name: str | None
    buckets: tuple[Decimal, ...]
    total: Decimal  # the sum of the buckets: open receivables
    unapplied: Decimal  # money held for the customer (received, not applied; credit owed)
    balance: Decimal  # total less unapplied: what the customer owes net
    open_items: int

    def to_wire(self, labels: Sequence[str], currency: str) -> dict[str, Any]:
        def money(amount: Decimal) -> str:
            return str(quantize(amount, currency))

        named = {"customer_id": self.customer_id, "customer_name": self.customer_name}
        return {
            **(named if self.customer_id is not None else {}),
            "buckets": {
                label: money(amount) for label, amount in zip(labels, self.buckets, strict=True)
            },
            "total": money(self.total),
            "unapplied": money(self.unapplied),
            "balance": money(self.balance),
            "open_items": self.open_items,
        }


class AgingCurrency(Model):
    model_config = ConfigDict(frozen=True)

    currency: str
    customers: tuple[AgingRow, ...]  # by total, largest first
    totals: AgingRow


class AgingReport(Model):
    """AR aging as of the end of ``as_of`` (UTC), per currency, per customer and in total."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    edges: tuple[int, ...]
    currencies: tuple[AgingCurrency, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return bucket_labels(self.edges)

    def to_wire(self) -> dict[str, Any]:
        labels = self.labels
        return {
            "as_of": self.as_of.isoformat(),
            "edges": list(self.edges),
            "buckets": list(labels),
            "currencies": [
                {
                    "currency": group.currency,
                    "customers": [row.to_wire(labels, group.currency) for row in group.customers],
                    "totals": group.totals.to_wire(labels, group.currency),
                }
                for group in self.currencies
            ],
        }

    def to_csv(self) -> str:
        """One row per customer and currency, then a TOTAL row per currency."""
        labels = self.labels
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                *("as_of", "currency", "customer_id", "customer_name"),
                *labels,
                *("total", "unapplied", "balance", "open_items"),
            ]
        )
        for group in self.currencies:
            for row in (*group.customers, group.totals):
                writer.writerow(
                    [
                        self.as_of.isoformat(),
                        group.currency,
                        row.customer_id or "TOTAL",
                        spreadsheet_cell(row.customer_name or ""),
                        *(str(quantize(amount, group.currency)) for amount in row.buckets),
                        str(quantize(row.total, group.currency)),
                        str(quantize(row.unapplied, group.currency)),
                        str(quantize(row.balance, group.currency)),
                        row.open_items,
                    ]
                )
        return out.getvalue()


def aging(books: Books, as_of: date, edges: Sequence[int] = DEFAULT_EDGES) -> AgingReport:
    """What was open at the end of ``as_of``, by days past due, per customer and currency."""
    edges = check_edges(edges)
    ledger = IndexedBooks(books)
    width = len(edges) + 2
    buckets: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * width)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for item in ledger.open_items(as_of):
        key = (item.currency, item.customer_id)
        buckets[key][bucket_of((as_of - item.due_on).days, edges)] += item.amount
        counts[key] += 1
    held = {
        (currency, customer): amount
        for (customer, currency), amount in ledger.unapplied(as_of).items()
    }
    return assemble(as_of, edges, buckets, counts, held, books.customer_names)


def assemble(  # noqa: PLR0917 (the report's parts, in its order)
    as_of: date,
    edges: tuple[int, ...],
    buckets: Mapping[tuple[str, str], Sequence[Decimal]],
    counts: Mapping[tuple[str, str], int],
    held: Mapping[tuple[str, str], Decimal],
    names: Mapping[str, str],
) -> AgingReport:
    """The report from its parts, each keyed by (currency, customer): the open amounts by
    bucket, the open items' count, the money held; a customer without a name shows its id."""
    width = len(edges) + 2
    groups = []
    for currency in sorted({currency for currency, _ in {*buckets, *held}}):
        keys = sorted(key for key in {*buckets, *held} if key[0] == currency)
        rows = [
            _row(
                customer,
                names.get(customer, customer),
                buckets.get((currency, customer), [ZERO] * width),
                held.get((currency, customer), ZERO),
                counts.get((currency, customer), 0),
            )
            for _, customer in keys
        ]
        rows.sort(key=lambda row: (-row.total, row.customer_id or ""))
        sums = [sum((row.buckets[i] for row in rows), ZERO) for i in range(width)]
        totals = _row(
            None,
            None,
            sums,
            sum((row.unapplied for row in rows), ZERO),
            sum(row.open_items for row in rows),
        )
        groups.append(AgingCurrency(currency=currency, customers=tuple(rows), totals=totals))
    return AgingReport(as_of=as_of, edges=edges, currencies=tuple(groups))


def _row(
    customer_id: str | None,
    name: str | None,
    buckets: Sequence[Decimal],
    unapplied: Decimal,
    count: int,
) -> AgingRow:
    total = sum(buckets, ZERO)
    return AgingRow(
        customer_id=customer_id,
        customer_name=name,
        buckets=tuple(buckets),
        total=total,
        unapplied=unapplied,
        balance=total - unapplied,
        open_items=count,
    )
