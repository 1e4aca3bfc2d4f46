"""GET /ledger/journal and GET /ledger/trial-balance: the books across customers.

The journal reads the entries posted from ``from`` to ``to`` (UTC days, both included) in
posting order from the journal index (shared/store/ledger.py: one partition per month, so a span
costs one query per month it touches), a page at a time; the document numbers the page's entries
refer to come in one BatchGetItem. The trial balance adds up every entry posted up to ``as_of``:
it reads every customer's ledger (and the suspense ledger of unidentified payers), as the aging
does, so it agrees with the views built from those ledgers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from functions.accounts.paging import invalid_cursor
from shared import clock
from shared.adapters.spreadsheets import Cell, Column, Kind, Sheet
from shared.config import chart_of_accounts
from shared.domain import journal
from shared.domain.dates import BusinessDate
from shared.domain.ledger import JournalEntry
from shared.model import Model
from shared.store import customers, invoices, payments, readable, table
from shared.store import ledger as ledger_store
from shared.store.table import InvalidCursorError

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
MAX_DAYS = 366
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
CUSTOMER_PAGE = 100


class JournalQuery(Model):
    """GET /ledger/journal: ``from`` and ``to`` (YYYY-MM-DD, both included, default today, at
    most 366 days), ``limit`` (entries per page, 1-500), ``cursor``, ``format`` (json, csv or
    xlsx; else the Accept header says: shared/http/negotiation.py)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: BusinessDate | None = Field(default=None, alias="from")
    end: BusinessDate | None = Field(default=None, alias="to")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    format: Literal["json", "csv", "xlsx"] | None = None

    @model_validator(mode="after")
    def _period(self) -> JournalQuery:
        start, end = self.period()
        if start > end:
            raise ValueError(f"'from' ({start}) is after 'to' ({end})")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValueError(f"a journal covers {MAX_DAYS} days at most")
        return self

    def period(self) -> tuple[date, date]:
        today = clock.now().date()
        end = self.end or (self.start if self.start and self.start > today else today)
        return self.start or end, end


class TrialBalanceQuery(Model):
    """GET /ledger/trial-balance: ``as_of`` (YYYY-MM-DD, default today)."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None


def read_journal(query: JournalQuery) -> dict[str, Any]:
    """``{"from", "to", "entries": [...], "next_cursor", "skipped"}``."""
    start, end = query.period()
    with readable.skipping() as skipped:
        entries, cursor = entries_between(start, end, limit=query.limit, cursor=query.cursor)
        wired = wire(entries)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "entries": wired,
        "next_cursor": cursor,
        "skipped": readable.wire(skipped),
    }


_TYPED: dict[str, Kind] = {
    "posting_date": "date",
    "line": "number",
    "debit": "money",
    "credit": "money",
}


def as_sheet(answer: dict[str, Any]) -> Sheet:
    """The journal's CSV rows as a sheet: posting dates as dates, amounts as numbers."""
    columns = tuple(Column(name, _TYPED.get(name, "text")) for name in journal.CSV_COLUMNS)
    convert: dict[str, Callable[[str], Cell]] = {
        "date": date.fromisoformat,
        "number": int,
        "money": Decimal,
    }
    rows: list[tuple[Cell, ...]] = [
        tuple(
            convert[column.kind](cell) if column.kind in convert else (cell or None)
            for column, cell in zip(columns, row, strict=True)
        )
        for row in journal.line_rows(answer["entries"])
    ]
    return Sheet("Journal", columns, rows)


def wire(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    """The entries as the journal shows them, with the numbers of the documents they name."""
    chart = chart_of_accounts()
    numbers = document_numbers(journal.referenced_documents(entries))
    return [journal.entry_wire(entry, chart, numbers) for entry in entries]


def entries_between(
    start: date, end: date, *, limit: int, cursor: str | None = None
) -> tuple[list[JournalEntry], str | None]:
    """Up to ``limit`` entries posted from ``start`` to ``end``, after ``cursor``, and the
    cursor of the next page (None: no more). A page may hold fewer and still have a next."""
    months = _months(start, end)
    first = 0
    if cursor:
        try:
            month, position = _cursor_position(cursor)
            first = months.index(month)
        except (InvalidCursorError, ValueError):
            raise invalid_cursor() from None
        lowest, highest = _span(month, start, end)
        if not lowest <= position <= f"{highest}~":
            raise invalid_cursor()  # DynamoDB refuses a start key outside the key range
    found: list[JournalEntry] = []
    taken = 0
    for month in months[first:]:
        first_day, last_day = _span(month, start, end)
        page = ledger_store.journal_page(
            month, first_day=first_day, last_day=last_day, limit=limit - taken, cursor=cursor
        )
        cursor = None
        taken += len(page.items)
        found += readable.each(page.items, ledger_store.from_item)
        if page.cursor or taken == limit:
            return found, page.cursor or _cursor_after(page.items[-1])
    return found, None


def all_entries_between(start: date, end: date) -> list[JournalEntry]:
    """Every entry posted from ``start`` to ``end``, in posting order."""
    entries: list[JournalEntry] = []
    cursor: str | None = None
    while True:
        page, cursor = entries_between(start, end, limit=MAX_LIMIT, cursor=cursor)
        entries += page
        if cursor is None:
            return entries


def document_numbers(document_ids: set[str]) -> dict[str, str]:
    """Invoice or credit note id -> its number, for those stored as documents."""
    items = table.get_many(invoices.invoice_key(document) for document in sorted(document_ids))
    return {
        item["invoice_id"]: str(item["number"])
        for item in items
        if item.get("invoice_id") and item.get("number")
    }


def read_trial_balance(query: TrialBalanceQuery) -> dict[str, Any]:
    """The trial balance at the end of ``as_of`` (UTC), with ``skipped``."""
    as_of = query.as_of or clock.now().date()
    with readable.skipping() as skipped:
        report = journal.trial_balance(_every_entry(), chart_of_accounts(), as_of)
    return {**report, "skipped": readable.wire(skipped)}


def _every_entry() -> Iterator[JournalEntry]:
    """Every customer's ledger, then the suspense ledger of unidentified payers."""
    cursor: str | None = None
    while True:
        page, cursor = customers.list_page(limit=CUSTOMER_PAGE, cursor=cursor)
        for customer in page:
            yield from ledger_store.entries_for(customer.customer_id)
        if not cursor:
            break
    yield from ledger_store.entries_for(payments.UNIDENTIFIED)


def _cursor_position(cursor: str) -> tuple[str, str]:
    """The month and the index sort key a cursor of the journal index stands at;
    InvalidCursorError if it is not one."""
    key = table.from_dynamo(table._decode_cursor(cursor))
    partition = key.get("gsi2pk", "")
    if set(key) != {"pk", "sk", "gsi2pk", "gsi2sk"} or not partition.startswith(
        ledger_store.JOURNAL_PREFIX
    ):
        raise InvalidCursorError(cursor)
    return str(partition.removeprefix(ledger_store.JOURNAL_PREFIX)), str(key["gsi2sk"])


def _span(month: str, start: date, end: date) -> tuple[str, str]:
    """The first and last day of ``month`` inside ``start``..``end``, as ISO dates."""
    first = date.fromisoformat(f"{month}-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return max(start, first).isoformat(), min(end, last).isoformat()


def _cursor_after(item: dict[str, Any]) -> str:
    """The cursor of the page that follows ``item`` in the journal index."""
    key = {name: item[name] for name in ("pk", "sk", "gsi2pk", "gsi2sk")}
    return table._encode_cursor(table.to_dynamo(key))


def _months(start: date, end: date) -> list[str]:
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    return months
