"""AR aging and KPIs from the lake (shared/lake/engine.py: Athena on AWS, DuckDB locally), in
the shapes of the reports rebuilt from the books (functions/reporting/reports.py).

A ``LakeReport`` is a report's SQL and how its rows become the report; ``run`` runs it and
``outcome`` reads the outcome of the same report's Athena query started earlier (one that was
still running when its caller stopped waiting). The lake names the customers it has seen created
or renamed; the payers no customer is known for are named as the books name them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from functions.reporting.reports import UNIDENTIFIED_NAME
from shared.domain import aging
from shared.domain.aging import AgingReport
from shared.domain.kpis import KpiReport
from shared.domain.open_items import OpenItemsReport
from shared.lake import athena, current, engine, queries, reports
from shared.store import payments

NAMES = {payments.UNIDENTIFIED: UNIDENTIFIED_NAME}
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class LakeReport:
    sql: str
    build: Callable[[Rows], Any]


def aging_query(as_of: date, edges: tuple[int, ...] = aging.DEFAULT_EDGES) -> LakeReport:
    return LakeReport(
        queries.aging(as_of, edges),
        lambda found: reports.aging_report(found, as_of, edges, NAMES),
    )


def kpi_query(start: date, end: date) -> LakeReport:
    return LakeReport(queries.kpis(start, end), lambda found: reports.kpi_report(found, start, end))


def run(report: LakeReport, *, within: float | None = None) -> Any:
    """The report (``athena.StillRunning`` past ``within`` seconds)."""
    return report.build(engine.rows(report.sql, within=within))


def outcome(report: LakeReport, query_id: str) -> Any:
    """The report of the Athena query ``query_id`` started for it (``athena.StillRunning``,
    ``athena.QueryFailed``; ``athena.UnknownQuery`` when no such query ran ``report``'s SQL,
    or the lake is not on Athena)."""
    if engine.name() != engine.ATHENA:
        raise athena.UnknownQuery(query_id)
    return report.build(engine.outcome(query_id, sql=report.sql))


def aging_report(
    as_of: date,
    edges: tuple[int, ...] = aging.DEFAULT_EDGES,
    *,
    within: float | None = None,
) -> AgingReport:
    """AR aging at the end of ``as_of`` (``athena.StillRunning`` past ``within`` seconds)."""
    report: AgingReport = run(aging_query(as_of, edges), within=within)
    return report


def kpi_report(start: date, end: date, *, within: float | None = None) -> KpiReport:
    """The KPIs of ``start``..``end`` (``athena.StillRunning`` past ``within`` seconds)."""
    report: KpiReport = run(kpi_query(start, end), within=within)
    return report


def dso_trend(end: date, months: int = 6, *, within: float | None = None) -> list[dict[str, Any]]:
    """Standard DSO per calendar month up to ``end``, oldest first (``reports.dso_trend``'s
    figures; ``athena.StillRunning`` past ``within`` seconds, else the request's wait)."""
    found = engine.rows(queries.dso_trend(end, months), within=within)
    return reports.dso_trend(found, end, months)


def positions(day: date, *, within: float | None = None) -> current.Positions:
    """The open items and money held at the end of ``day`` (what the nightly snapshot keeps)."""
    return current.Positions.from_rows(engine.rows(queries.positions(day), within=within), day)


def open_items_query(as_of: date, edges: tuple[int, ...] = aging.DEFAULT_EDGES) -> LakeReport:
    """The open items at the end of ``as_of`` from the whole lake (its positions then)."""
    return LakeReport(
        queries.positions(as_of),
        lambda found: current.open_items(current.Positions.from_rows(found, as_of), edges, NAMES),
    )


def rolled(
    start: current.Positions, as_of: date, *, within: float | None = None
) -> current.Positions:
    """The positions at the end of ``as_of`` from ``start`` (a snapshot's positions, of a day
    not after ``as_of``) and what the lake's partitions of the days after it moved
    (``current.Unplaceable``, ``athena.StillRunning`` past ``within`` seconds)."""
    found: Rows = []
    if as_of > start.as_of:
        since = start.as_of + timedelta(days=1)
        found = engine.rows(queries.movements(since, as_of), within=within)
    return current.roll(start, found, as_of)


def current_aging(
    start: current.Positions,
    as_of: date,
    edges: tuple[int, ...] = aging.DEFAULT_EDGES,
    *,
    within: float | None = None,
) -> AgingReport:
    """The aging at the end of ``as_of`` from ``start`` rolled forward (``rolled``)."""
    return current.aging(rolled(start, as_of, within=within), edges, NAMES)


def current_open_items(
    start: current.Positions,
    as_of: date,
    edges: tuple[int, ...] = aging.DEFAULT_EDGES,
    *,
    within: float | None = None,
) -> OpenItemsReport:
    """The open items at the end of ``as_of`` from ``start`` rolled forward (``rolled``;
    ``current.Unplaceable`` for an item neither describes)."""
    return current.open_items(rolled(start, as_of, within=within), edges, NAMES)
