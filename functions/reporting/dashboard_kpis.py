"""The dashboard's figures from the lake: the DSO trend (sql/dso_trend.sql) and the collection
effectiveness of the last ``KPI_DAYS`` days (sql/kpis.sql), with the CEI panel's HTML.

Where the lake is not configured the trend is rebuilt from the books (as the reports do) and the
CEI panel says so; an Athena query still running after ``LAKE_WAIT_SECONDS`` is treated alike,
so the page never waits past API Gateway's limit twice over.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

KPI_DAYS = 30
LAKE_WAIT_SECONDS = 8.0  # each query; the behaviour panels have their own


@dataclass(frozen=True)
class LakeFigures:
    trend: list[dict[str, Any]]  # kpis.dso_trend's shape
    kpis: dict[str, Any] | None  # KpiReport.to_wire(); None without the lake


def gather(as_of: date, months: int) -> LakeFigures:
    """The DSO trend of ``months`` months up to ``as_of`` and the KPIs of the ``KPI_DAYS``
    days that end with it."""
    from functions.reporting import lake_reports, reports
    from shared.config import settings
    from shared.lake import athena

    if settings().lake_bucket:
        try:
            start = as_of - timedelta(days=KPI_DAYS - 1)
            kpis = lake_reports.kpi_report(start, as_of, within=LAKE_WAIT_SECONDS)
            trend = lake_reports.dso_trend(as_of, months, within=LAKE_WAIT_SECONDS)
            return LakeFigures(trend, kpis.to_wire())
        except athena.StillRunning:
            pass
    return LakeFigures(reports.dso_trend(as_of, months), None)


def cei_panel(kpis: dict[str, Any] | None) -> str:
    """Per currency: CEI, standard and countback DSO, average days to pay, fulfilment rate."""
    if kpis is None:
        return '<p class="empty">No lake on this deployment: no collection figures to show.</p>'
    if not kpis["currencies"]:
        return '<p class="empty">Nothing sold or open in these days.</p>'
    fields = (
        ("cei", "CEI (%)"),
        ("dso", "DSO"),
        ("countback_dso", "Countback DSO"),
        ("average_days_to_pay", "Days to pay"),
        ("fulfilment_rate", "Fulfilment (%)"),
    )
    head = "".join(f'<th scope="col" class="num">{label}</th>' for _, label in fields)
    rows = "".join(
        f'<tr data-kpis="{_e(group["currency"])}"><td>{_e(group["currency"])}</td>'
        + "".join(
            f'<td class="num" data-currency="{_e(group["currency"])}" data-kpi="{name}">'
            f"{_e(group[name] if group[name] is not None else '-')}</td>"
            for name, _ in fields
        )
        + "</tr>"
        for group in kpis["currencies"]
    )
    return (
        f"<table><caption>{_e(kpis['from'])} to {_e(kpis['to'])}</caption><thead><tr>"
        f'<th scope="col">Currency</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
