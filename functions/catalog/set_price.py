"""Set an item's list price in a currency, or a customer's own price (staff)."""

from __future__ import annotations

from decimal import Decimal

from functions.catalog import params
from shared import errors
from shared.domain.pricing import Price, PriceRequest
from shared.store import catalog, customers, outbox


def set_price(sku: str, currency: str, request: PriceRequest) -> tuple[Price, bool]:
    """The price as stored, and whether it is new."""
    params.sku(sku)
    params.currency(currency)
    if catalog.get_item(sku) is None:
        raise errors.NotFound(f"item {sku}")
    if request.customer_id is not None and customers.get(request.customer_id) is None:
        raise errors.NotFound(f"customer {request.customer_id}")
    try:
        return catalog.set_price(sku, currency, Decimal(request.unit_price), request.customer_id)
    except outbox.StaleStateError:
        raise errors.Conflict(
            "concurrent-update", f"the {currency} price of {sku} was changed meanwhile; try again"
        ) from None
