"""Rebind a partner (or rename it) at the version read; its active keys follow in the same write."""

from __future__ import annotations

from functions.accounts.bindings import require_customers
from functions.accounts.get_principal import find_principal
from shared import errors
from shared.domain import principal as principal_domain
from shared.domain.access import Principal
from shared.domain.principal import PartnerPatch, PrincipalRecord
from shared.store import principals
from shared.store.outbox import StaleStateError


def update_partner(partner_id: str, patch: PartnerPatch, caller: Principal) -> PrincipalRecord:
    partner = find_principal(partner_id, "partner")
    if patch.version != partner.version:
        raise _stale(partner_id, partner.version)
    if patch.customer_ids is not None:
        require_customers(patch.customer_ids)
    amended, event = principal_domain.amend_partner(partner, patch, caller.principal_id)
    if event is None:
        return partner
    try:
        principals.update(partner, amended, [event])
    except StaleStateError:
        raise _stale(partner_id, find_principal(partner_id, "partner").version) from None
    return amended


def _stale(partner_id: str, current: int) -> errors.DomainError:
    return errors.Conflict(
        "version-mismatch",
        f"partner {partner_id} is at version {current}; read it again and retry",
        current_version=current,
    )
