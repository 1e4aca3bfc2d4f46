"""Stock moves the levels refuse, as the API answers them: 409 with the level's current version."""

from __future__ import annotations

from shared import errors
from shared.domain.stock import StockError
from shared.store import stock as stock_store


def refused(sku: str, error: StockError) -> errors.DomainError:
    current = stock_store.get_level(sku)
    return errors.Conflict(
        error.kind, str(error), current_version=current.version if current.tracked else None
    )
