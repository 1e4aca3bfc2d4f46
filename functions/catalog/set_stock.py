"""Set a SKU's on-hand quantity after a count (staff); version 0 starts tracking it."""

from __future__ import annotations

from functions.catalog import params, stock_refusals
from shared import errors
from shared.domain.stock import SetOnHandRequest, StockError, StockLevel
from shared.store import catalog
from shared.store import stock as stock_store


def set_stock(sku: str, request: SetOnHandRequest) -> tuple[StockLevel, bool]:
    """The new level, and whether tracking started."""
    if catalog.get_item(params.sku(sku)) is None:
        raise errors.NotFound(f"item {sku}")
    try:
        return stock_store.set_on_hand(sku, request.on_hand, request.version, request.reason)
    except StockError as error:
        raise stock_refusals.refused(sku, error) from None
