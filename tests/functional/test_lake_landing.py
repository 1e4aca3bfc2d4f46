"""The lake: a business flow through the API lands its facts in S3 through Firehose (moto).

A customer renamed; an order placed, confirmed, shipped and invoiced, then paid by a cheque a
clerk records quoting the invoice's number (the matcher applies it): the landing worker on the
table stream puts every journal entry, document, customer, order, payment and event on the
lake's delivery streams, and moto's Firehose delivers them to the lake bucket under
``lake/<table>/dt=<day>/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from functions.lake.backfill import backfill
from functions.lake.land import land_items
from functions.reporting import lake_reports, reports, snapshot
from shared import clock
from shared.lake import duck, records, tables
from shared.lake import s3 as lake_s3
from shared.store import ledger as ledger_store
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, issued_invoice
from tests.functional.conftest import World

Rows = dict[str, list[dict[str, Any]]]
RENAMED = "ACME Retail Holding GmbH"


def lake_rows(world: World) -> Rows:
    """Every row in the lake bucket, by table, with the partition its object is under."""
    s3 = world.session.client("s3")
    bucket = world.outputs["LakeBucketName"]
    found: Rows = defaultdict(list)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="lake/"):
        for listed in page.get("Contents", []):
            _, table, partition, _ = listed["Key"].split("/", 3)
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read().decode()
            for line in body.splitlines():
                row = json.loads(line)
                assert partition == f"dt={row['dt']}"
                found[table].append(row)
    return found


def distinct(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows once each (the lake's readers drop duplicates the same way)."""
    unique = {json.dumps(row, sort_keys=True): row for row in rows}
    return list(unique.values())


KEYS = {
    "journal": ("entry_id", "account", "dimension"),
    "events": ("event_id",),
    "documents": ("invoice_id",),
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "payments": ("payment_id",),
    "disputes": ("invoice_id", "opened_at"),
}


def current(lake: Rows) -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
    """What the lake's readers see (docs/lake.md): per key, the row recorded last."""
    seen: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
    for table, rows in lake.items():
        newest: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in sorted(rows, key=lambda row: row.get("recorded_at") or ""):
            newest[tuple(row[name] for name in KEYS[table])] = row
        seen[table] = newest
    return seen


def paid_invoice(client: Any, world: World) -> tuple[Any, str]:
    renamed = call(
        client, "PATCH", f"/customers/{CUSTOMER}", body={"legal_name": RENAMED, "version": 1}
    )
    assert renamed.status == 200, renamed.body
    invoice = issued_invoice(client, world)
    cheque = {
        "amount": str(invoice.total),
        "currency": invoice.currency,
        "method": "cheque",
        "received_on": clock.now().date().isoformat(),
        "payer_name": "ACME Retail GmbH",
        "reference": "LAKE-1",
        "remittance": invoice.number,
        "customer_id": CUSTOMER,
    }
    answer = call(client, "POST", "/payments", body=cheque)
    assert answer.status == 201, answer.body
    world.pump.drain()
    return invoice, answer.body["id"]


