"""Write the books a stack already holds into the lake, once (stacks older than the lake).

The landing worker lands what is committed from the moment it runs; what was committed before
is written here, with the same rows:

- the journal, documents and customers as the reports read them (``reports._books``: every
  customer's ledger and documents, the suspense ledger), each entry attributed to its open item
  with the documents at hand (``IndexedBooks.item_of``, which also places entries written before
  entries named their invoice), and a legacy invoice imported before opening-balance entries
  existed as the opening-balance entry its import books today (``landing.unbooked_openings``);
- every event item (one Scan of the table's event items, page by page: an operator's one-off
  job, never a request's), raw and as the order, payment and dispute facts it changed.

Running it again, or alongside the worker, only lands rows again: the lake's readers keep one
row per key (docs/lake.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.lake.facts import Landed, rows_of
from functions.lake.land import land
from shared import clock
from shared.adapters import aws
from shared.domain.reporting import IndexedBooks
from shared.lake import tables
from shared.lake.landing import unbooked_openings
from shared.store.table import from_dynamo, table_name

SCAN_PAGE = 500


def backfill() -> dict[str, Any]:
    """Land the books and every event; answer how many rows went to each table."""
    from functions.reporting.reports import _books

    now = clock.now()
    counts: Counter[str] = Counter(land(_book_rows(IndexedBooks(_books(now.date())), now)))
    for page in _event_pages():
        counts.update(land(row for item in page for row in rows_of(item)))
    return {"recorded_at": clock.iso(now), "rows": dict(sorted(counts.items()))}


def _book_rows(books: IndexedBooks, now: datetime) -> Iterator[Landed]:
    for entry in books.entries:
        item_id, _ = books.item_of(entry)
        for row in tables.journal_rows(entry, item_id):
            yield "journal", row
    for opening in unbooked_openings(books):  # legacy invoices imported before their entries
        for row in tables.journal_rows(opening, opening.invoice_id or opening.entry_id):
            yield "journal", row
    for fact in books.books.invoices:
        yield "documents", tables.document_row(fact, now)
    for customer_id, name in books.books.customer_names.items():
        yield "customers", tables.customer_row(customer_id, name, now)


def _event_pages() -> Iterator[list[dict[str, Any]]]:
    paginator = aws.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(
        TableName=table_name(),
        FilterExpression="entity = :event",
        ExpressionAttributeValues={":event": {"S": "Event"}},
        PaginationConfig={"PageSize": SCAN_PAGE},
    ):
        yield [from_dynamo(item) for item in page["Items"]]
