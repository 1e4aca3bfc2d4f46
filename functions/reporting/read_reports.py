"""GET /reports/aging, /reports/open-items and /reports/kpis: their queries, and the answer (the
aging and the open items: the nightly snapshot's positions rolled forward by the lake's days
since, when a snapshot fits the query; else the report computed now from the books; with
``source=lake``, the report the lake's SQL gives over the whole history).

On Athena a lake query may outlast the request: past ``athena.WAIT_SECONDS`` the answer is a
``Running`` query instead, whose status URL (``/reports/queries/{id}`` with the report's
parameters) answers the report once the query has finished (``read_query``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import ConfigDict, Field, field_validator, model_validator

from functions.reporting import lake_reports, snapshot
from functions.reporting.reports import aging_report, kpi_report, open_items_report
from shared import clock, errors
from shared.domain import aging
from shared.domain.dates import BusinessDate
from shared.lake import athena, current
from shared.model import Model
from shared.store import readable, snapshots

DEFAULT_KPI_DAYS = 30
MAX_KPI_DAYS = 3 * 366
MAX_CURRENT_DAYS = 7  # a snapshot further back: the report is computed as without one
CURRENT_WAIT_SECONDS = 5.0  # the days' movements; then the whole lake's query has its own wait
_EDGES = re.compile(r"^\d{1,4}(,\d{1,4}){0,7}$")
ExportFormat = Literal["json", "csv", "xlsx"]  # else Accept says (shared/http/negotiation.py)
_QUERY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Source = Literal["live", "lake"]
DayReport = Literal["aging", "open-items"]
_OF_DAY: dict[str, Callable[[date, tuple[int, ...]], lake_reports.LakeReport]] = {
    "aging": lake_reports.aging_query,
    "open-items": lake_reports.open_items_query,
}


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


class AgingQuery(Model):
    """GET /reports/aging: ``as_of`` (YYYY-MM-DD, default today), ``buckets`` (upper edges in
    days past due, e.g. ``15,30,45``; default 30,60,90), ``live`` (compute now rather than
    answer the nightly snapshot), ``source`` (``live``: as ``live``; ``lake``: from the
    lake)."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None
    buckets: tuple[int, ...] | None = None
    live: bool = False
    format: ExportFormat | None = None

    source: Source | None = None

    _edges = field_validator("buckets", mode="before")(_check_buckets)

    @model_validator(mode="after")
    def _past(self) -> AgingQuery:
        _not_after_today(self.as_of, "as_of")
        if self.live and self.source == "lake":
            raise ValueError("'live' computes from the books; 'source=lake' reads the lake")
        return self


