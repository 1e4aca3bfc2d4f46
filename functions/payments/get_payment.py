"""GET /payments/{payment_id}: a payment, as it stands (staff; partners their customers' only)."""

from __future__ import annotations

from typing import Any

from functions.payments.worklist import as_seen_by
from shared import errors
from shared.domain.access import Principal, Role
from shared.domain.payment import Payment
from shared.store import payments


def get_payment(payment_id: str, principal: Principal) -> dict[str, Any]:
    """The payment as the caller sees it: staff with the matcher's decision, partners without."""
    return as_seen_by(find_payment(payment_id, principal), principal)


def find_payment(payment_id: str, principal: Principal) -> Payment:
    """The payment; 404 when it does not exist or is not the caller's to see.

    A partner sees the payments of the customers bound to it, never an unidentified one (whose
    payer nobody knows yet); answering 404 rather than 403 does not tell it what exists.
    """
    payment = payments.get(payment_id)
    if payment is None or not _may_see(principal, payment):
        raise errors.NotFound(f"payment {payment_id}")
    return payment


def _may_see(principal: Principal, payment: Payment) -> bool:
    if payment.customer_id is None:
        return principal.role is not Role.PARTNER
    return principal.may_act_for(payment.customer_id)
