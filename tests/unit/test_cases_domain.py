"""The case rules: owners, due times, numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain import cases
from shared.domain.cases import CaseKind, Priority


def test_owners_follow_the_rule_table_unless_the_customer_overrides():
    assert cases.owner_for(CaseKind.DISPUTE) == "credit_manager"
    assert cases.owner_for(CaseKind.QUESTION) == "ar_clerk"
    assert cases.owner_for(CaseKind.DISPUTE, {"dispute": "admin"}) == "admin"


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
