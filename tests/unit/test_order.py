from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import order as order_domain
from shared.domain.money import quantize
from shared.domain.order import (
    OrderRequest,
    OrderStatus,
    OrderTransitionError,
    ShipmentError,
    ShipmentRequest,
)
from shared.domain.pricing import PricedLine, TaxCategory


def _request(**overrides) -> OrderRequest:
    body = {
        "customer_id": "cus_1",
        "currency": "EUR",
        "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}],
    }
    body.update(overrides)
    return OrderRequest.model_validate(body)


def _priced(currency: str, *lines: tuple[str, int, str]) -> list[PricedLine]:
    return [
        PricedLine(
            sku=sku,
            name=sku,
            unit="EA",
            tax_category=TaxCategory.STANDARD,
            quantity=quantity,
            unit_price=Decimal(price),
            line_total=quantize(quantity * Decimal(price), currency),
            price_source="list",
        )
        for sku, quantity, price in lines
    ]


def _placed(currency: str = "EUR", lines=(("A", 3, "19.99"), ("B", 1, "0.125"))):
    request = _request(currency=currency, lines=[{"sku": s, "quantity": q} for s, q, _ in lines])
    return order_domain.place(request, _priced(currency, *lines), "prt_1", tracked={})


def _confirmed(reserved=None):
    order, _ = _placed()
    return order_domain.confirm(order, reserved if reserved is not None else {1: 3, 2: 1})[0]


def test_placing_totals_the_priced_lines():
    order, event = _placed()
    assert [line.line_total for line in order.lines] == [Decimal("59.97"), Decimal("0.13")]
    assert [line.line_no for line in order.lines] == [1, 2]
    assert order.total == Decimal("60.10")
    assert order.status is OrderStatus.RECEIVED
    assert order.version == 1 and order.placed_by == "prt_1"
    assert order.order_id.startswith("ord_")
    assert event.detail_type == "OrderReceived"
    assert event.aggregate_id == order.order_id
    assert event.data["total"] == {"amount": "60.10", "currency": "EUR"}


def test_zero_decimal_currencies_total_in_whole_units():
    order, _ = _placed("JPY", (("A", 3, "33.5"),))
    assert order.total == Decimal("101")


def test_confirming_reserves_what_was_planned_and_backorders_the_rest():
    order = _confirmed({1: 2, 2: 1})
    assert order.status is OrderStatus.CONFIRMED and order.version == 2
    assert [(line.reserved, line.backordered) for line in order.lines] == [(2, 1), (1, 0)]
    assert order.reserved_by_sku() == {"A": 2, "B": 1}
    with pytest.raises(OrderTransitionError):
        order_domain.confirm(order, {})


def test_a_held_order_holds_nothing_and_only_an_approval_confirms_it():
    order, _ = _placed()
    held, event = order_domain.hold(order, "over the limit")
    assert held.status is OrderStatus.ON_HOLD and held.reserved_by_sku() == {}
    assert event.data["reason"] == "over the limit"
    with pytest.raises(OrderTransitionError):
        order_domain.confirm(held, {1: 3})
    approved, event = order_domain.confirm(held, {1: 3, 2: 1}, approved_by="stf_credit")
    assert approved.status is OrderStatus.CONFIRMED and event.data["approved_by"] == "stf_credit"


def test_untracked_lines_never_backorder():
    order, _ = _placed()
    order = order_domain.mark_untracked(order, {"B"})
    confirmed, _ = order_domain.confirm(order, {1: 3})
    assert confirmed.lines[1].reserved == 1 and confirmed.reserved_by_sku() == {"A": 3}


def _shipment(*lines: tuple[int, int]) -> ShipmentRequest:
    return ShipmentRequest.model_validate(
        {
            "carrier": "DHL",
            "tracking_number": "T1",
            "lines": [{"line_no": n, "quantity": q} for n, q in lines],
        }
    )


