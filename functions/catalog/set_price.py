"""Set an item's list price in a currency, or a customer's own price (staff)."""

from __future__ import annotations

from decimal import Decimal

from functions.catalog import params
from shared.domain.pricing import Price, PriceRequest
from shared.http import problems
from shared.store import catalog, customers, outbox


def set_price(sku: str, currency: str, request: PriceRequest) -> tuple[Price, bool]:
    """The price as stored, and whether it is new."""
    params.sku(sku)
    params.currency(currency)
    if catalog.get_item(sku) is None:
        raise problems.not_found(f"item {sku}")
    if request.customer_id is not None and customers.get(request.customer_id) is None:
        raise problems.not_found(f"customer {request.customer_id}")
    try:
        return catalog.set_price(sku, currency, Decimal(request.unit_price), request.customer_id)
    except outbox.StaleStateError:
        raise problems.conflict(
            "concurrent-update", f"the {currency} price of {sku} was changed meanwhile; try again"
        ) from None
