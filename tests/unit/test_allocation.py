from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.allocation import plan
from shared.domain.order import OrderLine


def line(no: int, sku: str, quantity: int, *, tracked: bool = True, shipped: int = 0) -> OrderLine:
    return OrderLine(
        line_no=no, sku=sku, name=sku, unit="EA", tax_category="standard", quantity=quantity,
        unit_price=Decimal(1), line_total=Decimal(quantity), tracked=tracked, shipped=shipped,
    )  # fmt: skip


def test_lines_reserve_in_order_until_stock_runs_out():
    allocation = plan([line(1, "A", 3), line(2, "A", 4), line(3, "B", 2)], {"A": 5, "B": 10}, {})
    assert allocation.reserved == {1: 3, 2: 2, 3: 2}
    assert allocation.delta == {"A": 5, "B": 2}


def test_untracked_lines_take_no_stock():
    allocation = plan([line(1, "SERVICE", 8, tracked=False)], {}, {})
    assert allocation.reserved == {} and allocation.delta == {}


def test_an_amendment_reuses_what_the_order_already_holds():
    # Given the order held 4 of A and none is left in stock
    allocation = plan([line(1, "A", 6)], {"A": 0}, {"A": 4})
    # Then it keeps its 4 (no change) and backorders 2
    assert allocation.reserved == {1: 4}
    assert allocation.delta == {}
    # and dropping the line releases them
    assert plan([line(1, "B", 1)], {"B": 1}, {"A": 4}).delta == {"A": -4, "B": 1}


@given(
    quantities=st.lists(
        st.tuples(st.sampled_from("ABC"), st.integers(1, 20)), min_size=1, max_size=12
    ),
    available=st.dictionaries(st.sampled_from("ABC"), st.integers(0, 30)),
    held=st.dictionaries(st.sampled_from("ABC"), st.integers(0, 10)),
)
def test_never_reserves_more_than_there_is_or_than_was_ordered(quantities, available, held):
    lines = [line(no, sku, quantity) for no, (sku, quantity) in enumerate(quantities, start=1)]
    allocation = plan(lines, available, held)
    for sku in "ABC":
        reserved = sum(allocation.reserved[item.line_no] for item in lines if item.sku == sku)
        assert reserved <= available.get(sku, 0) + held.get(sku, 0)
        assert reserved == held.get(sku, 0) + allocation.delta.get(sku, 0)
        assert allocation.delta.get(sku, 0) <= available.get(sku, 0)
    assert all(0 <= allocation.reserved[item.line_no] <= item.quantity for item in lines)
