"""Price order lines for a customer: the order service's one call into the catalog.

One BatchGetItem for every SKU's item, list price and customer price, then pure pricing. Any
line that cannot be priced fails the whole request with 422 ``pricing-error`` and one error per
failing line, pointing at ``#/lines/<i>/sku`` or ``#/lines/<i>/unit_price``.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared import errors
from shared.domain import pricing
from shared.domain.pricing import PricedLine, RequestedLine
from shared.store import catalog


def price_lines(
    lines: Sequence[RequestedLine], currency: str, customer_id: str | None
) -> list[PricedLine]:
    facts = catalog.lookup((line.sku for line in lines), currency, customer_id)
    result = pricing.price(lines, facts)
    if result.problems:
        raise errors.Unprocessable(
            "pricing-error",
            f"{len(result.problems)} line(s) cannot be priced",
            errors=[{"pointer": p.pointer, "detail": p.detail} for p in result.problems],
        )
    return list(result.lines)
