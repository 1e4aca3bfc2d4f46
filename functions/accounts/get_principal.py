"""Find a partner or a staff member (GET /partners/{id}, /staff/{id}: admins only)."""

from __future__ import annotations

from shared import errors
from shared.domain.principal import Kind, PrincipalRecord
from shared.store import principals

MAX_ID_LENGTH = 64


def find_principal(principal_id: str, kind: Kind | None = None) -> PrincipalRecord:
    """The principal (of ``kind``, when given), or 404."""
    found = principals.get(principal_id) if len(principal_id) <= MAX_ID_LENGTH else None
    if found is None or (kind is not None and found.kind != kind):
        raise errors.NotFound(f"{kind or 'principal'} {principal_id}")
    return found
