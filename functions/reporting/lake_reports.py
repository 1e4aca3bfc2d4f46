"""AR aging and KPIs from the lake (shared/lake/engine.py: Athena on AWS, DuckDB locally), in
the shapes of the reports rebuilt from the books (functions/reporting/reports.py).

The lake names the customers it has seen created or renamed; the payers no customer is known
for are named as the books name them.
"""

from __future__ import annotations

from datetime import date

from functions.reporting.reports import UNIDENTIFIED_NAME
from shared.domain import aging
from shared.domain.aging import AgingReport
from shared.domain.kpis import KpiReport
from shared.lake import athena, engine, queries, reports
from shared.store import payments

NAMES = {payments.UNIDENTIFIED: UNIDENTIFIED_NAME}


def aging_report(
    as_of: date,
    edges: tuple[int, ...] = aging.DEFAULT_EDGES,
    *,
    within: float = athena.WAIT_SECONDS,
) -> AgingReport:
    """AR aging at the end of ``as_of`` (``athena.StillRunning`` past ``within`` seconds)."""
    found = engine.rows(queries.aging(as_of, edges), within=within)
    return reports.aging_report(found, as_of, edges, NAMES)


def kpi_report(start: date, end: date, *, within: float = athena.WAIT_SECONDS) -> KpiReport:
    """The KPIs of ``start``..``end`` (``athena.StillRunning`` past ``within`` seconds)."""
    found = engine.rows(queries.kpis(start, end), within=within)
    return reports.kpi_report(found, start, end)