def test_an_order_invoiced_and_paid_lands_its_facts_in_the_lake(client, world: World):
    # Given an order placed, invoiced and paid through the API, and the workers run
    invoice, payment_id = paid_invoice(client, world)

    # When the lake bucket is read
    lake = lake_rows(world)

    # Then the journal holds exactly the customer's entries, one row per posting, each balanced
    entries = ledger_store.entries_for(CUSTOMER)
    expected = [
        json.loads(records.encode("journal", row))
        for entry in entries
        for row in tables.journal_rows(entry, tables.item_of(entry))
    ]
    journal = [row for row in distinct(lake["journal"]) if row["customer_id"] == CUSTOMER]
    assert sorted(journal, key=json.dumps) == sorted(expected, key=json.dumps)
    assert {entry.kind for entry in entries} >= {"invoice", "payment", "allocation"}
    by_entry: dict[str, Decimal] = defaultdict(Decimal)
    for row in journal:
        by_entry[row["entry_id"]] += Decimal(row["debit"]) - Decimal(row["credit"])
    assert set(by_entry.values()) == {Decimal(0)}
    assert {row["item_id"] for row in journal if row["invoice_id"]} == {invoice.invoice_id}

    # And the invoice as issued, the customer renamed, the order and the payment
    [document] = [row for row in lake["documents"] if row["invoice_id"] == invoice.invoice_id]
    assert (document["number"], Decimal(document["total"])) == (invoice.number, invoice.total)
    assert (document["customer_id"], document["kind"], document["legacy"]) == (
        CUSTOMER,
        "invoice",
        False,
    )
    assert {"customer_id": CUSTOMER, "legal_name": RENAMED}.items() <= max(
        (row for row in lake["customers"] if row["customer_id"] == CUSTOMER),
        key=lambda row: row["recorded_at"],
    ).items()
    order_id = invoice.order_id
    order = max(
        (row for row in lake["orders"] if row["order_id"] == order_id),
        key=lambda row: row["recorded_at"],
    )
    assert order["confirmed_at"] and order["shipped_complete_at"]
    # as the reports derive it from the order and its history (first confirmed, shipped whole)
    [stored_order] = [
        i
        for i in world.table_items()
        if i.get("order_id") == order_id and i.get("entity") == "Order"
    ]
    as_reported = reports._order_fact(stored_order, changed_since=date.min)
    assert as_reported is not None
    reported_row = json.loads(records.encode("orders", tables.order_row(as_reported, clock.now())))
    facts = {"order_id", "customer_id", "currency", "confirmed_at", "shipped_complete_at"}
    assert {k: order[k] for k in facts} == {k: reported_row[k] for k in facts}
    # and so is every order row landed on the way (the confirmation's, read from its event)
    confirmed = [row for row in lake["orders"] if row["order_id"] == order_id]
    assert {row["confirmed_at"] for row in confirmed} == {reported_row["confirmed_at"]}
    payment = max(
        (row for row in lake["payments"] if row["payment_id"] == payment_id),
        key=lambda row: row["recorded_at"],
    )
    assert payment["customer_id"] == CUSTOMER
    assert payment["auto_applied_at"] is not None

    # And every committed event, raw, once each
    stored = {item["event_id"] for item in world.table_items() if item.get("entity") == "Event"}
    landed = [row["event_id"] for row in lake["events"]]
    assert set(landed) == stored
    assert len(landed) == len(stored)
    assert all(set(row) == {*tables.column_names("events"), "dt"} for row in lake["events"])


def test_landing_again_changes_nothing_the_lake_reads(client, world: World):
    # Given the lake after a paid invoice
    paid_invoice(client, world)
    before = current(lake_rows(world))

    # When every entry and event is landed a second time (a retried stream batch)
    landed = land_items(
        item for item in world.table_items() if item.get("entity") in {"Event", "LedgerEntry"}
    )

    # Then the lake reads the same: one row per posting, the newest row per fact
    assert landed["journal"] > 0
    assert current(lake_rows(world)) == before


def test_backfill_writes_the_books_the_worker_never_saw(client, world: World):
    # Given a paid invoice whose facts reached the lake, then a lake emptied (a stack older
    # than the lake: its books exist, its lake does not)
    invoice, _ = paid_invoice(client, world)
    s3 = world.session.client("s3")
    bucket = world.outputs["LakeBucketName"]
    for listed in s3.list_objects_v2(Bucket=bucket)["Contents"]:
        s3.delete_object(Bucket=bucket, Key=listed["Key"])

    # When the backfill runs
    answer = backfill()

    # Then the lake holds the books: every entry of the customer, balanced; the invoice; every
    # customer (the seeded ones, which no event ever announced); every event
    lake = lake_rows(world)
    assert answer["rows"]["journal"] == len(lake["journal"])
    entry_ids = {row["entry_id"] for row in lake["journal"] if row["customer_id"] == CUSTOMER}
    assert entry_ids == {entry.entry_id for entry in ledger_store.entries_for(CUSTOMER)}
    assert invoice.invoice_id in {row["invoice_id"] for row in lake["documents"]}
    assert {"cus_acme", "cus_globex"} <= {row["customer_id"] for row in lake["customers"]}
    stored = {item["event_id"] for item in world.table_items() if item.get("entity") == "Event"}
    assert {row["event_id"] for row in lake["events"]} == stored


