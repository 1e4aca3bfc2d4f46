"""Read one account; staff also see its credit figures. Partners see only their customers."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from shared import errors
from shared.domain.access import Principal, Role
from shared.domain.customer import Customer
from shared.model import Model
from shared.store import customers
from shared.store.credit import CreditExposure

MAX_ID_LENGTH = 64


class CustomerView(Model):
    model_config = ConfigDict(frozen=True)

    customer: Customer
    credit: CreditExposure | None = None  # staff only

    def to_wire(self) -> dict[str, Any]:
        wire = self.customer.to_wire()
        if self.credit is not None:
            wire["credit"] = self.credit.to_wire()
        return wire


def get_customer(customer_id: str, principal: Principal) -> CustomerView:
    """Another partner's customer is indistinguishable from a missing one (404)."""
    if len(customer_id) > MAX_ID_LENGTH or not principal.may_act_for(customer_id):
        raise errors.NotFound(f"customer {customer_id}")
    if principal.role is Role.PARTNER:
        customer = customers.get(customer_id)
        if customer is None:
            raise errors.NotFound(f"customer {customer_id}")
        return CustomerView(customer=customer)
    found = customers.get_with_exposure(customer_id)
    if found is None:
        raise errors.NotFound(f"customer {customer_id}")
    return CustomerView(customer=found[0], credit=found[1])
