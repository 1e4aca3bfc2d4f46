"""Register a staff member with a role (admin, credit_manager, ar_clerk, auditor) and a key."""

from __future__ import annotations

from pydantic import SecretStr

from functions.accounts import gateway_keys
from functions.accounts.issue_key import registered_before
from shared import ids, request_scope
from shared.domain import principal as principal_domain
from shared.domain.access import Principal
from shared.domain.principal import IssuedKey, StaffRequest
from shared.store import principals
from shared.store.outbox import StaleStateError


def create_staff(request: StaffRequest, caller: Principal) -> IssuedKey:
    # The staff member and its key are named the same on a retry of this request
    staff, created = principal_domain.new_staff(
        request, caller.principal_id, principal_id=request_scope.request_scoped_id("stf")
    )
    key, issued = principal_domain.issue_key(
        staff, None, caller.principal_id, key_id=request_scope.request_scoped_id("key")
    )
    secret = ids.new_key()
    try:
        stored = principals.create(staff, key, secret, [created, issued])
    except StaleStateError:
        # A retry whose first attempt registered the staff member, then died before answering:
        # the key's first secret never reached the caller, the key gets a new one.
        if registered := registered_before("stf", key.key_id):
            return registered
        raise
    gateway_keys.mirror(stored, key, secret)
    return IssuedKey(principal=stored, key=key, secret=SecretStr(secret))
