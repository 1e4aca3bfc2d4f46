"""The analytics lake's tables: the columns each row holds, and the rows the books' facts make.

The lake holds the same immutable facts the reports read (shared/domain/reporting.py ``Books``),
one table each, append-only:

- ``journal``: one row per posting of a journal entry, with the open item the entry moves
  (``item_id``: the invoice, the fee or interest charge, or the entry itself when it names
  none) so a query never re-derives the attribution;
- ``documents``: every issued invoice and credit note (and imported legacy invoice) as issued;
- ``orders``, ``payments``, ``disputes``: the dated event facts the KPIs read. Their facts grow
  (an order confirmed, then shipped), so a later row for the same id supersedes the earlier
  ones: the row with the latest ``recorded_at`` wins;
- ``customers``: the customer's id and name as last recorded (latest ``recorded_at`` wins);
- ``events``: every committed domain event as it was written (its ``data`` as JSON text).

Every table is partitioned by ``dt``, the UTC day (``yyyy-mm-dd``) its row was recorded (for
``journal``, the day the entry was posted; for ``events``, the day it occurred). Rows here are
plain dicts of Python values (``str``, ``Decimal``, ``datetime`` in UTC, ``date``, ``bool``,
None); the writers serialise them (Parquet, or JSON lines with decimals as strings and instants
as ISO 8601: shared/lake/records.py).

The column types are the lake's (Glue / Athena / DuckDB): ``string``, ``boolean``, ``date``,
``timestamp`` (UTC, millisecond precision) and ``decimal(20,4)`` for money.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.domain.ledger import JournalEntry
from shared.domain.reporting import (
    Books,
    DisputeFact,
    IndexedBooks,
    InvoiceFact,
    OrderFact,
    PaymentFact,
)

Row = dict[str, Any]
MONEY = "decimal(20,4)"
PARTITION = "dt"

COLUMNS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "journal": (
        ("entry_id", "string"),
        ("customer_id", "string"),
        ("currency", "string"),
        ("posted_at", "timestamp"),
        ("kind", "string"),
        ("source_id", "string"),
        ("invoice_id", "string"),
        ("payment_id", "string"),
        ("charge_id", "string"),
        ("item_id", "string"),
        ("account", "string"),
        ("dimension", "string"),
        ("debit", MONEY),
        ("credit", MONEY),
    ),
    "documents": (
        ("invoice_id", "string"),
        ("customer_id", "string"),
        ("number", "string"),
        ("currency", "string"),
        ("kind", "string"),
        ("issued_on", "date"),
        ("due_on", "date"),
        ("total", MONEY),
        ("credited_invoice_id", "string"),
        ("legacy", "boolean"),
        ("open_amount", MONEY),
        ("recorded_at", "timestamp"),
    ),
    "orders": (
        ("order_id", "string"),
        ("customer_id", "string"),
        ("currency", "string"),
        ("confirmed_at", "timestamp"),
        ("shipped_complete_at", "timestamp"),
        ("recorded_at", "timestamp"),
    ),
    "payments": (
        ("payment_id", "string"),
        ("customer_id", "string"),
        ("currency", "string"),
        ("received_at", "timestamp"),
        ("auto_applied_at", "timestamp"),
        ("recorded_at", "timestamp"),
    ),
    "disputes": (
        ("invoice_id", "string"),
        ("currency", "string"),
        ("opened_at", "timestamp"),
        ("closed_at", "timestamp"),
        ("recorded_at", "timestamp"),
    ),
    "customers": (
        ("customer_id", "string"),
        ("legal_name", "string"),
        ("recorded_at", "timestamp"),
    ),
    "events": (
        ("event_id", "string"),
        ("detail_type", "string"),
        ("source", "string"),
        ("aggregate_id", "string"),
        ("occurred_at", "timestamp"),
        ("actor", "string"),
        ("data", "string"),
    ),
}


def day_of(moment: datetime) -> str:
    """The partition a moment falls in (its UTC day)."""
    return moment.astimezone(UTC).date().isoformat()


def journal_rows(entry: JournalEntry, item_id: str) -> list[Row]:
    """One row per posting; ``item_id`` is the open item the entry moves
    (``IndexedBooks.item_of``)."""
    head = {
        "entry_id": entry.entry_id,
        "customer_id": entry.customer_id,
        "currency": entry.currency,
        "posted_at": entry.posted_at,
        "kind": entry.kind,
        "source_id": entry.source_id,
        "invoice_id": entry.invoice_id,
        "payment_id": entry.payment_id,
        "charge_id": entry.charge_id,
        "item_id": item_id,
    }
    return [
        {
            **head,
            "account": posting.account.value,
            "dimension": posting.dimension,
            "debit": posting.debit,
            "credit": posting.credit,
        }
        for posting in entry.postings
    ]


def item_of(entry: JournalEntry) -> str:
    """The open item an entry moves, from the entry alone.

    Entries name what they move (``invoice_id``, ``charge_id``; a fee or interest charge is its
    own item); only entries written before those fields existed need the documents (a credit
    note's credited invoice), which ``IndexedBooks.item_of`` over the whole books reads.
    """
    return IndexedBooks(Books(entries=(entry,), invoices=())).item_of(entry)[0]


def event_row(
    *,
    event_id: str,
    detail_type: str,
    source: str,
    aggregate_id: str,
    occurred_at: datetime,
    actor: str,
    data: Mapping[str, Any],
) -> Row:
    return {
        "event_id": event_id,
        "detail_type": detail_type,
        "source": source,
        "aggregate_id": aggregate_id,
        "occurred_at": occurred_at,
        "actor": actor,
        "data": json.dumps(data, separators=(",", ":"), sort_keys=True),
    }


def document_row(fact: InvoiceFact, recorded_at: datetime) -> Row:
    return {**fact.model_dump(), "recorded_at": recorded_at}


def order_row(fact: OrderFact, recorded_at: datetime) -> Row:
    return {**fact.model_dump(), "recorded_at": recorded_at}


def payment_row(fact: PaymentFact, customer_id: str | None, recorded_at: datetime) -> Row:
    return {**fact.model_dump(), "customer_id": customer_id, "recorded_at": recorded_at}


def dispute_row(fact: DisputeFact, recorded_at: datetime) -> Row:
    return {**fact.model_dump(), "recorded_at": recorded_at}


def customer_row(customer_id: str, legal_name: str, recorded_at: datetime) -> Row:
    return {"customer_id": customer_id, "legal_name": legal_name, "recorded_at": recorded_at}


def partition_of(table: str, row: Row) -> str:
    """The ``dt`` a row lands in: the day it was posted, occurred or recorded (UTC)."""
    moment = {"journal": "posted_at", "events": "occurred_at"}.get(table, "recorded_at")
    return day_of(row[moment])


def column_names(table: str) -> list[str]:
    return [name for name, _ in COLUMNS[table]]


def is_complete(table: str, row: Row) -> bool:
    """The row has exactly the table's columns."""
    return sorted(row) == sorted(column_names(table))
