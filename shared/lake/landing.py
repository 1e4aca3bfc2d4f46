"""The lake's rows for a set of books (shared/domain/reporting.py ``Books``).

What lands is what the reports read, with the attribution they would derive resolved once:

- every journal entry's rows carry the open item it moves (``IndexedBooks.item_of``), so an
  entry stored before entries named their invoice (attributed by memo, source id or the credit
  note's document) lands already attributed;
- a legacy invoice imported before opening-balance entries existed (``legacy`` with no
  ``opening_balance`` entry in the ledger) lands as the opening-balance entry the import would
  book today (``ledger.for_opening_balance``: its open amount, dated its issue day), so the
  queries read every open item from the journal alone;
- a payment's customer is the one whose ledger received it (None for one never booked).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from shared.domain import ledger
from shared.domain.ledger import JournalEntry
from shared.domain.reporting import Books, IndexedBooks
from shared.lake import tables
from shared.lake.tables import Row


def book_rows(books: Books, recorded_at: datetime) -> dict[str, list[Row]]:
    """Every table's rows for ``books``; facts without a time of their own are recorded at
    ``recorded_at``."""
    indexed = IndexedBooks(books)
    payers = {
        entry.payment_id: entry.customer_id
        for entry in indexed.entries
        if entry.kind == "payment" and entry.payment_id
    }
    return {
        "journal": [
            *(
                row
                for entry in indexed.entries
                for row in tables.journal_rows(entry, indexed.item_of(entry)[0])
            ),
            *(
                row
                for entry in unbooked_openings(indexed)
                for row in tables.journal_rows(entry, entry.invoice_id or entry.entry_id)
            ),
        ],
        "documents": [tables.document_row(fact, recorded_at) for fact in books.invoices],
        "orders": [tables.order_row(fact, recorded_at) for fact in books.orders],
        "payments": [
            tables.payment_row(fact, payers.get(fact.payment_id), recorded_at)
            for fact in books.payments
        ],
        "disputes": [tables.dispute_row(fact, recorded_at) for fact in books.disputes],
        "customers": [
            tables.customer_row(customer_id, name, recorded_at)
            for customer_id, name in books.customer_names.items()
        ],
    }


def unbooked_openings(indexed: IndexedBooks) -> Iterator[JournalEntry]:
    """The opening-balance entries of legacy invoices the ledger does not hold."""
    for fact in indexed.books.invoices:
        if fact.legacy and fact.invoice_id not in indexed.booked and fact.open_amount > 0:
            yield ledger.for_opening_balance(
                fact.customer_id,
                fact.currency,
                fact.invoice_id,
                fact.number,
                fact.open_amount,
                fact.issued_on,
            )
