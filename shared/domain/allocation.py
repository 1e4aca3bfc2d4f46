"""Stock allocation: how many units each order line may reserve, and the stock change that takes.

Pure planning over a snapshot of availability. The store applies the plan with conditional
writes (``available >= delta``), so a plan made on a stale snapshot fails as a whole and is
planned again; it can never oversell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.domain.order import OrderLine


@dataclass(frozen=True)
class Allocation:
    reserved: dict[int, int]  # line number -> units to hold for it (tracked lines only)
    delta: dict[str, int]  # SKU -> change in this order's reservation (+ reserve, - release)


def plan(
    lines: Sequence[OrderLine], available: Mapping[str, int], held: Mapping[str, int]
) -> Allocation:
    """Reserve in line order what ``available`` plus what the order already ``held`` allows."""
    pool = {sku: available.get(sku, 0) + held.get(sku, 0) for sku in {*available, *held}}
    reserved: dict[int, int] = {}
    total: dict[str, int] = {}
    for line in lines:
        if not line.tracked:
            continue
        units = min(line.quantity - line.shipped, max(pool.get(line.sku, 0), 0))
        reserved[line.line_no] = units
        pool[line.sku] = pool.get(line.sku, 0) - units
        total[line.sku] = total.get(line.sku, 0) + units
    skus = {*total, *held}
    delta = {sku: total.get(sku, 0) - held.get(sku, 0) for sku in skus}
    return Allocation(reserved=reserved, delta={sku: d for sku, d in sorted(delta.items()) if d})
