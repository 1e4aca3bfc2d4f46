"""GET /customers?q=: accounts whose legal name holds ``q`` (case-insensitive) or whose VAT id
starts with it (both in python-stdnum's compact form: "DE 123 456 789" finds DE123456789).

Staff search walks the listing index (by legal name) a page of ``PAGE`` at a time and reads at
most ``MAX_PAGES`` pages per request (2,000 accounts); a request that stops there answers the
matches it found and a ``next_cursor`` that goes on where it stopped, so a page of results may
hold fewer than ``limit`` and still have a next. A partner searches its bound customers (a
hundred at most), paged as its listing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

from functions.accounts.list_customers import CustomerPage, bound_customers
from functions.accounts.paging import PageQuery, invalid_cursor
from shared.domain.access import Principal, Role
from shared.domain.customer import Customer
from shared.domain.text import SingleLine
from shared.store import customers, table

PAGE = 100
MAX_PAGES = 20
MAX_QUERY = 100


def compact_vat(text: str) -> str:
    """``text`` as python-stdnum compacts a VAT id: no spaces, dots, dashes or slashes, upper
    case (and a country's own rules where its prefix is known)."""
    from stdnum.eu import vat
    from stdnum.exceptions import ValidationError
    from stdnum.util import clean

    try:
        return str(vat.compact(text))
    except ValidationError:
        return str(clean(text, " -./")).upper().strip()


def _searchable(text: str) -> str:
    if not any(char.isalnum() for char in text):
        raise ValueError("a search holds at least one letter or digit")
    return text


SearchText = Annotated[str, SingleLine(max_length=MAX_QUERY), AfterValidator(_searchable)]


class CustomerQuery(PageQuery):
    """GET /customers: ``limit``, ``cursor`` and ``q`` (a legal name's part or a VAT id)."""

    q: SearchText | None = Field(default=None)


def search_customers(principal: Principal, query: CustomerQuery) -> CustomerPage:
    assert query.q is not None
    wanted = _matcher(query.q)
    if principal.role is Role.PARTNER:
        return bound_customers(principal, query, wanted)
    found: list[Customer] = []
    cursor = query.cursor
    try:
        for _ in range(MAX_PAGES):
            page, cursor = customers.list_page(limit=PAGE, cursor=cursor)
            for customer in page:
                if wanted(customer):
                    found.append(customer)
                    if len(found) == query.limit:
                        return CustomerPage(items=found, next_cursor=customers.cursor_at(customer))
            if not cursor:
                break
    except table.InvalidCursorError:
        raise invalid_cursor() from None
    return CustomerPage(items=found, next_cursor=cursor)


def _matcher(q: str) -> Callable[[Customer], bool]:
    name, vat = q.casefold(), compact_vat(q)

    def wanted(customer: Customer) -> bool:
        if name in customer.legal_name.casefold():
            return True
        return bool(customer.tax_id) and compact_vat(customer.tax_id or "").startswith(vat)

    return wanted