def test_shipping_moves_reserved_units_to_shipped():
    order = _confirmed()
    partly, shipment, event = order_domain.ship(order, _shipment((1, 2)), "prt_1")
    assert shipment.tracking_number == "T1"
    assert partly.status is OrderStatus.PARTIALLY_SHIPPED
    assert (partly.lines[0].reserved, partly.lines[0].shipped) == (1, 2)
    assert event.data["shipment"]["lines"] == [{"line_no": 1, "sku": "A", "quantity": 2}]
    done, _, _ = order_domain.ship(partly, _shipment((1, 1), (2, 1)), "prt_1")
    assert done.status is OrderStatus.SHIPPED
    with pytest.raises(OrderTransitionError):
        order_domain.cancel(partly, "late", "prt_1")


@pytest.mark.parametrize(
    ("lines", "field"),
    [(((9, 1),), "line_no"), (((1, 4),), "quantity"), (((1, 2), (1, 2)), "quantity")],
)
def test_over_shipments_are_refused(lines, field):
    with pytest.raises(ShipmentError) as refused:
        order_domain.ship(_confirmed(), _shipment(*lines), "prt_1")
    assert refused.value.field == field


def test_backordered_units_cannot_ship():
    with pytest.raises(ShipmentError, match="backordered"):
        order_domain.ship(_confirmed({1: 1, 2: 1}), _shipment((1, 2)), "prt_1")


def test_an_amendment_records_before_and_after():
    order, _ = _placed()
    amended, event = order_domain.amend(
        order, amended_by="prt_1", priced=_priced("EUR", ("A", 5, "19.99")), purchase_order="PO-2"
    )
    assert amended.version == 2 and amended.total == Decimal("99.95")
    assert event.data["changes"]["total"]["before"] == {"amount": "60.10", "currency": "EUR"}
    assert event.data["changes"]["purchase_order"] == {"before": None, "after": "PO-2"}
    assert set(event.data["changes"]) == {"lines", "total", "purchase_order"}


def test_cancelling_releases_everything():
    cancelled, event = order_domain.cancel(_confirmed(), "duplicate", "prt_1")
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.reserved_by_sku() == {}
    assert event.data["reason"] == "duplicate"


@pytest.mark.parametrize(
    "overrides",
    [
        {"currency": "XXQ"},
        {"lines": []},
        {"lines": [{"sku": "A", "quantity": 0}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1e3"}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1.1234567"}]},
        {"lines": [{"sku": "", "quantity": 1}]},
        {"lines": [{"sku": "A", "quantity": 1, "discount": "5"}]},
        {"lines": [{"sku": "A", "quantity": 1}] * 201},
        {"ship_to": {"line1": "x", "city": "y", "postal_code": "1", "country": "Germany"}},
    ],
)
def test_invalid_requests_are_refused(overrides):
    with pytest.raises(ValidationError):
        _request(**overrides)


lines = st.lists(
    st.tuples(
        st.text(alphabet="ABCXYZ0123-", min_size=1, max_size=10),
        st.integers(min_value=1, max_value=10_000),
        st.decimals(min_value=0, max_value=10**6, places=4).map(str),
    ),
    min_size=1,
    max_size=20,
)


