"""Read a SKU's stock: staff see the whole level, partners what may be promised."""

from __future__ import annotations

from typing import Any

from shared import errors
from shared.domain.access import Principal, Role
from shared.store import catalog
from shared.store import stock as stock_store


def get_stock(sku: str, principal: Principal) -> dict[str, Any]:
    level = stock_store.get_level(sku)
    # a stock item exists only for a catalog item: the catalog is read only when there is none
    if not level.tracked and catalog.get_item(sku) is None:
        raise errors.NotFound(f"item {sku}")
    return level.to_wire(full=principal.role is not Role.PARTNER)
