"""Register a staff member with a role (admin, credit_manager, ar_clerk, auditor) and a key."""

from __future__ import annotations

from pydantic import SecretStr

from shared.domain import principal as principal_domain
from shared.domain.principal import IssuedKey, StaffRequest
from shared.http import auth
from shared.http.auth import Action, Principal
from shared.store import principals


def create_staff(request: StaffRequest, caller: Principal) -> IssuedKey:
    caller.require(Action.MANAGE_ACCESS)
    staff, created = principal_domain.new_staff(request, caller.principal_id)
    key, issued = principal_domain.issue_key(staff, None, caller.principal_id)
    secret = auth.new_key()
    stored = principals.create(staff, key, secret, [created, issued])
    return IssuedKey(principal=stored, key=key, secret=SecretStr(secret))
