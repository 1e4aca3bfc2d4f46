"""Receive or write off units of a stock-tracked SKU (staff)."""

from __future__ import annotations

from functions.catalog import params, stock_refusals
from shared import errors
from shared.domain.stock import AdjustmentRequest, StockError, StockLevel
from shared.store import catalog
from shared.store import stock as stock_store


def adjust_stock(sku: str, request: AdjustmentRequest) -> StockLevel:
    if catalog.get_item(params.sku(sku)) is None:
        raise errors.NotFound(f"item {sku}")
    try:
        return stock_store.adjust(sku, request.delta, request.reason)
    except StockError as error:
        raise stock_refusals.refused(sku, error) from None
