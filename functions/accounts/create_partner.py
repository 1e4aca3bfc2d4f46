"""Register a partner system bound to existing customers, with its first API key."""

from __future__ import annotations

from pydantic import SecretStr

from functions.accounts.bindings import require_customers
from shared.domain import principal as principal_domain
from shared.domain.principal import IssuedKey, PartnerRequest
from shared.http import auth
from shared.http.auth import Action, Principal
from shared.store import principals


def create_partner(request: PartnerRequest, caller: Principal) -> IssuedKey:
    caller.require(Action.MANAGE_ACCESS)
    require_customers(request.customer_ids)
    partner, created = principal_domain.new_partner(request, caller.principal_id)
    key, issued = principal_domain.issue_key(partner, None, caller.principal_id)
    secret = auth.new_key()
    stored = principals.create(partner, key, secret, [created, issued])
    return IssuedKey(principal=stored, key=key, secret=SecretStr(secret))
