"""The current open items: the nightly snapshot's positions (each item described as an open-items
row shows it) rolled forward by the lake's partitions of the days since
(functions/reporting/read_reports.py, shared/lake/current.py), over the API.

The books are tests/functional/test_reports.py's dataset (a legacy invoice, three invoices, a
credit note, a payment), written into the lake by the backfill; the snapshot is of 04-09, the
clock at 04-10.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from functions.lake.backfill import backfill
from functions.reporting import reports, snapshot
from shared import clock
from shared.adapters import documents
from shared.store import snapshots
from tests.functional.accounts import call
from tests.functional.collections import run_on
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem_answer
from tests.functional.test_current_aging import (
    SNAPSHOT_DAY,
    TODAY,
    report,
    snapshotted,
    the_days_movements,
)
from tests.functional.test_reports import dataset, on


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def invoices(client: Client, world: World) -> dict[str, Any]:
    return snapshotted(client, world)


def open_items(client: Client, query: str = "") -> dict[str, Any]:
    return report(client, f"/reports/open-items{query}")


def books_open_items(
    as_of: date, edges: tuple[int, ...] = (30, 60, 90), source: str = "current"
) -> dict[str, Any]:
    report = reports.open_items_report(as_of, edges)
    return {**report.to_wire(), "source": source, "skipped": []}


def test_the_current_open_items_are_the_books_before_and_after_the_days_movements(
    client: Client, world: World, invoices: dict[str, Any]
) -> None:
    # Given the snapshot of 04-09 and nothing moved since: the open items are the books', row
    # by row and to the cent (the legacy invoice with its flag, the rest of a paid invoice)
    before = open_items(client)
    assert before == books_open_items(TODAY)
    assert any(row["legacy"] for row in before["items"])
    assert open_items(client, "?as_of=2026-04-09") == books_open_items(SNAPSHOT_DAY)

    # When a payment, a credit note, a new invoice and the day's collection run's fees and
    # interest (on the overdue invoices, the legacy one among them) land in the lake on 04-10
    the_days_movements(client, world, invoices)
    run_on(world, TODAY)
    world.pump.drain()

    # Then the current open items are still the books' (any buckets), the charges numbered by
    # the invoice they were charged on
    after = open_items(client)
    assert after == books_open_items(TODAY)
    charges = [row for row in after["items"] if row["kind"] in ("fee", "interest")]
    assert charges, after["items"]
    numbers = {row["number"] for row in charges}
    assert "L-77" in numbers and all(number.startswith(("INV-", "L-")) for number in numbers)
    assert after != before
    assert open_items(client, "?buckets=7,30") == books_open_items(TODAY, (7, 30))
    assert open_items(client, "?as_of=2026-04-09") == books_open_items(SNAPSHOT_DAY)
    # and the whole lake, and the books asked directly, answer the same rows
    assert open_items(client, "?source=lake") == books_open_items(TODAY, source="lake")
    assert open_items(client, "?source=live") == books_open_items(TODAY, source="live")


def test_positions_that_do_not_describe_their_items_list_them_from_the_whole_lake(
    client: Client, world: World, invoices: dict[str, Any]
) -> None:
    # Given the newest positions kept as a snapshot written before positions described items
    pointer = snapshots.latest("positions")
    assert pointer is not None
    kept = json.loads(documents.read(pointer.json_key, limit=snapshot.MAX_SNAPSHOT_BYTES).content)
    described = ("kind", "number", "issued_on", "legacy")
    kept["items"] = [
        {name: value for name, value in row.items() if name not in described}
        for row in kept["items"]
    ]
    documents.write(pointer.json_key, json.dumps(kept).encode(), content_type="application/json")
    the_days_movements(client, world, invoices)

    # Then the open items are read from the whole lake, and are the books'; the aging still
    # rolls the positions forward
    assert open_items(client) == books_open_items(TODAY, source="lake")
    assert call(client, "GET", "/reports/aging").body["source"] == "current"


def test_without_a_snapshot_the_open_items_are_computed_from_the_books(
    client: Client, world: World
) -> None:
    # Given the dataset and no snapshot
    dataset(client, world)
    on(TODAY.isoformat())

    # Then the open items are computed now; a day before a later snapshot's is too
    assert open_items(client) == books_open_items(TODAY, source="live")
    backfill()
    snapshot.take(SNAPSHOT_DAY)
    assert open_items(client, "?as_of=2026-04-08")["source"] == "live"


@pytest.mark.parametrize("query", ["?source=athena", "?live=true", "?source=LAKE"])
def test_hostile_open_items_queries_answer_400(client: Client, world: World, query: str) -> None:
    assert_problem_answer(call(client, "GET", f"/reports/open-items{query}"), 400, "invalid-query")
