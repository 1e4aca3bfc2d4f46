"""GET /reports/aging and GET /reports/kpis: their queries, and the answer (the nightly snapshot
of the aging when one fits the query, else the report computed now from the books).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from functions.reporting import snapshot
from functions.reporting.reports import aging_report, kpi_report, open_items_report
from shared import clock
from shared.domain import aging
from shared.domain.dates import BusinessDate
from shared.store import readable

DEFAULT_KPI_DAYS = 30
MAX_KPI_DAYS = 3 * 366
_EDGES = re.compile(r"^\d{1,4}(,\d{1,4}){0,7}$")
ExportFormat = Literal["json", "csv", "xlsx"]  # else Accept says (shared/http/negotiation.py)


def _not_after_today(day: date | None, name: str) -> None:
    if day is not None and day > clock.now().date():
        raise ValueError(f"'{name}' ({day}) is after today")


def _check_buckets(value: Any) -> Any:
    if isinstance(value, str):
        if not _EDGES.match(value):
            raise ValueError("bucket edges are days past due, comma-separated: 15,30,45")
        value = tuple(int(edge) for edge in value.split(","))
    if value is not None:
        value = aging.check_edges(value)
    return value


class AgingQuery(BaseModel):
    """GET /reports/aging: ``as_of`` (YYYY-MM-DD, default today), ``buckets`` (upper edges in
    days past due, e.g. ``15,30,45``; default 30,60,90), ``live`` (compute now rather than
    answer the nightly snapshot)."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None
    buckets: tuple[int, ...] | None = None
    live: bool = False
    format: ExportFormat | None = None

    _edges = field_validator("buckets", mode="before")(_check_buckets)

    @model_validator(mode="after")
    def _past(self) -> AgingQuery:
        _not_after_today(self.as_of, "as_of")
        return self


class OpenItemsQuery(BaseModel):
    """GET /reports/open-items: ``as_of`` (YYYY-MM-DD, default today), ``buckets`` (as the
    aging's), ``format``."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None
    buckets: tuple[int, ...] | None = None
    format: ExportFormat | None = None

    _edges = field_validator("buckets", mode="before")(_check_buckets)

    @model_validator(mode="after")
    def _past(self) -> OpenItemsQuery:
        _not_after_today(self.as_of, "as_of")
        return self


class KpiQuery(BaseModel):
    """GET /reports/kpis: ``from`` and ``to`` (YYYY-MM-DD, both included); ``to`` defaults to
    today, ``from`` to 29 days before ``to`` (30 days)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: BusinessDate | None = Field(default=None, alias="from")
    end: BusinessDate | None = Field(default=None, alias="to")
    format: ExportFormat | None = None

    @model_validator(mode="after")
    def _period(self) -> KpiQuery:
        _not_after_today(self.end, "to")
        start, end = self.period()
        if start > end:
            raise ValueError(f"'from' ({start}) is after 'to' ({end})")
        if (end - start).days + 1 > MAX_KPI_DAYS:
            raise ValueError(f"a period covers {MAX_KPI_DAYS} days at most")
        return self

    def period(self) -> tuple[date, date]:
        end = self.end or clock.now().date()
        back = timedelta(days=DEFAULT_KPI_DAYS - 1)
        return self.start or max(end, date.min + back) - back, end  # not before the first day


def read_aging(query: AgingQuery) -> dict[str, Any]:
    """The aging asked for: with no ``as_of``, ``buckets`` or ``live``, the newest nightly
    snapshot when there is one (``source: snapshot``), else computed now (``source: live``)."""
    wants_latest = query.as_of is None and query.buckets is None and not query.live
    if wants_latest and (stored := snapshot.latest("aging")) is not None:
        return {**stored, "source": "snapshot"}
    as_of = query.as_of or clock.now().date()
    with readable.skipping() as skipped:
        report = aging_report(as_of, query.buckets or aging.DEFAULT_EDGES)
    return {**report.to_wire(), "source": "live", "skipped": readable.wire(skipped)}


def read_open_items(query: OpenItemsQuery) -> dict[str, Any]:
    """``{"as_of", "buckets", "items": [...], "skipped"}``: every item open at the end of
    ``as_of``, computed now from the same books as the aging."""
    as_of = query.as_of or clock.now().date()
    edges = query.buckets or aging.DEFAULT_EDGES
    with readable.skipping() as skipped:
        items = open_items_report(as_of, edges)
    return {
        "as_of": as_of.isoformat(),
        "buckets": list(aging.bucket_labels(edges)),
        "items": items,
        "skipped": readable.wire(skipped),
    }


def read_kpis(query: KpiQuery) -> dict[str, Any]:
    with readable.skipping() as skipped:
        report = kpi_report(*query.period())
    return {**report.to_wire(), "skipped": readable.wire(skipped)}


# --- reading the books ----------------------------------------------------------------------------
