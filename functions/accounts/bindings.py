"""The customers a partner is bound to must exist."""

from __future__ import annotations

from collections.abc import Sequence

from shared import errors
from shared.store import customers


def require_customers(customer_ids: Sequence[str]) -> None:
    """422 pointing at every id in ``customer_ids`` that names no customer."""
    found = {customer.customer_id for customer in customers.get_many(customer_ids)}
    missing = [
        {"pointer": f"#/customer_ids/{index}", "detail": f"customer {customer_id} does not exist"}
        for index, customer_id in enumerate(customer_ids)
        if customer_id not in found
    ]
    if missing:
        raise errors.Unprocessable(
            "unknown-customer", f"{len(missing)} customer id(s) name no customer", errors=missing
        )
