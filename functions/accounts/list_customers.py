"""List accounts by legal name, a page at a time. Partners list only their bound customers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict

from functions.accounts.paging import PageQuery, invalid_cursor
from shared.domain.access import Principal, Role
from shared.domain.customer import Customer
from shared.model import Model
from shared.store import customers, table


class CustomerPage(Model):
    model_config = ConfigDict(frozen=True)

    items: list[Customer]
    next_cursor: str | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "customers": [customer.to_wire() for customer in self.items],
            "next_cursor": self.next_cursor,
        }


def list_customers(principal: Principal, query: PageQuery) -> CustomerPage:
    if principal.role is Role.PARTNER:
        return bound_customers(principal, query)
    try:
        items, cursor = customers.list_page(limit=query.limit, cursor=query.cursor)
    except table.InvalidCursorError:
        raise invalid_cursor() from None
    return CustomerPage(items=items, next_cursor=cursor)


def bound_customers(
    principal: Principal, query: PageQuery, wanted: Callable[[Customer], bool] = lambda _: True
) -> CustomerPage:
    """A partner has at most a hundred customers: read them at once, page in memory (those
    ``wanted``)."""
    after = _decode(query.cursor) if query.cursor else ""
    sort_key = customers.listing_sort_key
    accounts = customers.get_many(sorted(principal.customer_ids))
    bound = sorted(filter(wanted, accounts), key=sort_key)
    rest = [customer for customer in bound if sort_key(customer) > after]
    page = rest[: query.limit]
    cursor = _encode(sort_key(page[-1])) if len(rest) > len(page) else None
    return CustomerPage(items=page, next_cursor=cursor)


def _encode(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode(cursor: str) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
        raise invalid_cursor() from None
    if not isinstance(after, str):
        raise invalid_cursor()
    return after
