"""Pricing rules: list vs customer price, unknown and inactive SKUs, missing prices, stated
prices, rounding; and the catalog's requests and changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import pricing
from shared.domain.money import MINOR_UNITS, minor_units
from shared.domain.pricing import (
    CatalogFacts,
    CatalogItem,
    ItemRequest,
    Price,
    PricedLine,
    PriceRequest,
    TaxCategory,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: str | Decimal | None = None


def item(sku: str = "WIDGET-1", *, active: bool = True, **fields: object) -> CatalogItem:
    values: dict[str, object] = {
        "sku": sku,
        "name": f"Item {sku}",
        "unit": "EA",
        "tax_category": TaxCategory.STANDARD,
        "active": active,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return CatalogItem.model_validate(values)


def facts(
    currency: str = "EUR",
    *,
    items: tuple[CatalogItem, ...] = (),
    list_prices: dict[str, str] | None = None,
    customer_prices: dict[str, str] | None = None,
    customer_id: str | None = "cus_acme",
) -> CatalogFacts:
    return CatalogFacts(
        currency=currency,
        customer_id=customer_id,
        items={i.sku: i for i in items},
        list_prices={sku: Decimal(p) for sku, p in (list_prices or {}).items()},
        customer_prices={sku: Decimal(p) for sku, p in (customer_prices or {}).items()},
    )


DEMO = facts(
    items=(item("WIDGET-1"), item("GADGET-2", tax_category=TaxCategory.REDUCED)),
    list_prices={"WIDGET-1": "19.99", "GADGET-2": "0.125"},
)


# --- pricing lines ---------------------------------------------------------------------------


def test_lines_are_priced_at_the_list_price_and_rounded_half_up_to_the_minor_unit():
    # Given the demo catalog
    # When two lines are priced without stated prices
    result = pricing.price([Line("WIDGET-1", 3), Line("GADGET-2", 1)], DEMO)
    # Then each line carries the catalog's facts and a half-up total in cents
    assert result.problems == ()
    widget, gadget = result.lines
    assert (widget.unit_price, widget.line_total, widget.price_source) == (
        Decimal("19.99"),
        Decimal("59.97"),
        "list",
    )
    assert gadget.line_total == Decimal("0.13")  # 0.125 -> 0.13, not banker's 0.12
    assert str(gadget.line_total) == "0.13"
    assert (gadget.name, gadget.unit, gadget.tax_category, gadget.quantity) == (
        "Item GADGET-2",
        "EA",
        TaxCategory.REDUCED,
        1,
    )


@pytest.mark.parametrize(
    ("currency", "unit_price", "quantity", "expected"),
    [
        ("JPY", "99.5", 1, "100"),
        ("KWD", "0.0005", 1, "0.001"),
        ("EUR", "0.333333", 3, "1.00"),
        ("EUR", "0.005", 1, "0.01"),
        ("EUR", "0.004999", 1, "0.00"),
    ],
)
def test_line_totals_round_half_up_to_each_currencys_minor_unit(
    currency, unit_price, quantity, expected
):
    catalog = facts(currency, items=(item(),), list_prices={"WIDGET-1": unit_price})
    [line] = pricing.price([Line("WIDGET-1", quantity)], catalog).lines
    assert str(line.line_total) == expected


def test_a_customer_price_overrides_the_list_price_for_that_customer():
    catalog = facts(
        items=(item(),), list_prices={"WIDGET-1": "19.99"}, customer_prices={"WIDGET-1": "17.00"}
    )
    [line] = pricing.price([Line("WIDGET-1", 2)], catalog).lines
    assert (line.unit_price, line.line_total, line.price_source) == (
        Decimal("17.00"),
        Decimal("34.00"),
        "customer",
    )


def test_a_customer_price_is_enough_without_a_list_price_in_that_currency():
    catalog = facts("GBP", items=(item(),), customer_prices={"WIDGET-1": "15"})
    [line] = pricing.price([Line("WIDGET-1", 1)], catalog).lines
    assert line.price_source == "customer"
    assert line.line_total == Decimal("15.00")


def test_an_unknown_sku_is_a_problem_at_its_sku():
    result = pricing.price([Line("WIDGET-1", 1), Line("NOPE", 1)], DEMO)
    assert result.lines == ()
    [problem] = result.problems
    assert problem.pointer == "#/lines/1/sku"
    assert "unknown SKU NOPE" in problem.detail


def test_an_inactive_sku_is_a_problem_at_its_sku():
    catalog = facts(items=(item(active=False),), list_prices={"WIDGET-1": "1"})
    [problem] = pricing.price([Line("WIDGET-1", 1)], catalog).problems
    assert problem.pointer == "#/lines/0/sku"
    assert "not sold" in problem.detail


def test_no_price_in_the_currency_is_a_problem_at_its_sku():
    catalog = facts("GBP", items=(item(),), list_prices={})
    [problem] = pricing.price([Line("WIDGET-1", 1)], catalog).problems
    assert problem.pointer == "#/lines/0/sku"
    assert problem.detail == "SKU WIDGET-1 has no price in GBP"


def test_a_stated_price_that_disagrees_names_both_prices():
    [problem] = pricing.price([Line("WIDGET-1", 1, "18.99")], DEMO).problems
    assert problem.pointer == "#/lines/0/unit_price"
    assert "18.99" in problem.detail and "19.99" in problem.detail
    assert "list price" in problem.detail


def test_a_stated_price_is_compared_with_the_customer_price_when_there_is_one():
    catalog = facts(
        items=(item(),), list_prices={"WIDGET-1": "19.99"}, customer_prices={"WIDGET-1": "17"}
    )
    [problem] = pricing.price([Line("WIDGET-1", 1, "19.99")], catalog).problems
    assert "customer price 17" in problem.detail
    assert pricing.price([Line("WIDGET-1", 1, "17.000")], catalog).problems == ()


@pytest.mark.parametrize("stated", ["19.99", "19.990", "19.990000", Decimal("19.99000")])
def test_a_stated_price_equal_as_a_decimal_is_accepted(stated):
    result = pricing.price([Line("WIDGET-1", 1, stated)], DEMO)
    assert result.problems == ()
    assert result.lines[0].unit_price == Decimal("19.99")


@pytest.mark.parametrize("stated", ["abc", "NaN", "Infinity", ""])
def test_a_stated_price_that_is_no_number_never_matches(stated):
    [problem] = pricing.price([Line("WIDGET-1", 1, stated)], DEMO).problems
    assert problem.pointer == "#/lines/0/unit_price"


def test_every_failing_line_is_reported_at_once():
    lines = [
        Line("WIDGET-1", 1),
        Line("NOPE", 1),
        Line("GADGET-2", 1, "9.99"),
        Line("WIDGET-1", 1, "19.99"),
    ]
    result = pricing.price(lines, DEMO)
    assert [p.pointer for p in result.problems] == ["#/lines/1/sku", "#/lines/2/unit_price"]
    assert result.lines == ()


def test_a_sku_on_several_lines_is_priced_per_line():
    result = pricing.price([Line("WIDGET-1", 1), Line("WIDGET-1", 2)], DEMO)
    assert [line.line_total for line in result.lines] == [Decimal("19.99"), Decimal("39.98")]


def test_an_unknown_currency_is_refused():
    with pytest.raises(ValueError, match="ISO 4217"):
        pricing.price([Line("WIDGET-1", 1)], facts("XYZ", items=(item(),)))


def test_a_priced_line_is_frozen_and_has_a_wire_form():
    [line] = pricing.price([Line("GADGET-2", 1)], DEMO).lines
    with pytest.raises(ValidationError):
        line.quantity = 2
    assert line.to_wire() == {
        "sku": "GADGET-2",
        "name": "Item GADGET-2",
        "unit": "EA",
        "tax_category": "reduced",
        "supply": "goods",
        "quantity": 1,
        "unit_price": "0.125",
        "line_total": "0.13",
        "price_source": "list",
    }
    assert isinstance(line, PricedLine)


# --- properties ------------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False)
quantities = st.integers(min_value=1, max_value=1_000_000)
currencies = st.sampled_from(sorted(MINOR_UNITS))


@given(unit_price=prices, quantity=quantities, currency=currencies)
def test_a_line_total_is_the_product_rounded_by_at_most_half_a_minor_unit(
    unit_price, quantity, currency
):
    catalog = facts(currency, items=(item(),), list_prices={"WIDGET-1": str(unit_price)})
    [line] = pricing.price([Line("WIDGET-1", quantity)], catalog).lines
    exact = quantity * unit_price
    assert abs(line.line_total - exact) <= Decimal(1).scaleb(-minor_units(currency)) / 2
    assert line.line_total.as_tuple().exponent == -minor_units(currency)
    # half-up: an exact half of a minor unit always rounds up
    if exact.scaleb(minor_units(currency)) % 1 == Decimal("0.5"):
        assert line.line_total > exact


@given(list_price=prices, customer_price=st.none() | prices, quantity=quantities)
def test_the_customer_price_wins_whenever_there_is_one(list_price, customer_price, quantity):
    catalog = facts(
        items=(item(),),
        list_prices={"WIDGET-1": str(list_price)},
        customer_prices={} if customer_price is None else {"WIDGET-1": str(customer_price)},
    )
    [line] = pricing.price([Line("WIDGET-1", quantity)], catalog).lines
    expected = list_price if customer_price is None else customer_price
    assert line.unit_price == expected
    assert line.price_source == ("list" if customer_price is None else "customer")


@given(ours=prices, zeros=st.integers(min_value=0, max_value=4), other=prices)
def test_a_stated_price_matches_exactly_when_equal_as_a_decimal(ours, zeros, other):
    catalog = facts(items=(item(),), list_prices={"WIDGET-1": str(ours)})
    stated_same = f"{ours:f}" + ("0" * zeros if "." in f"{ours:f}" else "")
    assert pricing.price([Line("WIDGET-1", 1, stated_same)], catalog).problems == ()
    result = pricing.price([Line("WIDGET-1", 1, f"{other:f}")], catalog)
    if other == ours:
        assert result.problems == ()
    else:
        [problem] = result.problems
        assert problem.field == "unit_price"
        assert f"{other:f}" in problem.detail and str(ours) in problem.detail


@given(
    skus=st.lists(st.sampled_from(["WIDGET-1", "GADGET-2", "NOPE", "OLD"]), min_size=1, max_size=8)
)
def test_lines_come_back_in_order_or_every_bad_line_is_named(skus):
    catalog = facts(
        items=(item("WIDGET-1"), item("GADGET-2"), item("OLD", active=False)),
        list_prices={"WIDGET-1": "1", "GADGET-2": "2", "OLD": "3"},
    )
    result = pricing.price([Line(sku, 1) for sku in skus], catalog)
    bad = [i for i, sku in enumerate(skus) if sku in {"NOPE", "OLD"}]
    assert [p.index for p in result.problems] == bad
    if not bad:
        assert [line.sku for line in result.lines] == skus
    else:
        assert result.lines == ()


# --- catalog requests and changes ------------------------------------------------------------


def test_an_item_request_takes_known_units_and_tax_categories():
    request = ItemRequest.model_validate(
        {"name": " Widget ", "unit": "KGM", "tax_category": "zero"}
    )
    assert (request.name, request.unit, request.tax_category, request.active) == (
        "Widget",
        "KGM",
        TaxCategory.ZERO,
        True,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "W", "unit": "XXX", "tax_category": "standard"},
        {"name": "W", "unit": "ea", "tax_category": "standard"},
        {"name": "W", "unit": "EA", "tax_category": "luxury"},
        {"name": "W", "unit": "EA", "tax_category": 1},
        {"name": "", "unit": "EA", "tax_category": "standard"},
        {"name": "W", "unit": "EA", "tax_category": "standard", "active": "true"},
        {"name": "W", "unit": "EA", "tax_category": "standard", "colour": "red"},
        {"unit": "EA", "tax_category": "standard"},
    ],
)
def test_bad_item_requests_are_refused(body):
    with pytest.raises(ValidationError):
        ItemRequest.model_validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"unit_price": "-1"},
        {"unit_price": "1.1234567"},
        {"unit_price": 1.5},
        {"unit_price": "1e3"},
        {"unit_price": "1", "customer_id": ""},
        {"unit_price": "1", "discount": "2"},
    ],
)
def test_bad_price_requests_are_refused(body):
    with pytest.raises(ValidationError):
        PriceRequest.model_validate(body)


def test_upserting_an_item_creates_it_then_versions_each_change_and_skips_no_change():
    request = ItemRequest(name="Widget", unit="EA", tax_category=TaxCategory.STANDARD)
    created = pricing.upsert_item("WIDGET-1", request, None)
    assert created is not None
    item_v1, event = created
    assert (item_v1.version, event.detail_type, event.source) == (1, "ItemUpserted", "otc.catalog")
    assert event.data["created"] is True and event.aggregate_id == "WIDGET-1"
    assert pricing.upsert_item("WIDGET-1", request, item_v1) is None
    changed = pricing.upsert_item("WIDGET-1", request.model_copy(update={"active": False}), item_v1)
    assert changed is not None
    item_v2, event_v2 = changed
    assert (item_v2.version, item_v2.active, item_v2.created_at) == (2, False, item_v1.created_at)
    assert event_v2.data["created"] is False
    with pytest.raises(ValueError, match="not a SKU"):
        pricing.upsert_item("lower-case", request, None)


def test_setting_a_price_keeps_it_canonical_and_skips_an_equal_price():
    change = pricing.set_price("WIDGET-1", "EUR", Decimal("19.990"), None, None)
    assert change is not None
    price, event = change
    assert str(price.unit_price) == "19.99"
    assert (event.detail_type, event.data["unit_price"], event.data["previous_unit_price"]) == (
        "PriceSet",
        "19.99",
        None,
    )
    assert pricing.set_price("WIDGET-1", "EUR", Decimal("19.99"), None, price) is None
    assert str(pricing.canonical(Decimal("95"), "EUR")) == "95.00"
    assert str(pricing.canonical(Decimal("1E+2"), "JPY")) == "100"
    assert str(pricing.canonical(Decimal("0.125"), "EUR")) == "0.125"


@pytest.mark.parametrize("amount", ["-0.01", "0.0000001", "NaN", "Infinity"])
def test_a_price_is_a_non_negative_amount_of_at_most_six_decimals(amount):
    with pytest.raises(ValueError, match="unit price"):
        pricing.set_price("WIDGET-1", "EUR", Decimal(amount), None, None)


def test_only_a_customer_price_is_removed():
    listed = Price(sku="W", currency="EUR", unit_price=Decimal(1), updated_at=NOW)
    with pytest.raises(ValueError, match="customer"):
        pricing.remove_customer_price(listed)
    event = pricing.remove_customer_price(listed.model_copy(update={"customer_id": "cus_acme"}))
    assert event.detail_type == "PriceRemoved"
    assert event.data["customer_id"] == "cus_acme"


@pytest.mark.parametrize(
    ("sku", "ok"),
    [
        ("WIDGET-1", True),
        ("A.B_C-9", True),
        ("X" * 64, True),
        ("X" * 65, False),
        ("widget", False),
        ("", False),
        ("A B", False),
        ("A#B", False),
    ],
)
def test_skus_are_short_upper_case_codes(sku, ok):
    assert pricing.is_sku(sku) is ok
