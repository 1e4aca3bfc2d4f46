"""Customers in the single table."""

from __future__ import annotations

from shared.domain.customer import Customer
from shared.store import table
from shared.store.table import Item, Put


def customer_key(customer_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", "CUSTOMER"


def to_item(customer: Customer) -> Item:
    pk, sk = customer_key(customer.customer_id)
    return {"pk": pk, "sk": sk, "entity": "Customer", **customer.model_dump()}


def get(customer_id: str) -> Customer | None:
    item = table.get(*customer_key(customer_id), consistent=False)
    return Customer.model_validate({k: item[k] for k in Customer.model_fields}) if item else None


def create(customer: Customer) -> None:
    table.transact([Put.new(to_item(customer))])
