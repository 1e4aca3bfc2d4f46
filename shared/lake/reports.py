"""The reports the lake's queries answer, in the shapes the API returns (``AgingReport``,
``KpiReport``, ``BehaviourReport``, the DSO trend): the rows of sql/aging.sql, sql/kpis.sql,
sql/behaviour.sql and sql/dso_trend.sql, whichever engine ran them (DuckDB
gives Python values; Athena's result rows are text, which ``Decimal`` and ``int`` read alike)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from shared.domain import aging, behaviour, kpis
from shared.domain.aging import AgingReport
from shared.domain.behaviour import BehaviourReport
from shared.domain.kpis import KpiReport
from shared.domain.reporting import ZERO

Found = Sequence[Mapping[str, Any]]


def aging_report(
    found: Found,
    as_of: date,
    edges: Sequence[int] = aging.DEFAULT_EDGES,
    names: Mapping[str, str] | None = None,
) -> AgingReport:
    """The aging from sql/aging.sql's rows; ``names`` name customers the lake does not."""
    edges = aging.check_edges(edges)
    width = len(edges) + 2
    buckets: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * width)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    held: dict[tuple[str, str], Decimal] = {}
    known = dict(names or {})
    for row in found:
        key = (row["currency"], row["customer_id"])
        if row["customer_name"] is not None:
            known[row["customer_id"]] = row["customer_name"]
        if row["bucket"] is None:
            held[key] = _decimal(row["amount"])
        else:
            buckets[key][int(row["bucket"])] += _decimal(row["amount"])
            counts[key] += int(row["open_items"])
    return aging.assemble(as_of, edges, buckets, counts, held, known)


def kpi_report(
    found: Found, start: date, end: date, window_days: int = kpis.SERVICE_WINDOW_DAYS
) -> KpiReport:
    """The KPIs from sql/kpis.sql's rows (one per currency)."""
    days = Decimal((end - start).days + 1)
    return KpiReport(
        start=start,
        end=end,
        service_window_days=window_days,
        currencies=tuple(_currency(row, days) for row in found),
    )


def behaviour_report(found: Found, start: date, as_of: date) -> BehaviourReport:
    """Each customer's behaviour from sql/behaviour.sql's rows (one per customer and
    currency)."""
    return behaviour.report(found, start, as_of)


def dso_trend(found: Found, end: date, months: int) -> list[dict[str, Any]]:
    """The DSO trend (``kpis.dso_trend``'s shape) from sql/dso_trend.sql's rows."""
    ar: dict[str, dict[str, Decimal]] = defaultdict(dict)
    sales: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in found:
        last = _iso(row["last_day"])
        if row["ar"] is not None:
            ar[last][row["currency"]] = _decimal(row["ar"])
        if row["credit_sales"] is not None:
            sales[last][row["currency"]] = _decimal(row["credit_sales"])
    return [
        kpis.month_dso(first, last, ar[last.isoformat()], sales[last.isoformat()])
        for first, last in kpis.trend_months(end, months)
    ]


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _currency(row: Mapping[str, Any], days: Decimal) -> kpis.CurrencyKpis:
    closing_ar = _decimal(row["closing_ar"])
    covering = (
        None
        if row["countback_sold"] is None
        else (
            _decimal(row["countback_days_before"]),
            _decimal(row["countback_rest"]),
            _decimal(row["countback_sold"]),
            _decimal(row["countback_length"]),
        )
    )
    weight = row["paid_weight"]
    return kpis.figures(
        row["currency"],
        days,
        opening_ar=_decimal(row["opening_ar"]),
        closing_ar=closing_ar,
        closing_current_ar=_decimal(row["closing_current_ar"]),
        credit_sales=_decimal(row["credit_sales"]),
        countback_dso=kpis.countback(closing_ar, covering),
        average_days_to_pay=None
        if weight is None
        else _decimal(row["paid_weighted"]) / _decimal(weight),
        invoices_paid=int(row["invoices_paid"]),
        orders=(
            int(row["orders_confirmed"]),
            int(row["orders_fulfilled"]),
            int(row["orders_pending"]),
        ),
        accuracy=(int(row["invoices_issued"]), int(row["invoices_credited"])),
        matching=(int(row["payments_received"]), int(row["payments_auto_applied"])),
        open_disputes=int(row["open_disputes"]),
    )


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
