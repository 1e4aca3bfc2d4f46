"""Issue another key for a principal (rotation: the old key keeps working until revoked)."""

from __future__ import annotations

from pydantic import SecretStr

from functions.accounts.get_principal import find_principal
from shared.domain import principal as principal_domain
from shared.domain.principal import IssuedKey, KeyRequest, PrincipalTransitionError
from shared.http import auth, problems
from shared.http.auth import Action, Principal
from shared.store import principals
from shared.store.outbox import StaleStateError

ATTEMPTS = 3  # a key issued or revoked at the same moment moves the principal's version


def issue_key(principal_id: str, request: KeyRequest, caller: Principal) -> IssuedKey:
    caller.require(Action.MANAGE_ACCESS)
    for _ in range(ATTEMPTS):
        principal = find_principal(principal_id)
        try:
            key, event = principal_domain.issue_key(principal, request.label, caller.principal_id)
        except PrincipalTransitionError as error:
            raise problems.conflict("too-many-keys", str(error)) from None
        secret = auth.new_key()
        try:
            principals.add_key(principal, key, secret, [event])
        except StaleStateError:
            continue
        return IssuedKey(principal=principal, key=key, secret=SecretStr(secret))
    raise problems.conflict("principal-busy", f"{principal_id} kept changing; retry")
