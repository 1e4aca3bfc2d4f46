"""Register a partner system bound to existing customers, with its first API key."""

from __future__ import annotations

from pydantic import SecretStr

from functions.accounts import gateway_keys
from functions.accounts.bindings import require_customers
from functions.accounts.issue_key import registered_before
from shared import ids, request_scope
from shared.domain import principal as principal_domain
from shared.domain.access import Principal
from shared.domain.principal import IssuedKey, PartnerRequest
from shared.store import principals
from shared.store.outbox import StaleStateError


def create_partner(request: PartnerRequest, caller: Principal) -> IssuedKey:
    require_customers(request.customer_ids)
    # The partner and its key are named the same on a retry of this request
    partner, created = principal_domain.new_partner(
        request, caller.principal_id, principal_id=request_scope.request_scoped_id("prt")
    )
    key, issued = principal_domain.issue_key(
        partner, None, caller.principal_id, key_id=request_scope.request_scoped_id("key")
    )
    secret = ids.new_key()
    try:
        stored = principals.create(partner, key, secret, [created, issued])
    except StaleStateError:
        # A retry whose first attempt registered the partner, then died before answering: the
        # key's first secret never reached the caller, the key gets a new one.
        if registered := registered_before("prt", key.key_id):
            return registered
        raise
    gateway_keys.mirror(stored, key, secret)
    return IssuedKey(principal=stored, key=key, secret=SecretStr(secret))
