"""The case rules: owners, due times, numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shared.domain import cases
from shared.domain.cases import CaseKind, Priority


def test_owners_follow_the_rule_table_unless_the_customer_overrides():
    assert cases.owner_for(CaseKind.DISPUTE) == "credit_manager"
    assert cases.owner_for(CaseKind.QUESTION) == "ar_clerk"
    assert cases.owner_for(CaseKind.DISPUTE, "admin") == "admin"
    assert cases.owner_for(CaseKind.QUESTION, None) == "ar_clerk"


def test_due_times_count_business_days_only():
    friday = datetime(2026, 11, 6, 9, tzinfo=UTC)
    assert cases.due_at(friday, Priority.HIGH) == datetime(2026, 11, 9, 9, tzinfo=UTC)
    assert cases.due_at(friday, Priority.NORMAL) == datetime(2026, 11, 11, 9, tzinfo=UTC)
    assert cases.due_at(friday, Priority.LOW) == datetime(2026, 11, 13, 9, tzinfo=UTC)


def test_case_numbers_are_per_year_and_zero_padded():
    assert cases.case_number(2026, 42) == "CASE-2026-000042"


def test_percentiles_take_the_nearest_rank():
    hours = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert cases.percentile(hours, 0.5) == 5.0
    assert cases.percentile(hours, 0.9) == 9.0
    assert cases.percentile([7.0], 0.9) == 7.0
    assert cases.percentile([], 0.5) is None


def _timing(opened_day: int, resolved: datetime | None, **more: object) -> cases.Timing:
    opened = datetime(2026, 11, opened_day, 9, tzinfo=UTC)
    return cases.Timing(
        opened_at=opened,
        due_at=cases.due_at(opened, Priority.NORMAL),
        first_response_at=resolved,
        resolved_at=resolved,
        **more,  # type: ignore[arg-type]
    )


def test_service_figures_count_targets_reasons_outcomes_disputes_and_csat():
    # Given: a dispute resolved in 2 days, another in 20 (past its 10 business days), a question
    monday = 2
    quick = _timing(
        monday,
        datetime(2026, 11, 4, 9, tzinfo=UTC),
        kind=CaseKind.DISPUTE,
        reason="damaged",
        outcome="credit_note",
        disputed_amount=Decimal("10.00"),
        currency="EUR",
    )
    slow = _timing(
        monday,
        datetime(2026, 11, 22, 9, tzinfo=UTC),
        kind=CaseKind.DISPUTE,
        reason="price",
        outcome="rejected",
        disputed_amount=Decimal("5.50"),
        currency="EUR",
    )
    question = _timing(monday, None)

    # When
    figures = cases.service_figures([quick, slow, question], [quick, slow], [5, 4, 2, 1])

    # Then
    assert figures["first_response_hours"]["within_target"] == 0.5  # the slow one came late
    assert figures["resolution_hours"]["within_target"] == 0.5
    assert figures["by_reason"] == {"damaged": 1, "price": 1, "question": 1}
    assert figures["by_outcome"] == {"credit_note": 1, "rejected": 1}
    assert figures["disputes"] == {
        "opened": 2,
        "amount": {"EUR": "15.50"},
        "resolved": 2,
        "days_to_resolve": {"median": 2.0, "p90": 20.0},
    }
    assert figures["satisfaction"] == {"average": 3.0, "responses": 4, "csat": 0.5}


def test_service_figures_without_cases_are_null():
    figures = cases.service_figures([], [], [])
    assert figures["resolution_hours"] == {"median": None, "p90": None, "within_target": None}
    assert figures["disputes"]["days_to_resolve"] == {"median": None, "p90": None}
    assert figures["satisfaction"]["csat"] is None