def business(client: Any, world: World) -> None:
    """The seed's books written into the lake once, then business through the API: an invoice
    paid by cheque, one credited in part, one left open, and the workers run."""
    backfill()
    paid_invoice(client, world)
    credited = issued_invoice(client, world, purchase_order="PO-LAKE-2")
    note = call(
        client,
        "POST",
        f"/invoices/{credited.invoice_id}/credit-notes",
        body={"reason": "Damaged", "lines": [{"line_no": 1, "quantity": "1"}]},
    )
    assert note.status == 201, note.body
    issued_invoice(client, world, purchase_order="PO-LAKE-3")
    world.pump.drain()


def test_the_lake_reports_what_the_api_reports_to_the_cent(client, world: World, tmp_path):
    # Given the seed's books and business through the API, in the lake
    business(client, world)

    # When DuckDB reads the lake bucket's objects (as landed, duplicates and all)
    root = lake_s3.download(
        world.session.client("s3"), world.outputs["LakeBucketName"], tmp_path / "lake"
    )
    today = clock.now().date()
    month_start = today.replace(day=1)

    # Then its aging and KPIs are the API's, to the cent
    api_aging = call(client, "GET", f"/reports/aging?as_of={today.isoformat()}").body
    assert api_aging.pop("skipped") == [] and api_aging.pop("source") == "live"
    assert duck.aging(root, today).to_wire() == api_aging
    api_kpis = call(
        client, "GET", f"/reports/kpis?from={month_start.isoformat()}&to={today.isoformat()}"
    ).body
    api_kpis.pop("skipped", None), api_kpis.pop("source", None)
    service = api_kpis.pop("service")  # the cases' figures, read from the table (one function)
    assert duck.kpis(root, month_start, today).to_wire() == api_kpis

    # And the API answers the same from the lake when asked (source=lake)
    lake_aging = call(client, "GET", f"/reports/aging?as_of={today.isoformat()}&source=lake")
    assert lake_aging.status == 200, lake_aging.body
    assert lake_aging.body.pop("source") == "lake" and lake_aging.body.pop("skipped") == []
    assert lake_aging.body == api_aging
    period = f"from={month_start.isoformat()}&to={today.isoformat()}"
    lake_kpis = call(client, "GET", f"/reports/kpis?{period}&source=lake")
    assert lake_kpis.status == 200, lake_kpis.body
    assert lake_kpis.body.pop("source") == "lake" and lake_kpis.body.pop("skipped") == []
    assert lake_kpis.body.pop("service") == service
    assert lake_kpis.body == api_kpis


def test_the_nightly_snapshot_read_from_the_lake_is_the_live_report(client, world: World):
    # Given the seed's books and business through the API, in the lake
    business(client, world)
    today = clock.now().date()

    # When the day's snapshot is taken (from the lake)
    snapshot.take(today)

    # Then its aging and KPIs are the reports computed now from the books, to the cent
    aging = snapshot.latest("aging")
    kpis = snapshot.latest("kpis")
    assert aging is not None and kpis is not None
    assert aging.pop("skipped") == [] and kpis.pop("skipped") == []
    assert aging == reports.aging_report(today).to_wire()
    assert aging["currencies"], "the flow left receivables open"
    start = today - timedelta(days=snapshot.KPI_PERIOD_DAYS - 1)
    assert kpis == reports.kpi_report(start, today).to_wire()


def test_the_lake_dso_trend_is_the_books(client, world: World):
    # Given the seed's books and business through the API, in the lake
    business(client, world)
    today = clock.now().date()

    # When the month-end DSO of the last 13 months is read from the lake, Then it is the books'
    trend = lake_reports.dso_trend(today, 13)
    assert trend == reports.dso_trend(today, 13)
    assert any(value is not None for month in trend for value in month["dso"].values())
