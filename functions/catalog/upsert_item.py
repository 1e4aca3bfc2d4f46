"""Create or replace a catalog item (staff)."""

from __future__ import annotations

from functions.catalog import params
from shared import errors
from shared.domain.pricing import CatalogItem, ItemRequest
from shared.store import catalog, outbox


def upsert_item(sku: str, request: ItemRequest) -> tuple[CatalogItem, bool]:
    """The item as stored, and whether it was created."""
    try:
        return catalog.put_item(params.sku(sku), request)
    except outbox.StaleStateError:
        raise errors.Conflict(
            "concurrent-update", f"item {sku} was changed meanwhile; try again"
        ) from None
