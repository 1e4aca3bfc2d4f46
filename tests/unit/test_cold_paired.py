"""The paired cold-import table: ratios beside each tree's own floor, slower entries named."""

from __future__ import annotations

from bench.cold_paired import FLOOR, Paired, table


def test_an_entry_point_is_slower_only_against_its_own_trees_floor():
    rows = [
        Paired(FLOOR, before_ms=100, after_ms=200),  # this tree ran on a busier machine
        Paired("apply_cash", before_ms=150, after_ms=300),  # the same 1.50x of its floor
        Paired("remind_customers", before_ms=150, after_ms=340),  # 1.50x -> 1.70x
    ]

    printed = table("abc1234", rows)

    assert "| apply_cash | 150 | 1.50 | 300 | 1.50 |" in printed
    assert "| remind_customers | 150 | 1.50 | 340 | 1.70 |" in printed
    assert printed.endswith("Slower by more than 5 % of their ratio: remind_customers.")
