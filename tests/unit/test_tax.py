import json
from decimal import Decimal

import pytest

from shared.domain import seller as seller_profile
from shared.domain import tax
from shared.domain.invoice import InvoiceLine, TaxCode
from shared.domain.seller import DEMO
from shared.domain.tax import TaxRegime


def _line(line_no: int, net: str, code: TaxCode = TaxCode.STANDARD, rate: str = "19", **extra):
    return InvoiceLine(
        line_no=line_no,
        order_line_no=line_no,
        sku=f"SKU-{line_no}",
        name="Item",
        unit="EA",
        quantity=Decimal(1),
        unit_price=Decimal(net),
        net_amount=Decimal(net),
        tax_category="standard",
        tax_code=code,
        tax_rate=Decimal(rate),
        **extra,
    )


# --- regime -----------------------------------------------------------------------------------


def test_the_eu_has_27_members_and_greece_is_gr():
    assert len(tax.EU_COUNTRIES) == 27
    assert "GR" in tax.EU_COUNTRIES
    assert "EL" not in tax.EU_COUNTRIES
    assert "GB" not in tax.EU_COUNTRIES


@pytest.mark.parametrize(
    ("seller", "buyer", "tax_id", "expected"),
    [
        ("DE", "DE", None, TaxRegime.DOMESTIC),
        ("DE", "DE", "DE123456789", TaxRegime.DOMESTIC),
        ("DE", "FR", "FR40303265045", TaxRegime.INTRA_EU_BUSINESS),
        ("DE", "GR", "EL094259216", TaxRegime.INTRA_EU_BUSINESS),
        # goods sent to France for a buyer registered in the seller's own state: Art. 138(1)(b)
        ("DE", "FR", "DE129273398", TaxRegime.DOMESTIC),
        ("DE", "FR", None, TaxRegime.DOMESTIC),  # EU consumer: the seller's VAT (no OSS)
        ("DE", "FR", "  ", TaxRegime.DOMESTIC),  # a blank VAT id is no VAT id
        ("DE", "US", None, TaxRegime.EXPORT),
        ("DE", "CH", "CHE-123.456.789", TaxRegime.EXPORT),
        ("DE", "GB", "GB123456789", TaxRegime.EXPORT),
    ],
)
def test_the_regime_follows_the_countries_and_the_buyers_vat_id(seller, buyer, tax_id, expected):
    assert tax.regime(seller, buyer, tax_id) is expected


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "code", "rate", "reason"),
    [
        ("standard", TaxCode.STANDARD, Decimal(19), None),
        ("reduced", TaxCode.STANDARD, Decimal(7), None),
        ("zero", TaxCode.ZERO, Decimal(0), None),
        ("exempt", TaxCode.EXEMPT, Decimal(0), "Exempt from VAT"),
    ],
)
def test_domestic_lines_take_the_sellers_rates(category, code, rate, reason):
    # Given / When
    line_tax = tax.classify(category, TaxRegime.DOMESTIC, DEMO)

    # Then
    assert (line_tax.tax_code, line_tax.rate, line_tax.exemption_reason) == (code, rate, reason)
    assert line_tax.exemption_reason_code is None  # no VATEX code guessed for exemptions


@pytest.mark.parametrize("category", ["standard", "reduced", "zero", "exempt"])
def test_goods_to_a_business_in_another_member_state_are_k_at_zero(category):
    line_tax = tax.classify(category, TaxRegime.INTRA_EU_BUSINESS, DEMO, supply="goods")

    assert line_tax.tax_code is TaxCode.INTRA_COMMUNITY
    assert line_tax.tax_code.value == "K"  # UNCL 5305 "VAT exempt for EEA intra-community supply"
    assert line_tax.rate == 0
    assert line_tax.exemption_reason == "Intra-community supply"
    assert line_tax.exemption_reason_code == "VATEX-EU-IC"


@pytest.mark.parametrize("category", ["standard", "reduced", "zero", "exempt"])
def test_services_to_a_business_in_another_member_state_are_ae_at_zero(category):
    line_tax = tax.classify(category, TaxRegime.INTRA_EU_BUSINESS, DEMO, supply="services")

    assert line_tax.tax_code is TaxCode.REVERSE_CHARGE
    assert line_tax.rate == 0
    assert line_tax.exemption_reason == "Reverse charge"
    assert line_tax.exemption_reason_code == "VATEX-EU-AE"


@pytest.mark.parametrize("category", ["standard", "reduced", "zero", "exempt"])
def test_export_lines_are_g_at_zero_with_their_vatex_code(category):
    line_tax = tax.classify(category, TaxRegime.EXPORT, DEMO)

    assert line_tax.tax_code is TaxCode.EXPORT
    assert line_tax.rate == 0
    assert line_tax.exemption_reason == "Export outside the EU"
    assert line_tax.exemption_reason_code == "VATEX-EU-G"


