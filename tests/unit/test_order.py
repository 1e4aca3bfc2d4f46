from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import order as order_domain
from shared.domain.money import quantize
from shared.domain.order import OrderRequest, OrderStatus, OrderTransitionError


def _request(**overrides) -> OrderRequest:
    body = {
        "customer_id": "cus_1",
        "currency": "EUR",
        "lines": [
            {"sku": "A", "quantity": 3, "unit_price": "19.99"},
            {"sku": "B", "quantity": 1, "unit_price": "0.125"},
        ],
    }
    body.update(overrides)
    return OrderRequest.model_validate(body)


def test_placing_prices_each_line_and_totals_them():
    order, event = order_domain.place(_request(), partner_id="prt_1")
    assert [line.line_total for line in order.lines] == [Decimal("59.97"), Decimal("0.13")]
    assert order.total == Decimal("60.10")
    assert order.status is OrderStatus.RECEIVED
    assert order.version == 1
    assert order.order_id.startswith("ord_")
    assert event.detail_type == "OrderReceived"
    assert event.aggregate_id == order.order_id
    assert event.data["total"] == {"amount": "60.10", "currency": "EUR"}


def test_zero_decimal_currencies_price_in_whole_units():
    order, _ = order_domain.place(
        _request(currency="JPY", lines=[{"sku": "A", "quantity": 3, "unit_price": "33.5"}]), "p"
    )
    assert order.total == Decimal("101")


def test_confirming_moves_a_received_order_once():
    order, _ = order_domain.place(_request(), partner_id="prt_1")
    confirmed, event = order_domain.confirm(order)
    assert confirmed.status is OrderStatus.CONFIRMED
    assert confirmed.version == 2
    assert event.detail_type == "OrderConfirmed"
    with pytest.raises(OrderTransitionError):
        order_domain.confirm(confirmed)


@pytest.mark.parametrize(
    "overrides",
    [
        {"currency": "XXQ"},
        {"lines": []},
        {"lines": [{"sku": "A", "quantity": 0, "unit_price": "1"}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1e3"}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1.1234567"}]},
        {"lines": [{"sku": "", "quantity": 1, "unit_price": "1"}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1", "discount": "5"}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": "1"}] * 201},
    ],
)
def test_invalid_requests_are_refused(overrides):
    with pytest.raises(ValidationError):
        _request(**overrides)


lines = st.lists(
    st.fixed_dictionaries(
        {
            "sku": st.text(alphabet="ABCXYZ0123-", min_size=1, max_size=10),
            "quantity": st.integers(min_value=1, max_value=10_000),
            "unit_price": st.decimals(min_value=0, max_value=10**6, places=4).map(str),
        }
    ),
    min_size=1,
    max_size=20,
)


@given(lines=lines, currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_the_total_is_the_sum_of_rounded_line_totals(lines, currency):
    order, event = order_domain.place(_request(currency=currency, lines=lines), "prt")
    assert order.total == sum((line.line_total for line in order.lines), Decimal(0))
    for line in order.lines:
        assert line.line_total == quantize(line.quantity * line.unit_price, currency)
    assert event.data["total"]["amount"] == str(order.total)
