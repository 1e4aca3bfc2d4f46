"""shared/domain/behaviour.py: segments, risk points and credit limits at their edges, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.domain import behaviour

d = Decimal
AS_OF = date(2026, 3, 31)
NINETY = d(90)


@pytest.mark.parametrize(
    ("recency", "first_order_on", "frequency", "expected"),
    [
        (None, None, 0, "no_orders"),
        (181, date(2025, 1, 1), 0, "lapsed"),
        (180, date(2025, 1, 1), 0, "at_risk"),
        (91, date(2025, 1, 1), 0, "at_risk"),
        (90, date(2026, 1, 1), 1, "new"),  # first order 89 days before as_of
        (30, date(2025, 1, 1), 6, "champion"),  # 6 x 30 / 90 = 2 a month
        (31, date(2025, 1, 1), 6, "loyal"),  # not recent enough for champion
        (30, date(2025, 1, 1), 5, "loyal"),  # 1.67 a month
        (30, date(2025, 1, 1), 3, "loyal"),  # 1 a month
        (30, date(2025, 1, 1), 2, "occasional"),  # 0.67 a month
    ],
)
def test_segments(
    recency: int | None, first_order_on: date | None, frequency: int, expected: str
) -> None:
    assert behaviour.segment(recency, first_order_on, frequency, NINETY, AS_OF) == expected


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (d(0), "low"),
        (d("24.99"), "low"),
        (d(25), "medium"),
        (d(50), "high"),
        (d("74.99"), "high"),
        (d(75), "very_high"),
        (d(100), "very_high"),
    ],
)
def test_risk_bands(score: Decimal, band: str) -> None:
    assert behaviour.risk_band(score) == band


def test_points_are_capped_and_a_trend_that_improves_adds_none() -> None:
    # Given 45 days beyond terms, a third paid late, 3 broken promises, 1 dispute, and a
    # second half 5 days better than the first
    factors = behaviour.risk_factors(
        beyond=d(45),
        late_share=d(1) / d(3),
        overdue_share=None,
        first=behaviour.Half(1, d(40), d(50)),
        second=behaviour.Half(1, d(35), d(45)),
        broken=3,
        disputes=1,
    )
    # Then each adds its points: 30 (capped), 6.67, 0, 0, 10 (capped), 5
    assert [(f.name, f.value, f.points) for f in factors] == [
        ("days_beyond_terms", d(45), d(30)),
        ("late_share", d(1) / d(3), d("6.67")),
        ("overdue_share_of_exposure", None, d(0)),
        ("trend_worsening", d(-5), d(0)),
        ("broken_promises", d(3), d(10)),
        ("disputes_opened", d(1), d(5)),
    ]


@pytest.mark.parametrize(
    ("invoiced", "terms", "beyond", "band", "limit"),
    [
        # 900 in 90 days = 300 a month, x (30 + 15) / 30 = 450
        (d(900), d(30), d(15), "low", d(450)),
        (d(900), d(30), d(15), "medium", d(337)),  # 337.50 down
        (d(900), d(30), d(15), "high", d(225)),
        (d(900), d(30), d(15), "very_high", d(0)),
        (d(-50), d(30), d(0), "low", d(0)),  # more credited than invoiced
        (d(1000), None, None, "low", d(0)),  # no terms known, never paid
        (d("100.99"), d(90), None, "low", d(100)),  # 100.99 down to the major unit
    ],
)
def test_credit_limits(
    invoiced: Decimal, terms: Decimal | None, beyond: Decimal | None, band: str, limit: Decimal
) -> None:
    assert behaviour.credit_limit(invoiced, NINETY, terms, beyond, band) == limit
