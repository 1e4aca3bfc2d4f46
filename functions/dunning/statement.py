"""A customer's statement of account (GET /customers/{customer_id}/statement), as JSON or PDF.

The statement is built from the customer's ledger and invoices as read now (see
shared/domain/statement.py). As JSON it is the answer itself; as a PDF it is rendered, stored
in the documents bucket at ``account-statements/<customer id>/<from>_<to>.pdf`` (encrypted by the
bucket's default key, like invoices) and answered as a presigned link valid five minutes.

The aging is what the ledger had open at the statement's end, item by item as the aging report
counts it (invoices, legacy invoices, fees and interest), with the money then held for the
customer; days past due are counted to the statement's end.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from shared import clock, errors
from shared.adapters import documents
from shared.config import seller as configured_seller
from shared.domain import statement as statement_domain
from shared.domain.access import Principal
from shared.domain.customer import Customer
from shared.domain.dates import BusinessDate
from shared.domain.reporting import Books, IndexedBooks
from shared.domain.statement import Statement
from shared.model import Model
from shared.store import customers, invoices, readable
from shared.store import ledger as ledger_store
from shared.store.table import Item

PREFIX = "account-statements"
LINK_SECONDS = 300
DEFAULT_DAYS = 90
MAX_YEARS = 3
MAX_ID_LENGTH = 64
PDF_CONTENT_TYPE = "application/pdf"


class StatementFormat(StrEnum):
    JSON = "json"
    PDF = "pdf"


class StatementQuery(Model):
    """The query string of GET /customers/{id}/statement (``from`` and ``to`` YYYY-MM-DD)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: BusinessDate | None = Field(default=None, alias="from")
    end: BusinessDate | None = Field(default=None, alias="to")
    format: StatementFormat = StatementFormat.JSON

    def period(self, today: date) -> tuple[date, date]:
        """(from, to): ``to`` defaults to ``today``, ``from`` to 90 days before ``to``."""
        end = self.end or today
        back = timedelta(days=DEFAULT_DAYS)
        start = self.start or max(end, date.min + back) - back  # not before the first day
        if start > end:
            raise errors.InvalidQuery(
                [{"parameter": "from", "detail": f"'from' ({start}) is after 'to' ({end})"}]
            )
        if start < _years_before(end, MAX_YEARS):
            raise errors.InvalidQuery(
                [{"parameter": "from", "detail": f"a statement covers {MAX_YEARS} years at most"}]
            )
        return start, end


class UnknownCustomerError(LookupError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} does not exist")
        self.customer_id = customer_id


def statement_for(
    customer_id: str, start: date, end: date, *, customer: Customer | None = None
) -> Statement:
    """The customer's statement of ``start``..``end`` (raises UnknownCustomerError);
    ``customer``: its account as the caller just read it (not read again)."""
    customer = customer or customers.get(customer_id)
    if customer is None:
        raise UnknownCustomerError(customer_id)
    return _statement(customer, start, end)


def read_statement(customer_id: str, query: StatementQuery, principal: Principal) -> dict[str, Any]:
    """The statement (JSON), or a link to its PDF; another partner's customer answers 404."""
    if len(customer_id) > MAX_ID_LENGTH or not principal.may_act_for(customer_id):
        raise errors.NotFound(f"customer {customer_id}")
    start, end = query.period(clock.now().date())
    try:
        with readable.skipping() as skipped:  # a record that does not read is named, not fatal
            statement = statement_for(customer_id, start, end)
    except UnknownCustomerError:
        raise errors.NotFound(f"customer {customer_id}") from None
    answer = statement.to_wire() if query.format is StatementFormat.JSON else pdf_link(statement)
    return answer | {"skipped": readable.wire(skipped)}


def pdf_link(statement: Statement) -> dict[str, Any]:
    """Render and store the statement's PDF; a presigned GET of it, valid LINK_SECONDS."""
    from functions.dunning.statement_pdf import render_pdf  # fpdf only on this path

    key = document_key(statement)
    documents.write(key, render_pdf(statement), content_type=PDF_CONTENT_TYPE)
    return {
        "url": documents.share(key, seconds=LINK_SECONDS, filename=file_name(statement)),
        "expires_in": LINK_SECONDS,
    }


def document_key(statement: Statement) -> str:
    return f"{PREFIX}/{statement.customer_id}/{statement.start}_{statement.end}.pdf"


def file_name(statement: Statement) -> str:
    return f"statement-{statement.customer_id}-{statement.start}_{statement.end}.pdf"


# --- reading ------------------------------------------------------------------------------------


def _statement(customer: Customer, start: date, end: date) -> Statement:
    facts = readable.each(_documents_until(customer.customer_id, end), invoices.fact)
    entries = ledger_store.entries_for(customer.customer_id)
    books = IndexedBooks(Books(entries=entries, invoices=facts))
    currency = customer.currency
    seller = configured_seller()
    return statement_domain.build(
        customer_id=customer.customer_id,
        customer_name=customer.legal_name,
        currency=currency,
        start=start,
        end=end,
        entries=entries,
        open_invoices=statement_domain.open_items(books, customer.customer_id, currency, end),
        unapplied=books.unapplied(end).get((customer.customer_id, currency), Decimal(0)),
        numbers={fact.invoice_id: fact.number for fact in facts},
        customer_address=_address_lines(customer),
        seller=seller.party,
        payment=seller.payment,
    )


def _documents_until(customer_id: str, end: date) -> list[Item]:
    """Every document of the customer issued on or before ``end`` (legacy invoices too)."""
    found: list[Item] = []
    cursor: str | None = None
    while True:
        page = invoices.list_for_customer(
            customer_id, since=None, until=end.isoformat(), limit=100, cursor=cursor
        )
        found += page.items
        if not (cursor := page.cursor):
            return found


def _address_lines(customer: Customer) -> list[str]:
    address = customer.billing_address
    if address is None:
        return []
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    lines = [address.line1, *([address.line2] if address.line2 else []), city]
    return [*lines, ", ".join(part for part in (address.region, address.country) if part)]


def _years_before(day: date, years: int) -> date:
    if day.year <= years:
        return date.min  # the calendar's first day is as far back as it goes
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
