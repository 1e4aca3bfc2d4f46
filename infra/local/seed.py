"""Demo data: one partner bound to two customers, and a staff admin. Keys are printed once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.customer import Customer
from shared.http.auth import Principal, Role, key_item
from shared.store import customers, table
from shared.store.table import Put

DEMO_CUSTOMERS = (
    Customer(
        customer_id="cus_acme",
        legal_name="ACME Retail GmbH",
        billing_email="ap@acme.example",
        currency="EUR",
    ),
    Customer(
        customer_id="cus_globex",
        legal_name="Globex Ltd",
        billing_email="finance@globex.example",
        currency="GBP",
    ),
)


@dataclass(frozen=True)
class DemoKeys:
    partner: str
    admin: str


def seed(partner_key: str, admin_key: str) -> DemoKeys:
    for customer in DEMO_CUSTOMERS:
        customers.create(customer)
    partner = Principal(
        principal_id="prt_demo",
        role=Role.PARTNER,
        customer_ids=frozenset({"cus_acme", "cus_globex"}),
    )
    admin = Principal(principal_id="stf_admin", role=Role.ADMIN)
    table.transact([Put.new(key_item(partner_key, partner)), Put.new(key_item(admin_key, admin))])
    return DemoKeys(partner=partner_key, admin=admin_key)


def demo_order(**overrides: Any) -> dict[str, Any]:
    """A valid POST /orders body for a seeded customer (the second line shows half-up rounding)."""
    body: dict[str, Any] = {
        "customer_id": "cus_acme",
        "currency": "EUR",
        "purchase_order": "PO-4711",
        "lines": [
            {"sku": "WIDGET-1", "quantity": 3, "unit_price": "19.99"},
            {"sku": "GADGET-2", "quantity": 1, "unit_price": "0.125"},
        ],
    }
    body.update(overrides)
    return body
