"""Page through the catalog in SKU order."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from shared import errors
from shared.model import Model
from shared.store import catalog, table


class ItemQuery(Model):
    """The query string of GET /catalog/items (``limit`` 1-100, ``cursor`` of a previous page)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


def list_items(query: ItemQuery) -> dict[str, Any]:
    try:
        items, next_cursor = catalog.list_items(limit=query.limit, cursor=query.cursor)
    except table.InvalidCursorError:
        raise errors.InvalidQuery(
            [{"parameter": "cursor", "detail": "not the cursor of a previous page"}]
        ) from None
    return {"items": [item.to_wire() for item in items], "next_cursor": next_cursor}
