"""The open invoices cash application matches payments against.

The sparse ``open_by_due`` index holds the keys of every open, partially paid or disputed
invoice (writes that settle an invoice drop them), so reading it costs what is open, not what
the table holds. The index projects keys only: its pages give the invoice keys, and one
strongly consistent BatchGetItem per 100 of them gives the invoices as last written. The index
itself is eventually consistent, so an invoice paid a moment ago may still be listed: what the
invoice item says decides, and only invoices with something due are offered.

Legacy invoices imported from the old system carry the index keys too. Those booked in the
ledger at import (an opening-balance entry) are offered like ours, read as receivables by
``invoices.legacy_receivable``; those imported before that entry existed are not in the ledger,
and cash application leaves them to clerks (``skipped`` counts them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.adapters import aws
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.matching import OpenInvoice
from shared.store import invoices, table
from shared.store.table import Item, from_dynamo, to_dynamo

INDEX = "open_by_due"
PAGE_SIZE = 1000


@dataclass(frozen=True)
class OpenBook:
    """The open invoices as read: in matching's terms, and as documents to write back."""

    invoices: dict[str, Invoice] = field(default_factory=dict)  # by invoice id, as read
    skipped: int = 0  # open items cash application does not match (legacy, not booked)

    @property
    def candidates(self) -> list[OpenInvoice]:
        return [OpenInvoice.from_invoice(invoice) for invoice in self.invoices.values()]


def read() -> OpenBook:
    """Every invoice with an amount due, oldest due first (the index's order)."""
    keys = list(_keys(index_items()))
    found: dict[str, Invoice] = {}
    skipped = 0
    for item in sorted(table.get_many(keys), key=lambda item: item.get("open_due_sk", "")):
        if invoices.is_legacy(item) and not invoices.is_booked_legacy(item):
            skipped += 1
            continue
        invoice = (
            invoices.legacy_receivable(item)
            if invoices.is_legacy(item)
            else invoices.from_item(item)
        )
        if invoice.kind is DocumentKind.INVOICE and invoice.amount_due > 0 and invoice.due_on:
            found[invoice.invoice_id] = invoice
    return OpenBook(invoices=found, skipped=skipped)


def due_before(day: date) -> Iterator[tuple[str, str]]:
    """The (pk, sk) of every open invoice due before ``day`` (overdue on it), oldest due first.

    The index sort key starts with the due date, so ``open_due_sk < "<day>"`` is exactly the
    invoices due on an earlier day: a Query of the index, never a Scan.
    """
    return _keys(index_items(below=day.isoformat()))


def index_items(*, below: str | None = None, through: str | None = None) -> Iterator[Item]:
    """The items of the open-by-due index (keys only), oldest due first, page by page.

    ``below`` and ``through`` bound the sort key ``<due>#<customer>#<number>`` (exclusive and
    inclusive): a Query of the index, whose reads grow with what it finds, never a Scan.
    """
    expression = "open_due_pk = :open"
    values: dict[str, Any] = {":open": invoices.OPEN_PARTITION}
    if below is not None:
        expression += " AND open_due_sk < :below"
        values[":below"] = below
    elif through is not None:
        expression += " AND open_due_sk <= :through"
        values[":through"] = through
    request: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": INDEX,
        "KeyConditionExpression": expression,
        "ExpressionAttributeValues": to_dynamo(values),
        "Limit": PAGE_SIZE,
    }
    while True:
        answer = aws.client("dynamodb").query(**request)
        yield from (from_dynamo(raw) for raw in answer["Items"])
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def _keys(items: Iterator[Item]) -> Iterator[tuple[str, str]]:
    return ((item["pk"], item["sk"]) for item in items)
