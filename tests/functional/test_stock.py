"""Stock over HTTP and in transactions, against moto: levels, counts, adjustments, and the order
moves' conditions, including 20 concurrent reservations of 5 units."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from shared.store import stock, table
from shared.store.table import TransactionConflictError
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import assert_problem, events, snapshot

AUDITOR_KEY = "otc_test_auditor_key_0123456789abcdef"


@pytest.fixture
def stocked(world: World) -> World:
    """The demo catalog, which the world's seed loads (WIDGET-1: 1000 on hand, GADGET-2: 5000,
    SERVICE-HOUR untracked), and an auditor's key."""
    from shared.http.auth import Principal, Role, key_item
    from shared.store.table import Put

    auditor = Principal(principal_id="stf_auditor", role=Role.AUDITOR)
    table.transact([Put.new(key_item(AUDITOR_KEY, auditor))])
    return world


def get(client: Any, sku: str, key: str = ADMIN_KEY) -> Any:
    return client.http.get(f"/stock/{sku}", headers={"X-Api-Key": key})


def put(client: Any, sku: str, body: Any, key: str = ADMIN_KEY) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.put(
        f"/stock/{sku}", headers={"Content-Type": "application/json", "X-Api-Key": key}, body=raw
    )


def adjust(
    client: Any, sku: str, body: Any, *, key: str = ADMIN_KEY, idempotency_key: str | None = None
) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Content-Type": "application/json", "X-Api-Key": key}
    if idempotency_key != "":
        headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    return client.http.post(f"/stock/{sku}/adjustments", headers=headers, body=raw)


def level(sku: str) -> tuple[int, int]:
    current = stock.get_level(sku)
    return current.available, current.reserved


# --- reading ---------------------------------------------------------------------------------


def test_staff_see_the_whole_level_and_partners_what_may_be_promised(stocked, client):
    # Given 3 units of WIDGET-1 reserved by an order
    table.transact([stock.reserve("WIDGET-1", 3)])
    # When staff and a partner read it
    staff = json.loads(get(client, "WIDGET-1").body)
    partner = json.loads(get(client, "WIDGET-1", key=PARTNER_KEY).body)
    # Then staff see on hand, available, reserved and the version; partners see availability only
    assert {k: staff[k] for k in ("tracked", "on_hand", "available", "reserved", "version")} == {
        "tracked": True,
        "on_hand": 1000,
        "available": 997,
        "reserved": 3,
        "version": 1,
    }
    assert partner == {"sku": "WIDGET-1", "tracked": True, "available": 997}


def test_a_sku_without_a_stock_item_is_not_tracked_and_an_unknown_one_is_404(stocked, client):
    assert json.loads(get(client, "SERVICE-HOUR", key=PARTNER_KEY).body) == {
        "sku": "SERVICE-HOUR",
        "tracked": False,
    }
    assert_problem(get(client, "NOPE-1"), 404, "not-found")
    assert_problem(get(client, "not a sku"), 404, "not-found")


def test_get_levels_tells_tracked_from_untracked_in_one_batch_get(stocked):
    from shared.adapters import aws

    calls: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name])
    )
    levels = stock.get_levels(["WIDGET-1", "SERVICE-HOUR", "GADGET-2", "WIDGET-1", "bad sku"])
    assert calls == Counter({"BatchGetItem": 1})
    assert list(levels) == ["WIDGET-1", "SERVICE-HOUR", "GADGET-2", "bad sku"]
    assert {sku: (lv.tracked, lv.available) for sku, lv in levels.items()} == {
        "WIDGET-1": (True, 1000),
        "SERVICE-HOUR": (False, 0),
        "GADGET-2": (True, 5000),
        "bad sku": (False, 0),
    }


# --- the order moves, in transactions --------------------------------------------------------


def test_reserve_release_and_ship_move_units_and_never_below_zero(stocked):
    # Given WIDGET-1 with 1000 available
    table.transact([stock.reserve("WIDGET-1", 10)])
    assert level("WIDGET-1") == (990, 10)
    table.transact([stock.release("WIDGET-1", 4)])
    assert level("WIDGET-1") == (994, 6)
    table.transact([stock.ship("WIDGET-1", 5)])
    assert level("WIDGET-1") == (994, 1)  # on hand went down by the 5 shipped
    # When a move asks for more than there is, the whole transaction fails and nothing moves
    for move in (
        stock.reserve("WIDGET-1", 995),
        stock.release("WIDGET-1", 2),
        stock.ship("WIDGET-1", 2),
    ):
        with pytest.raises(TransactionConflictError) as raised:
            table.transact([stock.reserve("GADGET-2", 1), move])
        assert raised.value.failed == (1,)
        assert level("WIDGET-1") == (994, 1)
        assert level("GADGET-2") == (5000, 0)