class OpenItemsQuery(Model):
    """GET /reports/open-items: ``as_of`` (YYYY-MM-DD, default today), ``buckets`` (as the
    aging's), ``format``, ``source`` (``live``: computed from the books; ``lake``: from the
    lake)."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None
    buckets: tuple[int, ...] | None = None
    format: ExportFormat | None = None
    source: Source | None = None

    _edges = field_validator("buckets", mode="before")(_check_buckets)

    @model_validator(mode="after")
    def _past(self) -> OpenItemsQuery:
        _not_after_today(self.as_of, "as_of")
        return self


class KpiQuery(Model):
    """GET /reports/kpis: ``from`` and ``to`` (YYYY-MM-DD, both included); ``to`` defaults to
    today, ``from`` to 29 days before ``to`` (30 days); ``source`` (``live`` or ``lake``; by
    default the lake for a past period the nightly snapshots have reached, else ``live``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: BusinessDate | None = Field(default=None, alias="from")
    end: BusinessDate | None = Field(default=None, alias="to")
    format: ExportFormat | None = None
    source: Source | None = None

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


class ReportQuery(Model):
    """GET /reports/queries/{id}: the report a lake query was started for and its parameters,
    as its status URL names them (``report=aging`` or ``open-items`` with ``as_of`` and
    ``buckets``; ``report=kpis`` with ``from`` and ``to``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    report: Literal["aging", "open-items", "kpis"]
    as_of: BusinessDate | None = None
    buckets: tuple[int, ...] | None = None
    start: BusinessDate | None = Field(default=None, alias="from")
    end: BusinessDate | None = Field(default=None, alias="to")

    _edges = field_validator("buckets", mode="before")(_check_buckets)

    @model_validator(mode="after")
    def _complete(self) -> ReportQuery:
        given = {"as_of": self.as_of, "from": self.start, "to": self.end}
        needed = ("from", "to") if self.report == "kpis" else ("as_of",)
        if missing := [name for name in needed if given[name] is None]:
            raise ValueError(f"a {self.report} query names {', '.join(missing)}")
        return self

    def lake_report(self) -> lake_reports.LakeReport:
        if self.report != "kpis":
            assert self.as_of is not None  # checked by _complete
            of_day = _OF_DAY[self.report]
            return of_day(self.as_of, self.buckets or aging.DEFAULT_EDGES)
        assert self.start is not None and self.end is not None  # checked by _complete
        return lake_reports.kpi_query(self.start, self.end)


@dataclass(frozen=True)
class Running:
    """A lake query still running: where to ask for its report."""

    query_id: str
    params: dict[str, str]

    @property
    def status_url(self) -> str:
        return f"/reports/queries/{self.query_id}?{urlencode(self.params)}"

    def to_wire(self) -> dict[str, Any]:
        return {"query_id": self.query_id, "status": "running", "status_url": self.status_url}


def read_aging(query: AgingQuery) -> dict[str, Any] | Running:
    """The aging asked for: without ``live`` or ``source``, the newest nightly snapshot's
    positions rolled forward by the lake's days since (``source: current``) when the snapshot
    is of a day up to ``as_of`` (and at most ``MAX_CURRENT_DAYS`` before it); else, with no
    ``as_of`` or ``buckets``, the newest nightly aging (``source: snapshot``, a stack whose
    snapshots predate positions); else computed now from the books (``source: live``). With
    ``source=lake``, from the whole lake (``source: lake``)."""
    as_of = query.as_of or clock.now().date()
    edges = query.buckets or aging.DEFAULT_EDGES
    if query.source == "lake":
        return _lake_aging(as_of, edges)
    if query.source is None and not query.live:
        if (rolled := _current_aging(as_of, edges)) is not None:
            return rolled
        wants_latest = query.as_of is None and query.buckets is None
        if wants_latest and (stored := snapshot.latest("aging")) is not None:
            return {**stored, "source": "snapshot"}
    with readable.skipping() as skipped:
        report = aging_report(as_of, edges)
    return {**report.to_wire(), "source": "live", "skipped": readable.wire(skipped)}


def read_open_items(query: OpenItemsQuery) -> dict[str, Any] | Running:
    """``{"as_of", "buckets", "items": [...], "source", "skipped"}``: every item open at the end
    of ``as_of``, as the aging counts them: without ``source``, the newest snapshot's positions
    rolled forward (``source: current``) as ``read_aging`` answers; else (or with
    ``source=live``) computed now from the books; with ``source=lake``, from the whole lake."""
    as_of = query.as_of or clock.now().date()
    edges = query.buckets or aging.DEFAULT_EDGES
    if query.source == "lake":
        return _lake_open_items(as_of, edges)
    if query.source is None and (rolled := _current_open_items(as_of, edges)) is not None:
        return rolled
    with readable.skipping() as skipped:
        report = open_items_report(as_of, edges)
    return {**report.to_wire(), "source": "live", "skipped": readable.wire(skipped)}


def read_kpis(query: KpiQuery) -> dict[str, Any] | Running:
    """The KPIs of the period: from the lake (``source: lake``; ``Running`` past the wait on
    Athena) with ``source=lake``, or without ``source`` for a past period the lake has reached
    (``_lake_has``); else computed now from the books (``source: live``)."""
    start, end = query.period()
    if query.source == "lake" or (query.source is None and _lake_has(end)):
        params = {"report": "kpis", "from": start.isoformat(), "to": end.isoformat()}
        return _with_service(_from_lake(lake_reports.kpi_query(start, end), params), start, end)
    with readable.skipping() as skipped:
        report = kpi_report(start, end)
    live = {**report.to_wire(), "source": "live", "skipped": readable.wire(skipped)}
    return _with_service(live, start, end)


def _with_service(
    answer: dict[str, Any] | Running, start: date, end: date
) -> dict[str, Any] | Running:
    """The KPIs with the cases' service figures of the same days (the service report's)."""
    from functions.cases.service_report import service_between

    if isinstance(answer, Running):
        return answer
    return {**answer, "service": service_between(start, end)}


def read_query(query_id: str, query: ReportQuery) -> dict[str, Any] | Running:
    """The report of a lake query answered ``Running`` earlier: the report once it succeeded,
    ``Running`` while it runs; 404 for an id no such query has, 502 when it failed."""
    if not _QUERY_ID.match(query_id):
        raise errors.NotFound(f"report query {query_id}")
    try:
        report = lake_reports.outcome(query.lake_report(), query_id)
    except athena.StillRunning:
        params = query.model_dump(mode="json", by_alias=True, exclude_none=True)
        if query.buckets:
            params["buckets"] = _joined(query.buckets)
        return Running(query_id, params)
    except athena.UnknownQuery as unknown:
        raise errors.NotFound(f"report query {query_id}") from unknown
    except athena.QueryFailed as failed:
        raise errors.UpstreamFailed(
            "lake-query-failed", "The lake query failed", failed.reason or failed.state
        ) from failed
    if query.report == "kpis":
        assert query.start is not None and query.end is not None  # checked by _complete
        return _with_service(_lake_wire(report), query.start, query.end)
    return _lake_wire(report)


def _lake_has(end: date) -> bool:
    """A period ending before today and at most on the newest nightly KPI snapshot's day: the
    snapshots are the lake's, so it held the period's days (and later ones may still land)."""
    if end >= clock.now().date():
        return False
    pointer = snapshots.latest("kpis")
    return pointer is not None and end <= pointer.day


def _current_aging(as_of: date, edges: tuple[int, ...]) -> dict[str, Any] | Running | None:
    return _current(as_of, edges, current.aging, _lake_aging)


def _current_open_items(as_of: date, edges: tuple[int, ...]) -> dict[str, Any] | Running | None:
    return _current(as_of, edges, current.open_items, _lake_open_items)


def _current(
    as_of: date,
    edges: tuple[int, ...],
    report_of: Callable[[current.Positions, tuple[int, ...], dict[str, str]], Any],
    from_lake: Callable[[date, tuple[int, ...]], dict[str, Any] | Running],
) -> dict[str, Any] | Running | None:
    """The report of the newest snapshot's positions and the lake's days after it
    (``source: current``); from the whole lake when an item moved since cannot be placed (or
    described) from those days alone, or their query outlasts the wait; None without a
    snapshot of a day up to ``MAX_CURRENT_DAYS`` before ``as_of``."""
    stored = snapshot.latest("positions")
    if stored is None:
        return None
    start = current.Positions.from_wire(stored)
    if not start.as_of <= as_of <= start.as_of + timedelta(days=MAX_CURRENT_DAYS):
        return None
    try:
        rolled = lake_reports.rolled(start, as_of, within=CURRENT_WAIT_SECONDS)
        report = report_of(rolled, edges, lake_reports.NAMES)
    except (current.Unplaceable, athena.StillRunning):
        return from_lake(as_of, edges)
    return {**report.to_wire(), "source": "current", "skipped": stored.get("skipped", [])}


def _lake_aging(as_of: date, edges: tuple[int, ...]) -> dict[str, Any] | Running:
    return _lake_of_day("aging", as_of, edges)


def _lake_open_items(as_of: date, edges: tuple[int, ...]) -> dict[str, Any] | Running:
    return _lake_of_day("open-items", as_of, edges)


def _lake_of_day(
    report: DayReport, as_of: date, edges: tuple[int, ...]
) -> dict[str, Any] | Running:
    params = {"report": report, "as_of": as_of.isoformat(), "buckets": _joined(edges)}
    return _from_lake(_OF_DAY[report](as_of, edges), params)


def _from_lake(report: lake_reports.LakeReport, params: dict[str, str]) -> dict[str, Any] | Running:
    try:
        return _lake_wire(lake_reports.run(report))
    except athena.StillRunning as running:
        return Running(running.query_id, params)


def _lake_wire(report: Any) -> dict[str, Any]:
    return {**report.to_wire(), "source": "lake", "skipped": []}


def _joined(edges: tuple[int, ...]) -> str:
    return ",".join(str(edge) for edge in edges)


# --- reading the books ----------------------------------------------------------------------------
