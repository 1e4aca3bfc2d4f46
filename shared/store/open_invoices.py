"""The open invoices cash application matches payments against.

The sparse ``open_by_due`` index holds the keys of every open, partially paid or disputed
invoice (writes that settle an invoice drop them), so reading it costs what is open, not what
the table holds. The index projects keys only: its pages give the invoice keys, and one
strongly consistent BatchGetItem per 100 of them gives the invoices as last written. The index
itself is eventually consistent, so an invoice paid a moment ago may still be listed: what the
invoice item says decides, and only invoices with something due are offered.

Legacy invoices imported from the old system carry the index keys too, but no document and no
journal entry of ours; cash application leaves them to clerks (``skipped`` counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.adapters import aws
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.matching import OpenInvoice
from shared.store import invoices, table
from shared.store.table import from_dynamo, to_dynamo

INDEX = "open_by_due"
PAGE_SIZE = 1000


@dataclass(frozen=True)
class OpenBook:
    """The open invoices as read: in matching's terms, and as documents to write back."""

    invoices: dict[str, Invoice] = field(default_factory=dict)  # by invoice id, as read
    skipped: int = 0  # open items cash application does not match (legacy)

    @property
    def candidates(self) -> list[OpenInvoice]:
        return [OpenInvoice.from_invoice(invoice) for invoice in self.invoices.values()]


def read() -> OpenBook:
    """Every invoice with an amount due, oldest due first (the index's order)."""
    keys = list(_index_keys())
    found: dict[str, Invoice] = {}
    skipped = 0
    for item in sorted(table.get_many(keys), key=lambda item: item.get("open_due_sk", "")):
        if invoices.is_legacy(item):
            skipped += 1
            continue
        invoice = invoices.from_item(item)
        if invoice.kind is DocumentKind.INVOICE and invoice.amount_due > 0 and invoice.due_on:
            found[invoice.invoice_id] = invoice
    return OpenBook(invoices=found, skipped=skipped)


def _index_keys() -> Any:
    """The (pk, sk) of every item in the open-by-due index, page by page."""
    request: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": INDEX,
        "KeyConditionExpression": "open_due_pk = :open",
        "ExpressionAttributeValues": to_dynamo({":open": invoices.OPEN_PARTITION}),
        "Limit": PAGE_SIZE,
    }
    while True:
        answer = aws.client("dynamodb").query(**request)
        for raw in answer["Items"]:
            item = from_dynamo(raw)
            yield item["pk"], item["sk"]
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last
