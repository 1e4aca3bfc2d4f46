"""Read an item with its list prices (anyone who may read)."""

from __future__ import annotations

from typing import Any

from shared import errors
from shared.store import catalog


def get_item(sku: str) -> dict[str, Any]:
    item, prices = catalog.get_item_with_prices(sku)
    if item is None:
        raise errors.NotFound(f"item {sku}")
    return {
        **item.to_wire(),
        "prices": {price.currency: str(price.unit_price) for price in prices},
    }
