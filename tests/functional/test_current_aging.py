"""The current aging: the nightly snapshot's positions rolled forward by the lake's partitions of
the days since (functions/reporting/read_reports.py, shared/lake/current.py), over the API.

The books are tests/functional/test_reports.py's dataset, written into the lake by the backfill;
the snapshot is of 04-09, the clock at 04-10 09:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from functions.lake.backfill import backfill
from functions.reporting import reports, snapshot
from shared import clock
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, allocate, issued_invoice, received, reverse
from tests.functional.conftest import World
from tests.functional.invoicing import credit_note
from tests.functional.test_reports import dataset, on, pay_by_clerk

SNAPSHOT_DAY = date(2026, 4, 9)
TODAY = date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def snapshotted(client: Client, world: World) -> dict[str, Any]:
    """The reports' dataset in the lake, today TODAY, the nightly snapshot of SNAPSHOT_DAY
    taken: its invoices."""
    invoices = dataset(client, world)
    backfill()
    on(TODAY.isoformat())
    snapshot.take(SNAPSHOT_DAY)
    return invoices


@pytest.fixture
def books(client: Client, world: World) -> dict[str, Any]:
    return snapshotted(client, world)


def report(client: Client, path: str) -> dict[str, Any]:
    answer = call(client, "GET", path)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def aging(client: Client, query: str = "") -> dict[str, Any]:
    return report(client, f"/reports/aging{query}")


def books_aging(as_of: date, edges: tuple[int, ...] = (30, 60, 90)) -> dict[str, Any]:
    return {**reports.aging_report(as_of, edges).to_wire(), "source": "current", "skipped": []}


def the_days_movements(client: Client, world: World, invoices: dict[str, Any]) -> None:
    """On 04-10: 41.50 applied to IA1 (closing it), IA2 credited one more widget, a new
    invoice issued; the lake's workers run."""
    pay_by_clerk(client, invoices["IA1"], "41.50")
    body = {"reason": "Another widget arrived damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    note = credit_note(client, invoices["IA2"].invoice_id, body)
    assert note.status == 201, note.body
    issued_invoice(client, world)
    world.pump.drain()


def test_the_current_aging_is_the_books_before_and_after_the_days_movements(
    client: Client, world: World, books: dict[str, Any]
) -> None:
    # Given the snapshot of 04-09 and nothing moved since: the aging is the books', to the cent
    assert aging(client) == books_aging(TODAY)
    assert aging(client, "?as_of=2026-04-09") == books_aging(SNAPSHOT_DAY)

    # When a payment, a credit note and a new invoice of 04-10 land in the lake
    the_days_movements(client, world, books)

    # Then the current aging is still the books' (any buckets), and the snapshot's day too
    after = aging(client)
    assert after == books_aging(TODAY)
    assert after != books_aging(SNAPSHOT_DAY) | {"as_of": TODAY.isoformat()}
    assert aging(client, "?buckets=7,30") == books_aging(TODAY, (7, 30))
    assert aging(client, "?as_of=2026-04-09") == books_aging(SNAPSHOT_DAY)


def test_the_current_aging_reads_only_the_days_after_the_snapshot(
    client: Client, world: World, books: dict[str, Any]
) -> None:
    # Given the day's movements landed after the snapshot of 04-09
    the_days_movements(client, world, books)
    expected = books_aging(TODAY)

    # When every lake partition up to the snapshot's day is gone
    s3, bucket = world.session.client("s3"), world.outputs["LakeBucketName"]
    listed = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="lake/")
    old = [
        item["Key"]
        for page in listed
        for item in page.get("Contents", ())
        if item["Key"].split("dt=")[1][:10] <= SNAPSHOT_DAY.isoformat()
    ]
    assert old, "the backfill wrote the history before the snapshot"
    for key in old:
        s3.delete_object(Bucket=bucket, Key=key)

    # Then the current aging is still the books' (the snapshot and 04-10's partition suffice)
    assert aging(client) == expected


def test_without_a_snapshot_or_when_asked_live_the_aging_is_computed_from_the_books(
    client: Client, world: World
) -> None:
    # Given the dataset and no snapshot
    dataset(client, world)
    on(TODAY.isoformat())

    # Then the aging is computed now, as it is when asked live after a snapshot
    assert aging(client)["source"] == "live"
    backfill()
    snapshot.take(SNAPSHOT_DAY)
    assert aging(client, "?live=true")["source"] == "live"
    assert aging(client, "?source=live")["source"] == "live"
    # And a day before the snapshot's is computed from the books too
    assert aging(client, "?as_of=2026-04-08")["source"] == "live"


def test_an_item_reopened_since_the_snapshot_is_aged_from_the_whole_lake(
    client: Client, world: World
) -> None:
    # Given IA1 paid in full on 04-09 (closed at the snapshot of 04-09)
    invoices = dataset(client, world)
    on(SNAPSHOT_DAY.isoformat())
    payment = received("41.50", customer_id=CUSTOMER)
    body = {"allocations": [{"invoice_id": invoices["IA1"].invoice_id, "amount": "41.50"}]}
    allocated = allocate(client, payment.payment_id, body)
    assert allocated.status == 201, allocated.body
    world.pump.drain()
    backfill()
    on(TODAY.isoformat())
    snapshot.take(SNAPSHOT_DAY)

    # When the allocation is taken back on 04-10 (IA1 open again, due 04-01: its due date is
    # in no partition after the snapshot)
    [allocation] = allocated.body["allocations"]
    taken = reverse(client, payment.payment_id, allocation["id"])
    assert taken.status == 200, taken.body
    world.pump.drain()

    # Then the aging is read from the whole lake, and is the books'
    answer = aging(client)
    assert answer == {**books_aging(TODAY), "source": "lake"}
