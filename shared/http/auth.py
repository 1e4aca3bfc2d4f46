"""API keys: a key is looked up by its SHA-256 hash; the raw key is never stored or logged.

Authentication is one strongly consistent GetItem on the hash: the key item carries everything a
request needs (principal, role, bound customers), and a revoked key fails from the next request
on (an eventually consistent read could still see it active for a moment).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared import clock, ids
from shared.domain.access import PERMISSIONS, Action, Principal, Role
from shared.http import problems
from shared.ids import new_key
from shared.store import readable, table

# Imported from here too (the principal moved to the domain).
__all__ = ["PERMISSIONS", "Action", "Principal", "Role", "new_key"]

HEADER = "x-api-key"
MAX_KEY_LENGTH = 128


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def key_item(
    raw_key: str,
    principal: Principal,
    *,
    key_id: str | None = None,
    created_at: datetime | None = None,
    label: str | None = None,
) -> dict[str, object]:
    """The item of an active key: found by the hash, listed per principal on gsi1 by key id."""
    key_id = key_id or ids.new_id("key")
    return {
        "pk": key_pk(hash_key(raw_key)),
        "sk": "APIKEY",
        "entity": "ApiKey",
        "gsi1pk": f"PRINCIPAL#{principal.principal_id}",
        "gsi1sk": f"KEY#{key_id}",
        "key_id": key_id,
        "label": label,
        "principal_id": principal.principal_id,
        "role": principal.role.value,
        "customer_ids": sorted(principal.customer_ids),
        "status": "active",
        "created_at": clock.iso(created_at or clock.now()),
    }


def authenticate(headers: Mapping[str, str]) -> Principal:
    raw_key = headers.get(HEADER, "")
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        raise problems.unauthorized()
    item = table.get(key_pk(hash_key(raw_key)), "APIKEY", consistent=True)
    if not item or item.get("status") != "active":
        raise problems.unauthorized()
    try:
        return readable.record(item, _caller)
    except readable.UnreadableRecord:  # logged and counted by its key; the key works for no one
        raise problems.unauthorized() from None


def _caller(item: dict[str, Any]) -> Principal:
    return Principal(
        principal_id=item["principal_id"],
        role=Role(item["role"]),
        customer_ids=frozenset(item.get("customer_ids", [])),
    )
