"""Keep each key's API Gateway twin in step with it: issued, given a new secret, revoked.

A usage plan limits only callers whose key API Gateway knows, so every key issued (or given a new
secret) is mirrored there with the same value, and the twin goes when the key is revoked. The key
is stored first: when AWS fails after that, the request answers 503 and its retry (same
Idempotency-Key) gives the key a new secret and mirrors that one (``issue_key.reissue``).
"""

from __future__ import annotations

from typing import Any

from shared.adapters import gateway_keys
from shared.domain.principal import ApiKey, PrincipalRecord
from shared.store import principals


def mirror(principal: PrincipalRecord, key: ApiKey, secret: str) -> None:
    """The key's twin holds ``secret`` and sits in its role's usage plan (none configured: no
    twin); its id is noted beside the key."""
    plan = gateway_keys.plan_name(principal.role)
    if plan is None:
        return
    twin = gateway_keys.mirror(key.key_id, secret, plan)
    if not principals.record_gateway_key(secret, key.key_id, twin):
        gateway_keys.delete(twin)  # revoked (or given another secret) meanwhile


def drop(principal: PrincipalRecord, key: ApiKey) -> None:
    """The key's twin is gone (a revoked key's too, should an earlier attempt have died)."""
    if gateway_keys.plan_name(principal.role) is not None:
        gateway_keys.remove(key.key_id)


def coverage() -> dict[str, Any]:
    """How many active keys no twin mirrors yet, and which: while any is left, requiring API
    Gateway keys (RequireGatewayApiKeys) would lock their holders out."""
    missing = principals.active_keys_without_gateway_key()
    return {
        "active_keys_without_gateway_key": len(missing),
        "safe_to_require_gateway_keys": not missing,
        "keys": [{"principal_id": key.principal_id, "key_id": key.key_id} for key in missing],
    }
