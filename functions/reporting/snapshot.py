"""The nightly report snapshot: aging and KPIs written to S3 as JSON and CSV, and the newest read.

``take(day)`` computes, from the lake as it stood at the end of ``day`` (UTC; the lake's SQL
through shared/lake/engine.py, never every customer's ledger):

- ``aging``: the AR aging as of ``day`` (default buckets);
- ``kpis``: the KPIs of the 30 days that end with ``day`` (``day - 29`` .. ``day``);
- ``positions``: the open items with their due dates and the money held at the end of ``day``
  (shared/lake/current.py), which the current aging rolls forward by the days after it;

and writes each as ``reports/<kind>/dt=YYYY-MM-DD/<kind>.json`` and ``.csv`` in the documents
bucket (SSE-KMS by the bucket's default). ``dt=`` is a Hive-style partition, so an Athena table
over ``reports/<kind>/`` with ``PARTITIONED BY (dt string)`` finds every day; the JSON is one line
(one record), as Athena's JSON SerDe reads it. Taking a day again rewrites its objects: a rerun
or a backfill is safe.

After the objects, the pointer item ``REPORT#<kind>`` / ``LATEST`` names the newest day, so
``latest(kind)`` answers with one GetItem and one GetObject, and never sees a half-written day.

A stored record that does not read is left out of the day's figures and named in each report's
``skipped`` (its key and why), rather than failing the night's run.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from functions.reporting.lake_reports import aging_report, kpi_report, positions
from shared import clock
from shared.adapters import documents
from shared.store import readable, snapshots

KINDS = ("aging", "kpis", "positions")
KPI_PERIOD_DAYS = 30
PREFIX = "reports"
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
QUERY_WAIT_SECONDS = 240.0  # each lake query's; the nightly function may run 300 s and more


class Report(Protocol):
    def to_wire(self) -> dict[str, Any]: ...

    def to_csv(self) -> str: ...


def object_key(kind: str, day: date, extension: str) -> str:
    return f"{PREFIX}/{kind}/dt={day.isoformat()}/{kind}.{extension}"


def scheduled_day(event_time: datetime) -> date:
    """The day a nightly run snapshots: the UTC day that ended before the run was scheduled.

    Reports count days in UTC; the run fires at 01:30 UTC, when yesterday is complete (and
    postings of its last moments have had time to land).
    """
    return event_time.astimezone(UTC).date() - timedelta(days=1)


def reports_of(day: date) -> dict[str, Report]:
    return {
        "aging": aging_report(day, within=QUERY_WAIT_SECONDS),
        "kpis": kpi_report(
            day - timedelta(days=KPI_PERIOD_DAYS - 1), day, within=QUERY_WAIT_SECONDS
        ),
        "positions": positions(day, within=QUERY_WAIT_SECONDS),
    }


def take(day: date) -> dict[str, Any]:
    """Write ``day``'s snapshots; ``{"day", "objects": [...], "latest": {kind: bool}}``."""
    taken_at = clock.now()
    metadata = {"taken-at": clock.iso(taken_at), "day": day.isoformat()}
    written: list[str] = []
    pointed: dict[str, bool] = {}
    with readable.skipping() as skipped:  # a record that does not read is named, not fatal
        reports = reports_of(day)
    for kind, report in reports.items():
        json_key, csv_key = object_key(kind, day, "json"), object_key(kind, day, "csv")
        wire = {**report.to_wire(), "skipped": readable.wire(skipped)}
        body = json.dumps(wire, separators=(",", ":"), ensure_ascii=False)
        documents.write(json_key, body.encode(), content_type="application/json", metadata=metadata)
        documents.write(
            csv_key, report.to_csv().encode(), content_type="text/csv", metadata=metadata
        )
        written += [json_key, csv_key]
        pointer = snapshots.Pointer(kind, day, json_key, csv_key, taken_at)
        pointed[kind] = snapshots.point_to(pointer)
    answer = {"day": day.isoformat(), "objects": written, "latest": pointed}
    return answer | {"skipped": readable.wire(skipped)}


def latest(kind: str) -> dict[str, Any] | None:
    """The newest snapshot of ``kind`` as its report's wire form; None when none was taken (or
    its object is gone)."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; one of {', '.join(KINDS)}")
    pointer = snapshots.latest(kind)
    if pointer is None:
        return None
    try:
        stored = documents.read(pointer.json_key, limit=MAX_SNAPSHOT_BYTES)
    except documents.NoSuchObjectError:
        return None
    report: dict[str, Any] = json.loads(stored.content)
    return report
