"""List invoices and credit notes by customer or by status, a page at a time.

By customer (gsi1): newest issue date first, legacy invoices included; ``issued_from`` and
``issued_to`` narrow the key range, the other filters apply to each page. By status (gsi2): by
due date (credit notes: issue date), oldest first; ``due_from`` and ``due_to`` narrow the key
range. A filtered page may hold fewer than ``limit`` documents and still have a next page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from functions.accounts.paging import invalid_cursor, only_customer
from shared import errors
from shared.domain.access import Principal
from shared.domain.dates import BusinessDate
from shared.domain.invoice import DocumentKind, InvoiceStatus
from shared.model import Model
from shared.store import invoices, readable, table
from shared.store.table import InvalidCursorError, Item, Page


class InvoiceQuery(Model):
    """The query string of GET /invoices (all optional; ``limit`` 1-100)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    status: InvoiceStatus | None = None
    kind: DocumentKind | None = None
    due_from: BusinessDate | None = None
    due_to: BusinessDate | None = None
    issued_from: BusinessDate | None = None
    issued_to: BusinessDate | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None

    @model_validator(mode="after")
    def _ordered_dates(self) -> InvoiceQuery:
        for first, last in (("due_from", "due_to"), ("issued_from", "issued_to")):
            start, end = getattr(self, first), getattr(self, last)
            if start and end and start > end:
                raise ValueError(f"'{first}' must not be after '{last}'")
        return self


def list_invoices(query: InvoiceQuery, principal: Principal) -> dict[str, Any]:
    """``{"invoices": [...], "next_cursor": ...}``."""
    customer_id = query.customer_id or only_customer(principal)
    try:
        if customer_id is not None:
            if not principal.may_act_for(customer_id):
                return {"invoices": [], "next_cursor": None, "skipped": []}
            page = _by_customer(customer_id, query)
        elif query.status is not None:
            page = _by_status(query.status, query)
        else:
            raise errors.InvalidQuery(
                [{"parameter": "customer_id", "detail": "give customer_id or status"}]
            )
    except InvalidCursorError:
        raise invalid_cursor() from None
    with readable.skipping() as skipped:  # an invoice that does not read is named, not fatal
        found = readable.each([item for item in page.items if _wanted(item, query)], invoices.wire)
    return {"invoices": found, "next_cursor": page.cursor, "skipped": readable.wire(skipped)}


def _by_customer(customer_id: str, query: InvoiceQuery) -> Page:
    partition = f"CUSTOMER#{customer_id}"
    _require_cursor_of(query.cursor, "gsi1", partition)
    return invoices.list_for_customer(
        customer_id,
        since=_iso(query.issued_from),
        until=_iso(query.issued_to),
        limit=query.limit,
        cursor=query.cursor,
    )


def _by_status(status: InvoiceStatus, query: InvoiceQuery) -> Page:
    _require_cursor_of(query.cursor, "gsi2", f"INVOICESTATUS#{status.value}")
    return invoices.list_by_status(
        status,
        due_from=_iso(query.due_from),
        due_to=_iso(query.due_to),
        limit=query.limit,
        cursor=query.cursor,
    )


def _wanted(item: Item, query: InvoiceQuery) -> bool:
    """The filters the key range did not apply."""
    kind = item.get("kind", DocumentKind.INVOICE.value)
    due = item.get("due_on") or item.get("due_date")
    issued = item.get("issued_on") or item.get("issue_date")
    return (
        item.get("entity") == "Invoice"
        and (query.status is None or item.get("status") == query.status.value)
        and (query.kind is None or kind == query.kind.value)
        and _within(due, query.due_from, query.due_to)
        and _within(issued, query.issued_from, query.issued_to)
    )


def _within(value: str | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start.isoformat()) and (
        end is None or value <= end.isoformat()
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _require_cursor_of(cursor: str | None, index: str, partition: str) -> None:
    """Refuse a cursor of another listing before DynamoDB does (with a 500)."""
    if not cursor:
        return
    key = table.from_dynamo(table._decode_cursor(cursor))
    if set(key) != {"pk", "sk", f"{index}pk", f"{index}sk"} or key[f"{index}pk"] != partition:
        raise InvalidCursorError(cursor)
