"""Revoke a key: from the next request on it answers 401, and its API Gateway twin is gone.
Revoking it again changes nothing (but removes a twin an earlier attempt left)."""

from __future__ import annotations

from functions.accounts import gateway_keys
from functions.accounts.get_principal import find_principal
from shared import errors
from shared.domain import principal as principal_domain
from shared.domain.access import Principal
from shared.domain.principal import ApiKey
from shared.store import principals
from shared.store.outbox import StaleStateError

ATTEMPTS = 3  # a key issued or revoked at the same moment moves the principal's version
MAX_ID_LENGTH = 64


def revoke_key(principal_id: str, key_id: str, caller: Principal) -> ApiKey:
    for _ in range(ATTEMPTS):
        principal = find_principal(principal_id)
        key = principals.get_key(principal, key_id) if len(key_id) <= MAX_ID_LENGTH else None
        if key is None:
            known = (
                principals.find_key(principal_id, key_id) if len(key_id) <= MAX_ID_LENGTH else None
            )
            if known is not None and known.status == "revoked":
                gateway_keys.drop(principal, known)
                return known
            raise errors.NotFound(f"key {key_id} of {principal_id}")
        if key.status == "revoked":
            gateway_keys.drop(principal, key)
            return key
        revoked, event = principal_domain.revoke_key(key, caller.principal_id)
        try:
            principals.revoke_key(principal, revoked, [event])
        except StaleStateError:
            continue
        gateway_keys.drop(principal, revoked)
        return revoked
    raise errors.Conflict("principal-busy", f"{principal_id} kept changing; retry")
