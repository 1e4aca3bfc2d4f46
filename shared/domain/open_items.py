"""The open-items list: every item open at the end of a day, as the aging counts them, one row
each with what the customer knows it by (number, issue day, kind), its days past due and its
aging bucket. Built alike from the books (``from_books``) and from the lake's positions
(shared/lake/current.py), so both answer the same rows to the cent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.domain import aging, statement
from shared.domain.money import quantize
from shared.domain.reporting import IndexedBooks
from shared.domain.statement import OpenInvoice

Owned = tuple[str, str, OpenInvoice]  # customer, currency, the item


@dataclass(frozen=True)
class OpenItemsReport:
    as_of: date
    edges: tuple[int, ...]
    items: tuple[dict[str, Any], ...]

    def to_wire(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "buckets": list(aging.bucket_labels(self.edges)),
            "items": list(self.items),
        }


def report(
    as_of: date, edges: Sequence[int], owned: Iterable[Owned], names: Mapping[str, str]
) -> OpenItemsReport:
    """The rows of ``owned`` at the end of ``as_of``, sorted by currency, customer name (``names``,
    else the id) and due day."""
    edges = aging.check_edges(edges)
    labels = aging.bucket_labels(edges)
    rows = []
    for customer_id, currency, item in owned:
        days = (as_of - item.due_on).days
        rows.append(
            {
                "customer_id": customer_id,
                "customer_name": names.get(customer_id, customer_id),
                "currency": currency,
                "item_id": item.invoice_id,
                "kind": item.kind,
                "number": item.number,
                "issued_on": item.issued_on.isoformat(),
                "due_on": item.due_on.isoformat(),
                "days_past_due": max(days, 0),
                "bucket": labels[aging.bucket_of(days, edges)],
                "amount": str(quantize(item.amount_due, currency)),
                "legacy": item.legacy,
            }
        )
    rows.sort(
        key=lambda row: (row["currency"], str(row["customer_name"]).casefold(), row["due_on"])
    )
    return OpenItemsReport(as_of, edges, tuple(rows))


def from_books(
    books: IndexedBooks, as_of: date, edges: Sequence[int] = aging.DEFAULT_EDGES
) -> OpenItemsReport:
    owned = [
        (item.customer_id, item.currency, statement.open_invoice(books, item))
        for item in books.open_items(as_of)
    ]
    return report(as_of, edges, owned, books.books.customer_names)
