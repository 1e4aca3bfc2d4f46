from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.money import MINOR_UNITS, Money, UnknownCurrencyError, minor_units, quantize


@pytest.mark.parametrize(
    ("currency", "units"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4), ("GBP", 2)]
)
def test_minor_units_follow_iso_4217(currency, units):
    assert minor_units(currency) == units


@pytest.mark.parametrize("code", ["XYZ", "eur", "EURO", "", "123"])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(UnknownCurrencyError):
        minor_units(code)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.13"),  # half-up, not banker's rounding
        ("0.135", "EUR", "0.14"),
        ("2.5", "JPY", "3"),
        ("1.0005", "KWD", "1.001"),
        ("-0.125", "EUR", "-0.13"),
        ("10", "EUR", "10.00"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    assert str(quantize(Decimal(amount), currency)) == expected


@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_quantize_moves_an_amount_by_at_most_half_a_minor_unit(amount, currency):
    rounded = quantize(amount, currency)
    assert abs(rounded - amount) <= Decimal(1).scaleb(-minor_units(currency)) / 2
    assert rounded.as_tuple().exponent == -minor_units(currency)
    assert quantize(rounded, currency) == rounded


def test_money_on_the_wire_is_a_decimal_string_with_its_currency():
    assert Money(amount=Decimal("5"), currency="EUR").to_wire() == {
        "amount": "5.00",
        "currency": "EUR",
    }
    assert Money.zero("JPY").to_wire() == {"amount": "0", "currency": "JPY"}


def test_money_of_different_currencies_does_not_add():
    with pytest.raises(ValueError, match="cannot add"):
        Money(amount=Decimal(1), currency="EUR") + Money(amount=Decimal(1), currency="USD")
    total = Money(amount=Decimal("1.10"), currency="EUR") + Money(
        amount=Decimal("2.20"), currency="EUR"
    )
    assert total.amount == Decimal("3.30")
