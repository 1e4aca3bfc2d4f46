"""The month's check of the lake's reports against the books': what it reads, what it reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from bench.simulation_driver import Answer
from bench.simulation_lake import lake_days, lake_differences

AGING = {
    "as_of": "2026-03-08",
    "currencies": [
        {"currency": "EUR", "customers": [{"customer_id": "c-1", "balance": "10.00"}]},
    ],
}


class _Reports:
    """Answers every report the same from both sources, except what a test changes."""

    def __init__(
        self, lake: dict[str, Any] | None = None, running: int = 0, status: int = 200
    ) -> None:
        self.lake = lake or {}
        self.running = running
        self.status = status
        self.paths: list[str] = []

    def __call__(self, path: str) -> Answer:
        self.paths.append(path)
        if path.startswith("/reports/queries/"):
            self.running -= 1
            return Answer(202, {"status_url": path}) if self.running else self._answer("lake")
        source = "live" if path.endswith("source=live") else "lake"
        if source == "lake" and self.running:
            return Answer(202, {"status_url": "/reports/queries/q-1?report=aging"})
        return self._answer(source)

    def _answer(self, source: str) -> Answer:
        body = AGING | {"source": source, "skipped": [], "service": {"cases": source}}
        return Answer(self.status, body | (self.lake if source == "lake" else {}))


def test_the_days_compared_are_each_sunday_and_the_last_day() -> None:
    assert lake_days(date(2026, 3, 2), date(2026, 3, 17)) == [
        date(2026, 3, 8),
        date(2026, 3, 15),
        date(2026, 3, 17),
    ]
    assert lake_days(date(2026, 3, 2), date(2026, 3, 2)) == [date(2026, 3, 2)]


def test_equal_reports_are_counted_and_differ_nowhere() -> None:
    # Given reports equal but for how they were read
    get = _Reports()

    # When
    check = lake_differences(get, [date(2026, 3, 8)], (date(2026, 3, 1), date(2026, 3, 8)))

    # Then the aging, the open items and the KPIs were read from both sources
    assert check.comparisons == 3 and check.differences == []
    assert get.paths == [
        "/reports/aging?as_of=2026-03-08&source=lake",
        "/reports/aging?as_of=2026-03-08&source=live",
        "/reports/open-items?as_of=2026-03-08&source=lake",
        "/reports/open-items?as_of=2026-03-08&source=live",
        "/reports/kpis?from=2026-03-01&to=2026-03-08&source=lake",
        "/reports/kpis?from=2026-03-01&to=2026-03-08&source=live",
    ]


def test_the_days_after_a_snapshot_are_read_as_answered_by_default() -> None:
    # Given reports equal but for how they were read
    get = _Reports()

    # When
    check = lake_differences(
        get, [], (date(2026, 3, 1), date(2026, 3, 8)), current_days=[date(2026, 3, 8)]
    )

    # Then the default aging and open items were read beside the books'
    assert check.comparisons == 3 and check.differences == []
    assert get.paths[:4] == [
        "/reports/aging?as_of=2026-03-08",
        "/reports/aging?as_of=2026-03-08&source=live",
        "/reports/open-items?as_of=2026-03-08",
        "/reports/open-items?as_of=2026-03-08&source=live",
    ]


def test_a_figure_the_lake_answers_otherwise_is_a_difference_named_by_its_row() -> None:
    # Given a lake whose customer owes a cent more
    row = {"customer_id": "c-1", "balance": "10.01"}
    get = _Reports(lake={"currencies": [{"currency": "EUR", "customers": [row]}]})

    # When
    check = lake_differences(get, [], (date(2026, 3, 1), date(2026, 3, 8)))

    # Then
    assert check.comparisons == 1
    assert check.differences == [
        "lake /reports/kpis?from=2026-03-01&to=2026-03-08&source=lake: "
        ".currencies[currency=EUR].customers[customer_id=c-1].balance: "
        "lake '10.01', books '10.00'"
    ]


def test_a_lake_query_still_running_is_followed_to_its_report() -> None:
    # Given a lake query that answers 202 twice before its report
    get = _Reports(running=2)

    # When
    check = lake_differences(get, [date(2026, 3, 8)], (date(2026, 3, 8), date(2026, 3, 8)))

    # Then its report was compared
    assert check.differences == []
    assert "/reports/queries/q-1?report=aging" in get.paths


def test_a_report_that_does_not_answer_is_a_difference_even_when_both_fail_alike() -> None:
    # Given reports that answer 400 from either source
    get = _Reports(status=400)

    # When
    check = lake_differences(get, [], (date(2026, 3, 1), date(2026, 3, 8)))

    # Then
    assert check.differences == [
        "lake /reports/kpis?from=2026-03-01&to=2026-03-08&source=lake: "
        "answered 400, from the books 400"
    ]
