"""Backorder markers follow the order moves: one per (SKU, order) while the order waits."""

from decimal import Decimal

from shared import clock
from shared.domain import order as order_domain
from shared.domain.order import OrderRequest
from shared.domain.pricing import PricedLine, TaxCategory
from shared.store import orders
from shared.store.table import Delete, Put


def _received() -> order_domain.Order:
    request = OrderRequest.model_validate(
        {"customer_id": "cus_1", "currency": "EUR", "lines": [{"sku": "A", "quantity": 3}]}
    )
    priced = [
        PricedLine(
            sku="A",
            name="A",
            unit="EA",
            tax_category=TaxCategory.STANDARD,
            quantity=3,
            unit_price=Decimal("1.00"),
            line_total=Decimal("3.00"),
            price_source="list",
        )
    ]
    return order_domain.place(request, priced, "prt_1", tracked={})[0]


def test_a_confirmation_with_a_backorder_puts_a_marker_keyed_oldest_first():
    received = _received()
    confirmed, _ = order_domain.confirm(received, {1: 1})
    [marker] = orders.backorder_markers(received, confirmed)
    assert isinstance(marker, Put)
    assert marker.item["pk"] == "BACKORDER#A"
    assert marker.item["sk"] == f"{clock.iso(received.created_at)}#{received.order_id}"


def test_moves_that_clear_the_backorder_delete_the_marker_and_others_write_none():
    received = _received()
    confirmed, _ = order_domain.confirm(received, {1: 1})
    cancelled, _ = order_domain.cancel(confirmed, "no", "stf_1")
    held, _ = order_domain.hold(confirmed, "limit")
    filled, _ = order_domain.allocate(confirmed, "A", {1: 3})
    for after in (cancelled, held, filled):
        assert orders.backorder_markers(confirmed, after) == [
            Delete(orders.backorder_key("A", confirmed))
        ]
    fully, _ = order_domain.confirm(received, {1: 3})
    assert orders.backorder_markers(received, fully) == []
