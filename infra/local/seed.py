"""Demo data: two customer accounts, a partner bound to both, and a staff admin. Keys are printed
once.

The seed loads initial state through the same store functions the API uses (an account with its
credit item, a principal with its first key, stored only as a hash), without events: nothing
happened in the business that consumers should hear about.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.local.demo_catalog import seed_catalog
from shared import clock, ids
from shared.domain.customer import Address, Customer
from shared.domain.principal import ApiKey, Kind, PrincipalRecord
from shared.domain.terms import NET_30, PaymentTerms
from shared.http import auth
from shared.http.auth import Role
from shared.store import customers, principals, table

DEMO_CUSTOMERS = (
    Customer(
        customer_id="cus_acme",
        legal_name="ACME Retail GmbH",
        billing_email="ap@acme.example",
        tax_id="DE123456789",
        currency="EUR",
        billing_address=Address(
            line1="Hauptstrasse 1", city="Berlin", postal_code="10115", country="DE"
        ),
        payment_terms=PaymentTerms.net(30, discount_percent="2", discount_days=10),
        credit_limit=Decimal("50000.00"),
    ),
    Customer(
        customer_id="cus_globex",
        legal_name="Globex Ltd",
        billing_email="finance@globex.example",
        tax_id="GB123456789",
        currency="GBP",
        billing_address=Address(
            line1="1 King Street", city="London", postal_code="EC2V 8AU", country="GB"
        ),
        payment_terms=NET_30,
        credit_limit=Decimal("25000.00"),
    ),
)


@dataclass(frozen=True)
class DemoKeys:
    partner: str
    admin: str


def seed(partner_key: str, admin_key: str) -> DemoKeys:
    for customer in DEMO_CUSTOMERS:
        customers.create(customer)
    seed_catalog()
    demo_principal(
        "prt_demo",
        "partner",
        "Demo partner",
        Role.PARTNER,
        partner_key,
        customer_ids=("cus_acme", "cus_globex"),
    )
    demo_principal("stf_admin", "staff", "Demo admin", Role.ADMIN, admin_key)
    return DemoKeys(partner=partner_key, admin=admin_key)


def ensure_demo_keys(partner_key: str, admin_key: str) -> DemoKeys:
    """On a restored stack the demo principals exist: each key that is not theirs yet is added."""
    for principal_id, secret in (("prt_demo", partner_key), ("stf_admin", admin_key)):
        if table.get(auth.key_pk(auth.hash_key(secret)), "APIKEY") is not None:
            continue
        principal = principals.get(principal_id)
        if principal is None:
            raise RuntimeError(f"the saved state has no demo principal {principal_id}")
        key = ApiKey(
            key_id=ids.new_id("key"),
            principal_id=principal_id,
            role=principal.role,
            label="demo",
            created_at=clock.now(),
        )
        principals.add_key(principal, key, secret)
    return DemoKeys(partner=partner_key, admin=admin_key)


def demo_principal(
    principal_id: str,
    kind: Kind,
    name: str,
    role: Role,
    secret: str,
    *,
    customer_ids: tuple[str, ...] = (),
) -> PrincipalRecord:
    """A principal with a fixed id and one key with the given secret (stored as its hash)."""
    now = clock.now()
    principal = PrincipalRecord(
        principal_id=principal_id,
        kind=kind,
        name=name,
        role=role,
        customer_ids=tuple(sorted(customer_ids)),
        created_at=now,
        updated_at=now,
    )
    key = ApiKey(
        key_id=ids.new_id("key"), principal_id=principal_id, role=role, label="demo", created_at=now
    )
    return principals.create(principal, key, secret)


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
