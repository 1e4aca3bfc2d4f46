"""A customer's open credits (GET /customers/{customer_id}/credits).

Every credit the customer holds, whatever its source - a payment's unapplied part (an
overpayment or a payment not applied yet) or what a credit note owed beyond its invoice -
oldest first, with the total and the customer's credit figures (whose ``unapplied_cash`` is
that total, less card refunds requested and not yet confirmed by the gateway).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared import errors
from shared.domain.access import Principal
from shared.domain.money import Money
from shared.domain.principal import Role
from shared.store import credit, customer_credits, readable

MAX_ID_LENGTH = 64


def list_credits(customer_id: str, principal: Principal) -> dict[str, Any]:
    """``{"customer_id", "currency", "credits": [...], "total", "credit": figures}``."""
    figures = readable_figures(customer_id, principal)
    held = open_credits(customer_id, figures.currency)
    return {
        "customer_id": customer_id,
        "currency": figures.currency,
        "credits": held["credits"],
        "total": held["total"],
        "credit": figures.to_wire(),
        "skipped": held["skipped"],
    }


def open_credits(customer_id: str, currency: str) -> dict[str, Any]:
    """``{"credits": [...], "total", "skipped"}``: the money held for the customer, without the
    credit figures (what the customer itself may see)."""
    with readable.skipping() as skipped:  # a record that does not read is named, not fatal
        found = customer_credits.open_credits(customer_id)
    total = sum((credit_.remaining for credit_ in found), Decimal(0))
    return {
        "credits": [credit_.to_wire() for credit_ in found],
        "total": Money(amount=total, currency=currency).to_wire(),
        "skipped": readable.wire(skipped),
    }


def readable_figures(customer_id: str, principal: Principal) -> credit.CreditExposure:
    """The customer's credit figures; 404 for an unknown customer, 403 for partners."""
    if principal.role is Role.PARTNER:
        raise errors.Forbidden("a customer's credits are for staff")
    figures = credit.get_exposure(customer_id) if len(customer_id) <= MAX_ID_LENGTH else None
    if figures is None:
        raise errors.NotFound(f"customer {customer_id}")
    return figures