@given(lines=lines, currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_the_total_is_the_sum_of_rounded_line_totals(lines, currency):
    order, event = _placed(currency, tuple(lines))
    assert order.total == sum((line.line_total for line in order.lines), Decimal(0))
    assert event.data["total"]["amount"] == str(order.total)


def test_allocating_fills_a_backordered_line_and_leaves_the_others():
    order = _confirmed({1: 1, 2: 1})  # A: 1 of 3 reserved, 2 backordered
    allocated, event = order_domain.allocate(order, "A", {1: 3})
    assert [(line.reserved, line.backordered) for line in allocated.lines] == [(3, 0), (1, 0)]
    assert allocated.version == order.version + 1
    assert allocated.status is OrderStatus.CONFIRMED
    assert event.detail_type == "BackorderAllocated"
    assert (event.data["sku"], event.data["allocated"]) == ("A", 2)


def test_allocating_never_takes_back_nor_exceeds_what_is_outstanding():
    order = _confirmed({1: 1, 2: 1})
    with pytest.raises(ValueError):
        order_domain.allocate(order, "A", {1: 0})
    with pytest.raises(ValueError):
        order_domain.allocate(order, "A", {1: 4})
    with pytest.raises(OrderTransitionError):
        order_domain.allocate(order, "A", {1: 1})  # nothing new to hold


def test_an_order_that_holds_no_stock_gets_no_allocation():
    held, _ = order_domain.hold(_confirmed({1: 1, 2: 1}), "limit")
    with pytest.raises(OrderTransitionError):
        order_domain.allocate(held, "A", {1: 3})


# --- closing the unshipped rest -------------------------------------------------------------


def test_closing_gives_up_the_unshipped_rest_and_releases_its_reservations():
    partly, _, _ = order_domain.ship(_confirmed(), _shipment((1, 2)), "prt_1")
    closed, event = order_domain.close(partly, "no longer needed", "prt_1", closing_id="cls_1")
    assert closed.status is OrderStatus.CLOSED and closed.reserved_by_sku() == {}
    assert [(line.shipped, line.closed, line.backordered) for line in closed.lines] == [
        (2, 1, 0),
        (0, 1, 0),
    ]
    assert event.detail_type == "OrderClosed"
    assert event.data["released"] == {"amount": "20.12", "currency": "EUR"}
    assert (event.data["closing_id"], event.data["reason"]) == ("cls_1", "no longer needed")
    assert event.data["lines"][0]["closed"] == 1


@pytest.mark.parametrize("shipped", [(), ((1, 3), (2, 1))])
def test_only_a_partly_shipped_order_closes(shipped):
    order = _confirmed()
    if shipped:
        order, _, _ = order_domain.ship(order, _shipment(*shipped), "prt_1")
    with pytest.raises(OrderTransitionError):
        order_domain.close(order, "", "prt_1")


def test_a_closed_order_neither_ships_amends_cancels_nor_closes_again():
    partly, _, _ = order_domain.ship(_confirmed(), _shipment((1, 2)), "prt_1")
    closed, _ = order_domain.close(partly, "", "prt_1")
    for move in (
        lambda: order_domain.ship(closed, _shipment((1, 1)), "prt_1"),
        lambda: order_domain.cancel(closed, "", "prt_1"),
        lambda: order_domain.amend(closed, amended_by="prt_1", purchase_order="PO-2"),
        lambda: order_domain.close(closed, "", "prt_1"),
    ):
        with pytest.raises(OrderTransitionError):
            move()


@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(min_value=2, max_value=50),
            st.decimals(min_value="0.001", max_value="999.999", places=3),
        ),
        min_size=1,
        max_size=5,
    ),
    share=st.fractions(min_value=0, max_value=1),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_the_rest_and_what_shipped_add_up_to_the_total(lines, share, currency):
    """What shipments release (rounded per line) plus the closed rest is the confirmed total."""
    priced = tuple((sku, quantity, str(price)) for sku, quantity, price in lines)
    order, _ = _placed(currency, priced)
    order, _ = order_domain.confirm(order, {n: q for n, (_, q, _) in enumerate(priced, 1)})
    shipping = [(n, max(1, int(q * share))) for n, (_, q, _) in enumerate(priced, 1)]
    partly, _, _ = order_domain.ship(order, _shipment(*shipping), "prt_1")
    if partly.status is not OrderStatus.PARTIALLY_SHIPPED:
        return
    released = sum(
        (quantize(line.unit_price * line.shipped, currency) for line in partly.lines), Decimal(0)
    )
    assert order_domain.unshipped_value(partly) + released == order.total
