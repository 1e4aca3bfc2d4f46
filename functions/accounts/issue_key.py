"""Issue another key for a principal (rotation: the old key keeps working until revoked).

A key is named by the request (its Idempotency-Key). A retry whose first attempt stored the key,
then died before the answer was saved (or could not mirror it in API Gateway: 503), finds that
key among the principal's active keys: its secret never reached the caller, so the key gets a
new one (the first stops working), mirrored anew, and the retry answers the new secret instead of
issuing a second key.
"""

from __future__ import annotations

from pydantic import SecretStr

from functions.accounts import gateway_keys
from functions.accounts.get_principal import find_principal
from shared import errors, ids, request_scope
from shared.domain import principal as principal_domain
from shared.domain.access import Principal
from shared.domain.principal import IssuedKey, KeyRequest, PrincipalRecord, PrincipalTransitionError
from shared.store import principals
from shared.store.outbox import StaleStateError

ATTEMPTS = 3  # a key issued or revoked at the same moment moves the principal's version


def issue_key(principal_id: str, request: KeyRequest, caller: Principal) -> IssuedKey:
    key_id = request_scope.request_scoped_id("key")  # the same on a retry of this request
    for _ in range(ATTEMPTS):
        principal = find_principal(principal_id)
        try:
            if key_id is not None and key_id in principal.active_keys:
                # A retry whose first attempt stored the key, then died before answering
                return reissue(principal, key_id)
            return _issue(principal, request, caller, key_id)
        except StaleStateError:
            continue
    raise errors.Conflict("principal-busy", f"{principal_id} kept changing; retry")


def _issue(
    principal: PrincipalRecord, request: KeyRequest, caller: Principal, key_id: str | None
) -> IssuedKey:
    try:
        key, event = principal_domain.issue_key(
            principal, request.label, caller.principal_id, key_id=key_id
        )
    except PrincipalTransitionError as error:
        raise errors.Conflict("too-many-keys", str(error)) from None
    secret = ids.new_key()
    principals.add_key(principal, key, secret, [event])
    gateway_keys.mirror(principal, key, secret)
    return IssuedKey(principal=principal, key=key, secret=SecretStr(secret))


def reissue(principal: PrincipalRecord, key_id: str) -> IssuedKey:
    """An active key of ``principal`` (as read) with a new secret, whose old secret stops working:
    for a retry whose first attempt stored the key but whose answer never reached the caller.
    Raises ``StaleStateError`` when the principal or the key moved meanwhile."""
    key = principals.get_key(principal, key_id)
    if key is None:
        raise StaleStateError([])
    secret = ids.new_key()
    stored = principals.rotate_secret(principal, key, secret)
    gateway_keys.mirror(stored, key, secret)
    return IssuedKey(principal=stored, key=key, secret=SecretStr(secret))


def registered_before(prefix: str, key_id: str) -> IssuedKey | None:
    """For POST /partners and /staff on a failed create: the principal an earlier attempt of this
    request registered (under ``request_scoped_id(prefix)``), with its first key ``key_id``
    given a new secret; ``None`` when there is none. 409 when that key was revoked since."""
    made = request_scope.made_before(prefix, principals.get)
    if made is None:
        return None
    if key_id not in made.active_keys:
        raise errors.Conflict(
            "already-registered",
            f"{made.principal_id} was registered by an earlier attempt of this request and its "
            f"key revoked since; issue another with POST /principals/{made.principal_id}/keys",
        )
    return reissue(made, key_id)


def secret_for_replay(principal_id: str, key_id: str) -> str | None:
    """A new secret for a key whose answer is replayed (``None``: revoked or gone since)."""
    principal = principals.get(principal_id)
    if principal is None or key_id not in principal.active_keys:
        return None
    try:
        return reissue(principal, key_id).secret.get_secret_value()
    except StaleStateError:
        return None