def test_an_exempt_line_prints_the_sellers_own_reason():
    # Given
    seller = DEMO.model_copy(update={"exemption_reason": "Exempt under section 4 UStG"})

    # When
    line_tax = tax.classify("exempt", TaxRegime.DOMESTIC, seller)

    # Then
    assert line_tax.exemption_reason == "Exempt under section 4 UStG"


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown tax category 'luxury'"):
        tax.classify("luxury", TaxRegime.DOMESTIC, DEMO)


def test_an_unknown_supply_is_refused():
    with pytest.raises(ValueError, match="unknown supply 'rights'"):
        tax.classify("standard", TaxRegime.DOMESTIC, DEMO, supply="rights")


# --- breakdown --------------------------------------------------------------------------------


def test_tax_is_rounded_once_on_the_group_not_per_line():
    # Given: three lines of 0.35 at 19 % (0.0665 each; per line that would be 3 x 0.07)
    lines = [_line(n, "0.35") for n in (1, 2, 3)]

    # When
    (group,) = tax.breakdown(lines, "EUR")

    # Then: 1.05 x 19 % = 0.1995 -> 0.20
    assert group.taxable_amount == Decimal("1.05")
    assert group.tax_amount == Decimal("0.20")


def test_groups_are_by_code_and_rate_ordered_by_code_then_rate_descending():
    # Given
    lines = [
        _line(1, "10.00", TaxCode.ZERO, "0"),
        _line(2, "10.00", TaxCode.STANDARD, "7"),
        _line(3, "10.00", TaxCode.STANDARD, "19"),
        _line(4, "5.00", TaxCode.STANDARD, "7"),
        _line(5, "2.00", TaxCode.EXEMPT, "0", tax_exemption_reason="Exempt from VAT"),
    ]

    # When
    groups = tax.breakdown(lines, "EUR")

    # Then
    assert [(g.tax_code, g.tax_rate) for g in groups] == [
        (TaxCode.STANDARD, Decimal(19)),
        (TaxCode.STANDARD, Decimal(7)),
        (TaxCode.ZERO, Decimal(0)),
        (TaxCode.EXEMPT, Decimal(0)),
    ]
    assert [g.taxable_amount for g in groups] == [
        Decimal("10.00"),
        Decimal("15.00"),
        Decimal("10.00"),
        Decimal("2.00"),
    ]
    assert [g.tax_amount for g in groups] == [
        Decimal("1.90"),
        Decimal("1.05"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]
    assert groups[3].exemption_reason == "Exempt from VAT"


def test_half_up_applies_to_the_group_in_the_currencys_minor_unit():
    # Given: JPY has no minor unit; 50 JPY at 7 % = 3.5 -> 4
    lines = [_line(1, "50", rate="7")]

    # When
    (group,) = tax.breakdown(lines, "JPY")

    # Then
    assert group.tax_amount == Decimal(4)


def test_the_exemption_reason_and_code_travel_to_the_group():
    # Given
    lines = [
        _line(
            1,
            "100.00",
            TaxCode.REVERSE_CHARGE,
            "0",
            tax_exemption_reason="Reverse charge",
            tax_exemption_reason_code="VATEX-EU-AE",
        )
    ]

    # When
    (group,) = tax.breakdown(lines, "EUR")

    # Then
    assert (group.exemption_reason, group.exemption_reason_code) == (
        "Reverse charge",
        "VATEX-EU-AE",
    )


# --- the seller profile -----------------------------------------------------------------------


def _profile(**overrides) -> dict:
    profile = json.loads(DEMO.model_dump_json())
    profile.update(overrides)
    return profile


def test_a_profile_loads_from_json():
    # Given
    raw = json.dumps(_profile(tax_rates={"standard": "20", "reduced": 5.5}))

    # When
    seller = seller_profile.load(raw)

    # Then
    assert seller.tax_rates == {"standard": Decimal(20), "reduced": Decimal("5.5")}
    assert seller.country == "DE"
    assert seller.invoice_prefix == "INV"


def test_the_demo_seller_is_german_with_a_valid_iban():
    assert DEMO.country == "DE"
    assert seller_profile.iban_is_valid(DEMO.payment.iban)
    assert DEMO.tax_rates == {"standard": Decimal(19), "reduced": Decimal(7)}


@pytest.mark.parametrize(
    "iban", ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "fr1420041010050500013m02606"]
)
def test_valid_ibans_pass_the_mod_97_check(iban):
    assert seller_profile.iban_is_valid(iban)


@pytest.mark.parametrize(
    "iban", ["DE89370400440532013001", "DE8937040044", "1289370400440532013000"]
)
def test_invalid_ibans_fail(iban):
    assert not seller_profile.iban_is_valid(iban)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        (
            json.dumps(_profile(payment={"iban": "DE89370400440532013001", "account_name": "A"})),
            "payment: .*not a valid IBAN",
        ),
        (json.dumps(_profile(tax_rates={"standard": "19"})), "tax_rates: .*reduced"),
        (json.dumps(_profile(tax_rates={"standard": "19", "reduced": "107"})), "between 0"),
        (json.dumps(_profile(entity="acme corp")), "entity: "),
        (json.dumps({"entity": "ACME"}), "party: Field required"),
    ],
)
def test_a_bad_profile_says_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        seller_profile.load(raw)
