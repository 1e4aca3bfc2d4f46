"""List orders by customer (optionally by status) or by status, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from functions.accounts.paging import only_customer
from shared import errors
from shared.domain.access import Principal
from shared.domain.dates import BusinessDate
from shared.domain.order import Order, OrderStatus
from shared.model import Model
from shared.store import orders, readable
from shared.store.table import InvalidCursorError


class OrderQuery(Model):
    """The query string of GET /orders (all optional; ``limit`` 1-100)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    status: OrderStatus | None = None
    created_from: BusinessDate | None = Field(default=None, alias="from")
    created_to: BusinessDate | None = Field(default=None, alias="to")
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _ordered_dates(self) -> OrderQuery:
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("'from' must not be after 'to'")
        return self


class OrderList(Model):
    orders: list[Order]
    next_cursor: str | None
    skipped: list[dict[str, str]] = []  # stored orders that did not read (readable.Skipped)


def list_orders(query: OrderQuery, principal: Principal) -> OrderList:
    customer_id = query.customer_id or only_customer(principal)
    since = query.created_from.isoformat() if query.created_from else None
    until = query.created_to.isoformat() if query.created_to else None
    try:
        if customer_id is not None:
            if not principal.may_act_for(customer_id):
                return OrderList(orders=[], next_cursor=None)
            page = orders.list_for_customer(
                customer_id, since=since, until=until, limit=query.limit, cursor=query.cursor
            )
        elif query.status is not None:
            page = orders.list_by_status(
                query.status, since=since, until=until, limit=query.limit, cursor=query.cursor
            )
        else:
            raise errors.InvalidQuery(
                [{"parameter": "customer_id", "detail": "give customer_id or status"}]
            )
    except InvalidCursorError:
        raise errors.InvalidQuery(
            [{"parameter": "cursor", "detail": "not a cursor this API gave"}]
        ) from None
    with readable.skipping() as skipped:  # an order that does not read is named, not fatal
        found = readable.each(page.items, orders.from_item)
    if query.status is not None:
        found = [order for order in found if order.status is query.status]
    return OrderList(orders=found, next_cursor=page.cursor, skipped=readable.wire(skipped))
