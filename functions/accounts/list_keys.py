"""A principal's keys, active and revoked: ids, labels, status and dates, never secrets."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from functions.accounts.get_principal import find_principal
from functions.accounts.paging import PageQuery, invalid_cursor
from shared.domain.principal import ApiKey
from shared.model import Model
from shared.store import principals, table


class KeyPage(Model):
    model_config = ConfigDict(frozen=True)

    items: list[ApiKey]
    next_cursor: str | None

    def to_wire(self) -> dict[str, Any]:
        return {"keys": [key.to_wire() for key in self.items], "next_cursor": self.next_cursor}


def list_keys(principal_id: str, query: PageQuery) -> KeyPage:
    find_principal(principal_id)
    try:
        keys, cursor = principals.list_keys(principal_id, limit=query.limit, cursor=query.cursor)
    except table.InvalidCursorError:
        raise invalid_cursor() from None
    return KeyPage(items=keys, next_cursor=cursor)
