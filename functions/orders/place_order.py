"""Place an order for a customer the caller may act for, priced by the server (received)."""

from __future__ import annotations

from collections.abc import Callable

from functions.catalog.price_lines import price_lines
from shared import errors, request_scope
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.customer import CustomerStatus
from shared.domain.order import Order, OrderRequest
from shared.store import catalog, customers, orders, outbox, table
from shared.store.table import Write


def place_order(
    request: OrderRequest,
    principal: Principal,
    answer_record: Callable[[Order], Write] | None = None,
) -> Order:
    """Place the order; ``answer_record`` (if given) is the record of the request's answer to
    write in the same transaction, ``request_scope.AnsweredBefore`` raised when it exists."""
    if not principal.may_act_for(request.customer_id):
        raise errors.NotFound(f"customer {request.customer_id}")
    skus = [line.sku for line in request.lines]
    with table.reading_ahead(  # the customer and the catalog in one call
        [
            customers.customer_key(request.customer_id),
            *catalog.lookup_keys(skus, request.currency, request.customer_id),
        ]
    ):
        return _place(request, principal, answer_record)


def _place(
    request: OrderRequest, principal: Principal, answer_record: Callable[[Order], Write] | None
) -> Order:
    customer = customers.get(request.customer_id)
    if customer is None:
        raise errors.NotFound(f"customer {request.customer_id}")
    if customer.status is CustomerStatus.CLOSED:
        raise errors.Unprocessable("customer-closed", f"customer {customer.customer_id} is closed")
    if request.currency != customer.currency:
        raise errors.Unprocessable(
            "currency-mismatch",
            f"{customer.customer_id} is invoiced in {customer.currency}, not {request.currency}",
            errors=[{"pointer": "#/currency", "detail": f"must be {customer.currency}"}],
        )
    priced = price_lines(request.lines, request.currency, request.customer_id)
    order_id = request_scope.request_scoped_id("ord")  # the same on a retry of this request
    order, event = order_domain.place(
        request, priced, principal.principal_id, tracked={}, order_id=order_id
    )
    recorded = [answer_record(order)] if answer_record else []
    try:
        outbox.commit([orders.new(order), *recorded], [event], created=[order.order_id])
    except outbox.StaleStateError as stale:
        if recorded and 1 in stale.failed:
            raise request_scope.AnsweredBefore(order.order_id) from stale
        # A retry whose first attempt placed the order, then died before its answer was saved.
        placed = orders.get(order.order_id) if order_id else None
        if placed is None:
            raise
        return placed
    return order
