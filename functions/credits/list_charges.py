"""A customer's fee and interest charges (GET /customers/{customer_id}/charges).

Every reminder fee and late-payment interest charged to the customer, oldest first, with what is
still due on each (``open``: only those with something due). A clerk names a charge by its ``id``
to settle it: an allocation line of ``POST /payments/{id}/allocations`` or a credit application
(``charge_id``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict

from functions.credits.list_credits import readable_figures
from shared.domain.access import Principal
from shared.domain.money import Money
from shared.model import Model
from shared.store import charges, readable


class ChargeQuery(Model):
    """The query string: ``status`` open (the default) or all."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "all"] = "open"


def list_charges(customer_id: str, principal: Principal, *, only_open: bool) -> dict[str, Any]:
    """``{"customer_id", "currency", "charges": [...], "total_due", "skipped"}``."""
    figures = readable_figures(customer_id, principal)
    with readable.skipping() as skipped:  # a record that does not read is named, not fatal
        found = charges.for_customer(customer_id)
    shown = [charge for charge in found if not (only_open and charge.settled)]
    due = sum((c.amount_due for c in found if c.currency == figures.currency), Decimal(0))
    return {
        "customer_id": customer_id,
        "currency": figures.currency,
        "charges": [charge.to_wire() for charge in shown],
        "total_due": Money(amount=due, currency=figures.currency).to_wire(),
        "skipped": readable.wire(skipped),
    }
