"""URL parameters of the catalog and stock endpoints, checked before anything is read."""

from __future__ import annotations

from shared import errors
from shared.domain import pricing
from shared.domain.money import MINOR_UNITS

MAX_CUSTOMER_ID = 120


def sku(value: str) -> str:
    """A SKU to write to: anything else is a bad request (reads answer 404 instead)."""
    if not pricing.is_sku(value):
        raise errors.InvalidQuery(
            [{"in": "path", "parameter": "sku", "detail": f"a SKU matches {pricing.SKU_PATTERN}"}]
        )
    return value


def currency(value: str) -> str:
    if value not in MINOR_UNITS:
        raise errors.InvalidQuery(
            [
                {
                    "in": "path",
                    "parameter": "currency",
                    "detail": f"'{value}' is not an ISO 4217 currency code",
                }
            ]
        )
    return value


def customer_id(value: str) -> str:
    if not 0 < len(value) <= MAX_CUSTOMER_ID:
        raise errors.InvalidQuery(
            [
                {
                    "in": "path",
                    "parameter": "customer_id",
                    "detail": f"1 to {MAX_CUSTOMER_ID} characters",
                }
            ]
        )
    return value
