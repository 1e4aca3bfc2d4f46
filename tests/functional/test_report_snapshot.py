"""The nightly report snapshot: JSON and CSV per day in S3, and the newest one read back fast."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

import app as app_module
from functions.lake.backfill import backfill
from functions.reporting import snapshot
from functions.reporting.reports import aging_report, kpi_report
from infra.local.pump import LambdaContext
from shared import clock
from shared.store import snapshots
from tests.functional.invoicing import acme_owes_two_legacy_invoices

DAY = date(2026, 11, 30)
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def books(world):
    """ACME's two legacy invoices, imported on 2026-11-02: 1000.00 due 2026-10-15 (46 days past
    due on 2026-11-30: 31-60) and 250.00 due 2026-12-15 (current), written into the lake (the
    snapshot reads the lake)."""
    acme_owes_two_legacy_invoices()
    backfill()
    clock.set_clock(lambda: datetime.combine(DAY, time(23, 59), UTC))
    yield world
    clock.set_clock(None)


def s3_object(world, key):
    return world.session.client("s3").get_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=key
    )


def test_a_day_is_written_as_json_and_csv_under_hive_partitions(books):
    # When the day's snapshot is taken
    taken = snapshot.take(DAY)

    # Then each kind lands as JSON and CSV under reports/<kind>/dt=<day>/
    assert taken["objects"] == [
        "reports/aging/dt=2026-11-30/aging.json",
        "reports/aging/dt=2026-11-30/aging.csv",
        "reports/kpis/dt=2026-11-30/kpis.json",
        "reports/kpis/dt=2026-11-30/kpis.csv",
        "reports/positions/dt=2026-11-30/positions.json",
        "reports/positions/dt=2026-11-30/positions.csv",
    ]
    assert taken["latest"] == {"aging": True, "kpis": True, "positions": True}
    # and the JSON is the report as the API gives it, on one line (one Athena record)
    raw = s3_object(books, "reports/aging/dt=2026-11-30/aging.json")["Body"].read().decode()
    assert "\n" not in raw
    aging = json.loads(raw)
    assert aging == {**aging_report(DAY).to_wire(), "skipped": []}
    [eur] = aging["currencies"]
    assert {label: Decimal(v) for label, v in eur["totals"]["buckets"].items()} == {
        "current": Decimal("250.00"),
        "1-30": 0,
        "31-60": Decimal("1000.00"),
        "61-90": 0,
        "90+": 0,
    }
    assert eur["totals"]["total"] == "1250.00"
    # and the KPIs cover the 30 days that end with the day
    kpis = json.loads(s3_object(books, "reports/kpis/dt=2026-11-30/kpis.json")["Body"].read())
    assert (kpis["from"], kpis["to"], kpis["days"]) == ("2026-11-01", "2026-11-30", 30)
    assert kpis == {**kpi_report(date(2026, 11, 1), DAY).to_wire(), "skipped": []}
    # and the positions are the open items (due date, amount) the aging buckets
    positions = snapshot.latest("positions")
    assert positions is not None and positions["as_of"] == "2026-11-30"
    assert sorted((row["due_on"], Decimal(row["amount"])) for row in positions["items"]) == [
        (date(2026, 10, 15).isoformat(), Decimal("1000.00")),
        (date(2026, 12, 15).isoformat(), Decimal("250.00")),
    ]
    # and the CSVs are the reports' own
    aging_csv = s3_object(books, "reports/aging/dt=2026-11-30/aging.csv")
    assert aging_csv["ContentType"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(aging_csv["Body"].read().decode())))
    assert [(r["customer_id"], r["total"]) for r in rows] == [
        ("cus_acme", "1250.00"),
        ("TOTAL", "1250.00"),
    ]


def test_snapshots_are_encrypted_with_the_stacks_key(books):
    # When
    snapshot.take(DAY)

    # Then (the bucket's default encryption: SSE-KMS)
    head = books.session.client("s3").head_object(
        Bucket=books.outputs["DocumentsBucketName"], Key="reports/aging/dt=2026-11-30/aging.json"
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["Metadata"]["day"] == "2026-11-30"


def test_latest_answers_the_newest_day_and_a_backfill_does_not_move_it_back(books):
    # Given the newest day's snapshot, then an older day's taken afterwards (a backfill)
    snapshot.take(DAY)
    snapshot.take(date(2026, 11, 20))

    # When
    latest = snapshot.latest("aging")

    # Then the newest day still answers, and the backfilled day's objects exist
    assert latest is not None
    assert latest["as_of"] == "2026-11-30"
    pointer = snapshots.latest("aging")
    assert pointer is not None and pointer.day == DAY
    older = json.loads(s3_object(books, "reports/aging/dt=2026-11-20/aging.json")["Body"].read())
    assert older["as_of"] == "2026-11-20"


def test_latest_is_none_before_any_snapshot(world):
    assert snapshot.latest("aging") is None
    assert snapshot.latest("kpis") is None
    with pytest.raises(ValueError):
        snapshot.latest("nonsense")


def test_the_nightly_schedule_snapshots_the_day_that_ended(books):
    # Given Scheduler's event for 01:30 UTC on 2026-12-01
    event = json.loads((EVENTS / "schedule/run-reports.json").read_text())
    assert event["time"] == "2026-12-01T01:30:00Z"

    # When the scheduled function runs
    result = app_module.run_reports(event, LambdaContext("run_reports"))

    # Then it took 2026-11-30, the UTC day that had just ended
    assert result["day"] == "2026-11-30"
    latest = snapshot.latest("kpis")
    assert latest is not None and latest["to"] == "2026-11-30"