def test_an_untracked_sku_cannot_be_reserved(stocked):
    with pytest.raises(TransactionConflictError):
        table.transact([stock.reserve("SERVICE-HOUR", 1)])
    assert not stock.get_level("SERVICE-HOUR").tracked  # the failed update created nothing


def test_twenty_concurrent_reservations_of_five_units_never_oversell(
    stocked, serializable_transactions
):
    # Given a SKU with exactly 5 available (and moto isolating transactions as DynamoDB does)
    stock.set_on_hand("GADGET-2", 5, expected_version=1)
    table.table_name()  # settings are cached before the threads too
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def reserve_one() -> None:
        start.wait()
        try:
            table.transact([stock.reserve("GADGET-2", 1)])
            outcome = "reserved"
        except TransactionConflictError:
            outcome = "conflict"
        with lock:
            outcomes.append(outcome)

    # When 20 threads each reserve 1 unit at once
    threads = [threading.Thread(target=reserve_one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 5 got a unit, 15 were refused, and nothing was oversold
    assert Counter(outcomes) == Counter({"reserved": 5, "conflict": 15})
    assert level("GADGET-2") == (0, 5)


# --- counts ----------------------------------------------------------------------------------


def test_staff_set_on_hand_keeping_what_is_reserved(stocked, client):
    # Given 30 units reserved
    table.transact([stock.reserve("WIDGET-1", 30)])
    # When staff set on hand to 800 at the version they read
    response = put(client, "WIDGET-1", {"on_hand": 800, "version": 1, "reason": "cycle count"})
    # Then 770 are available, 30 still reserved, and the change is an event
    assert response.status_code == 200
    body = json.loads(response.body)
    assert (body["on_hand"], body["available"], body["reserved"], body["version"]) == (
        800,
        770,
        30,
        2,
    )
    [event] = events(stocked, "StockLevelSet")
    assert event == {
        "sku": "WIDGET-1",
        "on_hand": 800,
        "available": 770,
        "reserved": 30,
        "delta": -200,
        "reason": "cycle count",
        "version": 2,
    }


def test_setting_on_hand_below_what_is_reserved_is_refused_and_writes_nothing(stocked, client):
    table.transact([stock.reserve("WIDGET-1", 30)])
    before = snapshot(stocked)
    assert_problem(put(client, "WIDGET-1", {"on_hand": 29, "version": 1}), 409, "below-reserved")
    assert snapshot(stocked) == before


def test_setting_on_hand_at_a_stale_version_is_refused(stocked, client):
    put(client, "WIDGET-1", {"on_hand": 900, "version": 1})
    before = snapshot(stocked)
    assert_problem(put(client, "WIDGET-1", {"on_hand": 950, "version": 1}), 409, "stale-version")
    assert snapshot(stocked) == before
    assert level("WIDGET-1") == (900, 0)


def test_a_count_at_version_0_starts_tracking_a_sku(stocked, client):
    # Given a new item, not tracked yet
    client.http.put(
        "/catalog/items/BOLT-9",
        headers={"Content-Type": "application/json", "X-Api-Key": ADMIN_KEY},
        body=json.dumps({"name": "Bolt", "unit": "EA", "tax_category": "standard"}),
    )
    assert json.loads(get(client, "BOLT-9").body)["tracked"] is False
    # When staff count 40 at version 0
    response = put(client, "BOLT-9", {"on_hand": 40, "version": 0})
    # Then it is tracked from now on
    assert response.status_code == 201
    assert json.loads(get(client, "BOLT-9").body)["available"] == 40
    assert_problem(put(client, "BOLT-9", {"on_hand": 40, "version": 0}), 409, "stale-version")


def test_a_count_is_read_again_when_an_order_moved_the_sku_in_between(stocked, monkeypatch):
    from shared.store import stock as stock_store

    # Given an order that reserves 7 units right after the count read the level
    real_get = stock_store.get_level
    reads: list[Any] = []

    def get_then_order_moves(sku: str):
        current = real_get(sku)
        if not reads:
            table.transact([stock.reserve(sku, 7)])
        reads.append(current)
        return current

    monkeypatch.setattr(stock_store, "get_level", get_then_order_moves)
    # When staff set on hand to 100
    after, started = stock_store.set_on_hand("WIDGET-1", 100, expected_version=1)
    # Then the count was decided again on fresh levels: the 7 stay reserved
    assert len(reads) == 2 and not started
    assert (after.available, after.reserved) == (93, 7)
    assert level("WIDGET-1") == (93, 7)


# --- adjustments -----------------------------------------------------------------------------


def test_a_receipt_and_a_write_off_adjust_available_with_events(stocked, client):
    received = adjust(client, "WIDGET-1", {"delta": 25, "reason": "receipt PO-9"})
    written_off = adjust(client, "WIDGET-1", {"delta": -5, "reason": "damaged"})
    assert (received.status_code, written_off.status_code) == (200, 200)
    body = json.loads(written_off.body)
    assert (body["on_hand"], body["available"], body["version"]) == (1020, 1020, 3)
    assert sorted(
        (e["delta"], e["reason"], e["on_hand"]) for e in events(stocked, "StockAdjusted")
    ) == [
        (-5, "damaged", 1020),
        (25, "receipt PO-9", 1025),
    ]


def test_a_write_off_beyond_what_is_available_is_refused_and_writes_nothing(stocked, client):
    table.transact([stock.reserve("WIDGET-1", 990)])
    before = snapshot(stocked)
    problem = assert_problem(
        adjust(client, "WIDGET-1", {"delta": -11, "reason": "lost"}), 409, "insufficient-stock"
    )
    assert "10 available" in problem["detail"]
    assert snapshot(stocked) == before


def test_an_untracked_sku_cannot_be_adjusted_and_an_unknown_one_is_404(stocked, client):
    before = snapshot(stocked)
    body = {"delta": 1, "reason": "receipt"}
    assert_problem(adjust(client, "SERVICE-HOUR", body), 409, "not-stock-tracked")
    assert_problem(adjust(client, "NOPE-1", body), 404, "not-found")
    assert_problem(adjust(client, "not-a-SKU", body), 400, "invalid-query")
    assert_problem(adjust(client, "X" * 3000, body), 400, "invalid-query")
    assert_problem(put(client, "X" * 3000, {"on_hand": 1, "version": 0}), 400, "invalid-query")
    assert snapshot(stocked) == before


def test_an_adjustment_happens_once_per_idempotency_key(stocked, client):
    # Given a receipt
    body = {"delta": 10, "reason": "receipt PO-1"}
    first = adjust(client, "WIDGET-1", body, idempotency_key="adj-1")
    # When it is retried with the same key and body
    again = adjust(client, "WIDGET-1", body, idempotency_key="adj-1")
    # Then the first answer is replayed and the stock moved once
    assert again.status_code == first.status_code == 200
    assert json.loads(again.body) == json.loads(first.body)
    assert level("WIDGET-1") == (1010, 0)
    assert len(events(stocked, "StockAdjusted")) == 1
    # and the same key with another body is refused
    other = adjust(client, "WIDGET-1", {"delta": 11, "reason": "x"}, idempotency_key="adj-1")
    assert_problem(other, 422, "idempotency-key-reused")
    assert level("WIDGET-1") == (1010, 0)


def test_an_adjustment_without_an_idempotency_key_is_refused(stocked, client):
    before = snapshot(stocked)
    response = adjust(client, "WIDGET-1", {"delta": 1, "reason": "x"}, idempotency_key="")
    assert_problem(response, 400, "idempotency-key-required")
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"{not json", 400, "malformed-json"),
        ({"delta": 0, "reason": "x"}, 422, "validation-error"),
        ({"delta": "5", "reason": "x"}, 422, "validation-error"),
        ({"delta": 1.5, "reason": "x"}, 422, "validation-error"),
        ({"delta": 5}, 422, "validation-error"),
        ({"delta": 5, "reason": "x", "sku": "GADGET-2"}, 422, "validation-error"),
    ],
    ids=["malformed", "zero", "text", "fraction", "no-reason", "unknown-field"],
)
def test_bad_adjustments_answer_problem_json_and_write_nothing(stocked, client, body, status, kind):
    before = snapshot(stocked)
    problem = assert_problem(adjust(client, "WIDGET-1", body), status, kind)
    if kind == "validation-error":
        assert all(error["pointer"].startswith("#") for error in problem["errors"])
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"on_hand": -1, "version": 1}, 422, "validation-error"),
        ({"on_hand": "5", "version": 1}, 422, "validation-error"),
        ({"on_hand": 5}, 422, "validation-error"),
        ({"on_hand": 5, "version": 1, "reserved": 0}, 422, "validation-error"),
        ("[]", 422, "validation-error"),
    ],
    ids=["negative", "text", "no-version", "unknown-field", "array"],
)
def test_bad_counts_answer_problem_json_and_write_nothing(stocked, client, body, status, kind):
    before = snapshot(stocked)
    assert_problem(put(client, "WIDGET-1", body), status, kind)
    assert snapshot(stocked) == before


@pytest.mark.parametrize("key", [PARTNER_KEY, AUDITOR_KEY], ids=["partner", "auditor"])
def test_partners_and_auditors_read_stock_but_cannot_change_it(stocked, client, key):
    before = snapshot(stocked)
    assert_problem(put(client, "WIDGET-1", {"on_hand": 1, "version": 1}, key=key), 403, "forbidden")
    assert_problem(
        adjust(client, "WIDGET-1", {"delta": 1, "reason": "x"}, key=key), 403, "forbidden"
    )
    assert snapshot(stocked) == before
    assert get(client, "WIDGET-1", key=key).status_code == 200
