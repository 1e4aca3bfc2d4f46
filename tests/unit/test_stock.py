"""Stock rules: reserve, release and ship never take more than there is; counts and adjustments
keep what is reserved; the store's order moves carry the matching conditions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import stock
from shared.domain.stock import (
    AdjustmentRequest,
    BelowReservedError,
    InsufficientStockError,
    NotTrackedError,
    SetOnHandRequest,
    StaleVersionError,
    StockError,
    StockLevel,
)
from shared.store import stock as stock_store

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def level(available: int = 5, reserved: int = 0, version: int = 1) -> StockLevel:
    return StockLevel(
        sku="WIDGET-1", available=available, reserved=reserved, version=version, updated_at=NOW
    )


# --- order moves -----------------------------------------------------------------------------


def test_reserving_moves_units_from_available_to_reserved_and_keeps_on_hand():
    after = level(5).reserve(3)
    assert (after.available, after.reserved, after.on_hand) == (2, 3, 5)


def test_reserving_more_than_is_available_is_refused():
    with pytest.raises(InsufficientStockError, match="4 wanted, 3 available"):
        level(3, reserved=10).reserve(4)
    assert level(3).reserve(3).available == 0


def test_releasing_gives_reserved_units_back_and_never_more_than_reserved():
    after = level(2, reserved=3).release(3)
    assert (after.available, after.reserved) == (5, 0)
    with pytest.raises(StockError, match="cannot release 4"):
        level(2, reserved=3).release(4)


def test_shipping_takes_reserved_units_off_hand_and_never_more_than_reserved():
    after = level(2, reserved=3).ship(2)
    assert (after.available, after.reserved, after.on_hand) == (2, 1, 3)
    with pytest.raises(StockError, match="cannot ship 4"):
        level(9, reserved=3).ship(4)


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_move_is_at_least_one_unit(quantity):
    for move in (level().reserve, level().release, level().ship):
        with pytest.raises(ValueError, match="positive"):
            move(quantity)


def test_an_untracked_sku_is_always_available_and_has_nothing_to_move():
    untracked = StockLevel.untracked("SERVICE-HOUR")
    assert untracked.tracked is False
    assert untracked.can_reserve(10**9)
    with pytest.raises(NotTrackedError):
        untracked.reserve(1)
    assert untracked.to_wire() == {"sku": "SERVICE-HOUR", "tracked": False}


def test_shortfalls_name_what_tracked_skus_miss():
    levels = {"WIDGET-1": level(5), "SERVICE-HOUR": StockLevel.untracked("SERVICE-HOUR")}
    wanted = {"WIDGET-1": 7, "SERVICE-HOUR": 100, "UNKNOWN": 3}
    assert stock.shortfalls(wanted, levels) == {"WIDGET-1": 2}
    assert stock.shortfalls({"WIDGET-1": 5}, levels) == {}


@given(
    start=st.integers(min_value=0, max_value=50),
    moves=st.lists(
        st.tuples(
            st.sampled_from(["reserve", "release", "ship"]), st.integers(min_value=1, max_value=20)
        ),
        max_size=30,
    ),
)
def test_no_sequence_of_moves_goes_below_zero_or_loses_a_unit(start, moves):
    current = level(start, reserved=0)
    shipped = 0
    for name, quantity in moves:
        try:
            current = getattr(current, name)(quantity)
        except StockError:
            continue
        shipped += quantity if name == "ship" else 0
    assert current.available >= 0 and current.reserved >= 0
    assert current.on_hand + shipped == start


# --- staff changes ---------------------------------------------------------------------------


def test_setting_on_hand_keeps_what_is_reserved_and_counts_a_version():
    after, event = stock.set_on_hand(level(2, reserved=3, version=4), 10, 4, "count")
    assert (after.available, after.reserved, after.on_hand, after.version) == (7, 3, 10, 5)
    assert (event.detail_type, event.source, event.aggregate_id) == (
        "StockLevelSet",
        "otc.stock",
        "WIDGET-1",
    )
    assert event.data == {
        "sku": "WIDGET-1",
        "on_hand": 10,
        "available": 7,
        "reserved": 3,
        "delta": 5,
        "reason": "count",
        "version": 5,
    }


def test_setting_on_hand_below_what_is_reserved_is_refused():
    with pytest.raises(BelowReservedError, match="below the 3 units reserved"):
        stock.set_on_hand(level(2, reserved=3), 2, 1)
    after, _ = stock.set_on_hand(level(2, reserved=3), 3, 1)
    assert after.available == 0


def test_setting_on_hand_needs_the_version_last_seen():
    with pytest.raises(StaleVersionError, match="version 2, not 1"):
        stock.set_on_hand(level(version=2), 10, 1)


def test_setting_on_hand_of_an_untracked_sku_at_version_0_starts_tracking_it():
    after, event = stock.set_on_hand(StockLevel.untracked("GADGET-2"), 40, 0)
    assert (after.tracked, after.available, after.reserved, after.version) == (True, 40, 0, 1)
    assert event.data["delta"] == 40
    with pytest.raises(StaleVersionError):
        stock.set_on_hand(StockLevel.untracked("GADGET-2"), 40, 1)


def test_a_receipt_adds_and_a_write_off_takes_only_what_is_available():
    received, event = stock.adjust(level(5, reserved=2), 10, "receipt PO-1")
    assert (received.available, received.reserved, received.version) == (15, 2, 2)
    assert event.detail_type == "StockAdjusted"
    assert event.data == {
        "sku": "WIDGET-1",
        "on_hand": 17,
        "available": 15,
        "reserved": 2,
        "delta": 10,
        "reason": "receipt PO-1",
        "version": 2,
    }
    written_off, _ = stock.adjust(level(5, reserved=2), -5, "damaged")
    assert (written_off.available, written_off.reserved) == (0, 2)
    with pytest.raises(InsufficientStockError, match="cannot write off 6, 5 available"):
        stock.adjust(level(5, reserved=2), -6, "damaged")


def test_an_untracked_sku_cannot_be_adjusted():
    with pytest.raises(NotTrackedError, match="version 0"):
        stock.adjust(StockLevel.untracked("SERVICE-HOUR"), 1, "receipt")


def test_the_partner_view_shows_only_what_may_be_promised():
    assert level(5, reserved=2).to_wire(full=False) == {
        "sku": "WIDGET-1",
        "tracked": True,
        "available": 5,
    }
    assert level(5, reserved=2).to_wire()["on_hand"] == 7


@pytest.mark.parametrize(
    "body",
    [
        {"delta": 0, "reason": "x"},
        {"delta": "5", "reason": "x"},
        {"delta": 1.5, "reason": "x"},
        {"delta": True, "reason": "x"},
        {"delta": 5},
        {"delta": 5, "reason": ""},
        {"delta": 5, "reason": "x", "sku": "OTHER"},
        {"delta": 2_000_000_000, "reason": "x"},
    ],
)
def test_bad_adjustments_are_refused(body):
    with pytest.raises(ValidationError):
        AdjustmentRequest.model_validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"on_hand": -1, "version": 1},
        {"on_hand": 1},
        {"on_hand": "1", "version": 1},
        {"on_hand": 1, "version": -1},
        {"on_hand": 1, "version": 1, "available": 1},
    ],
)
def test_bad_on_hand_requests_are_refused(body):
    with pytest.raises(ValidationError):
        SetOnHandRequest.model_validate(body)


# --- the store's order moves -----------------------------------------------------------------


def test_reserve_is_a_conditional_update_that_never_oversells():
    update = stock_store.reserve("WIDGET-1", 3)
    assert update.key == ("ITEM#WIDGET-1", "STOCK")
    assert update.expression == "SET available = available - :q, reserved = reserved + :q"
    assert update.condition == "available >= :q"
    assert update.values == {":q": 3}


def test_release_and_ship_are_guarded_by_what_is_reserved():
    release = stock_store.release("WIDGET-1", 2)
    assert release.expression == "SET available = available + :q, reserved = reserved - :q"
    assert release.condition == "reserved >= :q"
    ship = stock_store.ship("WIDGET-1", 2)
    assert ship.expression == "SET reserved = reserved - :q"
    assert ship.condition == "reserved >= :q"
    assert ship.values == release.values == {":q": 2}


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_store_moves_take_whole_positive_units_only(quantity):
    for move in (stock_store.reserve, stock_store.release, stock_store.ship):
        with pytest.raises(ValueError, match="positive"):
            move("WIDGET-1", quantity)
