"""Drop a customer's own price; the list price applies to that customer again (staff)."""

from __future__ import annotations

from functions.catalog import params
from shared import errors
from shared.store import catalog, outbox


def remove_customer_price(sku: str, currency: str, customer_id: str) -> None:
    params.sku(sku)
    params.currency(currency)
    params.customer_id(customer_id)
    try:
        removed = catalog.remove_customer_price(sku, currency, customer_id)
    except outbox.StaleStateError:
        raise errors.Conflict(
            "concurrent-update", f"the {currency} price of {sku} was changed meanwhile; try again"
        ) from None
    if not removed:
        raise errors.NotFound(f"a {currency} price of {sku} for customer {customer_id}")
