"""Every view of the lake (aging as of a day, open items, KPIs, the DSO trend) answers what the
reports rebuilt from the books answer, on the same seeded books: tests/functional/
test_reports.py's dataset, whose figures that file computes by hand, with IA1's remaining 41.50
paid on 04-10 (the matcher applies it), in the lake by its worker and the backfill.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from functions.lake.backfill import backfill
from functions.reporting import lake_reports, reports, snapshot
from shared import clock
from shared.domain.money import quantize
from shared.lake import engine, queries
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, paid_in
from tests.functional.conftest import World
from tests.functional.test_reports import dataset, on

TODAY = date(2026, 4, 10)
DAYS = (date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 31), date(2026, 4, 2), TODAY)
PERIODS = (
    (date(2026, 3, 1), TODAY),
    (date(2026, 3, 1), date(2026, 3, 31)),
    (date(2026, 4, 1), TODAY),
    (TODAY, TODAY),
)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def books(client: Client, world: World) -> None:
    invoices = dataset(client, world)
    on(TODAY.isoformat())
    paid_in(world, "41.50", customer_id=CUSTOMER, remittance=invoices["IA1"].number)
    world.pump.drain()
    backfill()  # the legacy invoice, seeded in the table, the worker never saw


def from_lake(client: Client, path: str) -> dict[str, Any]:
    answer = call(client, "GET", f"{path}&source=lake")
    assert answer.status == 200, answer.body
    assert answer.body.pop("source") == "lake" and answer.body.pop("skipped") == []
    answer.body.pop("service", None)  # the KPIs' cases figures: read from the table, not the lake
    body: dict[str, Any] = answer.body
    return body


def test_the_lake_aging_of_every_day_is_the_books(client: Client, books: None) -> None:
    for as_of in DAYS:
        for edges in ((30, 60, 90), (7, 30)):
            query = f"?as_of={as_of.isoformat()}&buckets={','.join(map(str, edges))}"
            expected = reports.aging_report(as_of, edges).to_wire()
            assert from_lake(client, f"/reports/aging{query}") == expected, (as_of, edges)
    assert expected["currencies"], "receivables are open"


def test_the_lake_open_items_of_every_day_are_the_books(books: None) -> None:
    for as_of in DAYS:
        lake = {
            (row["customer_id"], row["currency"], row["item_id"]): (
                row["due_on"].isoformat(),
                str(quantize(row["amount"], row["currency"])),
            )
            for row in engine.rows(queries.open_items(as_of))
        }
        expected = {
            (row["customer_id"], row["currency"], row["item_id"]): (row["due_on"], row["amount"])
            for row in reports.open_items_report(as_of).items
        }
        assert lake == expected, as_of
    assert len(lake) == 3, "IA2, the legacy invoice and IG1 are open on 04-10"


def test_the_kpis_of_a_past_period_the_snapshots_reached_read_the_lake_by_default(
    client: Client, books: None
) -> None:
    def kpis(query: str) -> dict[str, Any]:
        answer = call(client, "GET", f"/reports/kpis?{query}")
        assert answer.status == 200, answer.body
        body: dict[str, Any] = answer.body
        return body

    march = "from=2026-03-01&to=2026-03-31"
    # Given no nightly snapshot yet: the books answer March
    assert kpis(march)["source"] == "live"

    # When the nightly snapshot of 04-09 is taken (from the lake)
    snapshot.take(date(2026, 4, 9))

    # Then March is read from the lake, the books' figures; a period reaching today (whose
    # postings may still be landing) or past the snapshot's day, and source=live, the books'
    answer = kpis(march)
    assert answer.pop("source") == "lake" and answer.pop("skipped") == []
    # (the cases' figures come from the table whatever the source: the same either way)
    assert answer.pop("service") == kpis(f"{march}&source=live")["service"]
    assert answer == reports.kpi_report(date(2026, 3, 1), date(2026, 3, 31)).to_wire()
    assert kpis("from=2026-04-01&to=2026-04-10")["source"] == "live"
    assert kpis(f"{march}&source=live")["source"] == "live"


def test_the_lake_kpis_of_every_period_are_the_books(client: Client, books: None) -> None:
    for start, end in PERIODS:
        query = f"?from={start.isoformat()}&to={end.isoformat()}"
        lake = from_lake(client, f"/reports/kpis{query}")
        assert lake == reports.kpi_report(start, end).to_wire(), (start, end)

    # and every KPI is defined somewhere, as tests/functional/test_reports.py computes it by hand
    lake = from_lake(client, "/reports/kpis?from=2026-03-01&to=2026-04-10")
    eur, gbp = (
        next(group for group in lake["currencies"] if group["currency"] == currency)
        for currency in ("EUR", "GBP")
    )
    assert (eur["dso"], gbp["countback_dso"], eur["cei"]) == ("43.92", "41.00", "35.89")
    assert (eur["average_days_to_pay"], eur["invoices_paid"]) == ("39.00", 1)
    assert (eur["fulfilment_rate"], eur["auto_match_rate"]) == ("100.00", "50.00")
    assert (eur["invoice_accuracy"], eur["average_days_delinquent"]) == ("50.00", "43.92")


def test_the_lake_dso_trend_is_the_books(books: None) -> None:
    for months in (1, 3, 13):
        assert lake_reports.dso_trend(TODAY, months) == reports.dso_trend(TODAY, months)
