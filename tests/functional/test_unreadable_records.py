"""A stored record that does not read (written by an older release, or by hand) never takes a
report or a list down: the answer leaves it out and names it in ``skipped``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import clock
from shared.store import readable
from tests.functional.accounts import call
from tests.functional.conftest import ADMIN_KEY, World
from tests.functional.invoicing import legacy_invoice, placed
from tests.functional.test_manual_payments import cheque

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
RECEIVED = "2026-11-20T00:00:00.000Z"
BEFORE_YEAR_1000 = "1-01-01T00:00:00.000Z"  # what the unpadded year of old releases wrote

Key = tuple[str, str]


def _rewrite(world: World, wanted: Callable[[dict[str, Any]], bool], change: Callable[[str], str]):
    """Rewrite, straight in the table, every string attribute of the items ``wanted``."""
    dynamodb = world.session.client("dynamodb")
    changed: set[Key] = set()
    for item in world.table_items():
        if not wanted(item):
            continue
        fields = {
            name: {"S": change(value)}
            for name, value in item.items()
            if isinstance(value, str) and name not in ("pk", "sk") and change(value) != value
        }
        if fields:
            dynamodb.put_item(
                TableName=world.outputs["TableName"],
                Item={**_typed(item), **fields},
            )
            changed.add((item["pk"], item["sk"]))
    return changed


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    from shared.store.table import to_dynamo

    return to_dynamo(item)


@pytest.fixture
def damaged(client, world: World) -> Iterator[dict[str, set[Key]]]:
    """ACME's books with one record of each kind that does not read: a payment received in
    year 1 as old releases stored it, a legacy invoice due on 2026-02-30 and an order whose
    timestamps are garbled."""
    clock.set_clock(lambda: datetime(2026, 11, 2, 9, tzinfo=UTC))
    legacy_invoice("cus_acme", "L-1", issued="2026-09-15", due="2026-10-15", original="1000.00",
                   still_open="1000.00")  # fmt: skip
    bad_invoice = legacy_invoice("cus_acme", "L-2", issued="2026-11-01", due="2026-12-15",
                                 original="250.00", still_open="250.00")  # fmt: skip
    order = placed(client, world)
    clock.set_clock(lambda: NOW)
    paid = call(client, "POST", "/payments", body=cheque())
    assert paid.status == 201, paid.body
    world.pump.drain()
    payment_id = paid.body["id"]
    damage = {
        "payment": _rewrite(
            world,
            lambda item: payment_id in json.dumps(item, default=str),
            lambda text: text.replace(RECEIVED, BEFORE_YEAR_1000),
        ),
        "invoice": _rewrite(
            world,
            lambda item: item.get("invoice_id") == bad_invoice and item.get("entity") == "Invoice",
            lambda text: text.replace("2026-12-15", "2026-02-30"),
        ),
        "order": _rewrite(
            world,
            lambda item: item.get("order_id") == order["id"] and item.get("entity") == "Order",
            lambda text: "2026-11-02T09" if text.startswith("2026-11-02T09") else text,
        ),
    }
    assert all(damage.values()), damage
    yield damage
    clock.set_clock(None)


def _skipped(answer: Any) -> set[Key]:
    return {(record["pk"], record["sk"]) for record in answer["skipped"]}


def _all(damaged: dict[str, set[Key]]) -> set[Key]:
    return set().union(*damaged.values())


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("/reports/aging?live=true", {"payment", "invoice"}),
        ("/reports/kpis?from=2026-11-01&to=2026-12-01", {"payment", "invoice", "order"}),
        ("/payments?status=unapplied", {"payment"}),
        ("/invoices?customer_id=cus_acme", {"invoice"}),
        ("/orders?customer_id=cus_acme", {"order"}),
        ("/customers/cus_acme/statement", {"payment", "invoice"}),
        ("/customers/cus_acme/statement?format=pdf", {"payment", "invoice"}),
        ("/collections/worklist", {"invoice"}),
    ],
)
def test_a_report_or_list_answers_without_the_unreadable_record_and_names_it(
    client, damaged: dict[str, set[Key]], path: str, kinds: set[str]
):
    # When
    answer = call(client, "GET", path)

    # Then
    assert answer.status == 200, answer.body
    skipped = _skipped(answer.body)
    assert skipped <= _all(damaged), answer.body["skipped"]
    for kind in kinds:
        assert skipped & damaged[kind], (kind, answer.body["skipped"])
    assert all(record["reason"] for record in answer.body["skipped"])


def test_the_dashboard_shows_the_books_and_lists_the_records_left_out(
    client, damaged: dict[str, set[Key]]
):
    # When
    response = client.http.get("/dashboard", headers={"X-Api-Key": ADMIN_KEY})

    # Then
    assert response.status_code == 200, response.body
    page = response.body.decode()
    assert 'id="skipped"' in page
    for kind in ("payment", "invoice"):  # the payment's ledger entry, the invoice
        assert any(pk in page and sk in page for pk, sk in damaged[kind]), kind


def test_a_collection_run_and_the_nightly_snapshot_go_on(client, damaged: dict[str, set[Key]]):
    # When
    run = call(client, "POST", "/collection-runs", body={"dry_run": True})
    from functions.reporting.snapshot import take

    taken = take(NOW.date())

    # Then
    assert run.status in (200, 202), run.body
    assert _skipped(run.body) <= _all(damaged)
    # the snapshot reads the lake, where a damaged item never landed: it goes on and skips nothing
    assert taken["latest"] == {"aging": True, "kpis": True, "positions": True}
    assert _skipped(taken) == set()
    aging = call(client, "GET", "/reports/aging")
    assert aging.status == 200 and aging.body["source"] == "current"
    assert _skipped(aging.body) == _skipped(taken)


def test_an_unreadable_record_is_counted_and_logged_by_its_key_only(
    client,
    damaged: dict[str, set[Key]],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
):
    # Given
    counted: list[dict[str, Any]] = []
    monkeypatch.setattr(readable.metrics, "add_metric", lambda **metric: counted.append(metric))

    # When
    with caplog.at_level(logging.WARNING):
        answer = call(client, "GET", "/payments?status=unapplied")

    # Then
    assert answer.status == 200
    assert [metric["name"] for metric in counted] == ["UnreadableRecords"]
    [logged] = [
        record for record in caplog.records if record.getMessage() == "unreadable item skipped"
    ]
    assert (vars(logged)["pk"], vars(logged)["sk"]) in damaged["payment"]
    assert "ACME Retail" not in repr(vars(logged)) and "0001042" not in repr(vars(logged))
