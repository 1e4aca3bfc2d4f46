from datetime import date

import pytest

from shared.domain import numbering


def test_series_is_the_prefix_and_the_issue_year():
    # Given / When
    series = numbering.series("INV", date(2026, 12, 31))

    # Then
    assert series == "INV-2026"


def test_numbers_are_zero_padded_to_six_digits_and_grow_beyond():
    # Given
    series = "INV-2026"

    # When / Then
    assert numbering.number(series, 123) == "INV-2026-000123"
    assert numbering.number(series, 999_999) == "INV-2026-999999"
    assert numbering.number(series, 1_000_000) == "INV-2026-1000000"


def test_a_sequence_starts_at_one():
    with pytest.raises(ValueError, match="starts at 1"):
        numbering.number("INV-2026", 0)


def test_the_reference_of_the_iso_11649_example_has_check_digits_18():
    # Given: the standard's worked example, creditor reference 539007547034
    # When
    reference = numbering.payment_reference("539007547034")

    # Then
    assert reference == "RF18539007547034"


def test_a_document_number_becomes_its_alphanumerics_uppercased():
    # Given
    number = "inv-2026-000123"

    # When
    reference = numbering.payment_reference(number)

    # Then
    assert reference.startswith("RF")
    assert reference[4:] == "INV2026000123"
    assert numbering.is_valid_reference(reference)


@pytest.mark.parametrize(
    "reference", ["RF18539007547034", "RF18 5390 0754 7034", "rf18539007547034", "RF712348231"]
)
def test_known_valid_references_pass(reference):
    assert numbering.is_valid_reference(reference)


@pytest.mark.parametrize(
    "reference",
    [
        "RF19539007547034",  # wrong check digits
        "RF18539007547035",  # mistyped last digit
        "RF18",  # no creditor part
        "XX18539007547034",  # not an RF reference
        "RF18-5390-0754-7034",  # dashes are not part of the format
        "RF18" + "1" * 22,  # longer than 21 characters
    ],
)
def test_malformed_or_mistyped_references_fail(reference):
    assert not numbering.is_valid_reference(reference)


def test_every_generated_reference_validates():
    for sequence in (1, 42, 999_999, 1_234_567):
        reference = numbering.payment_reference(numbering.number("CN-2027", sequence))
        assert numbering.is_valid_reference(reference), reference


def test_a_number_too_long_for_a_reference_is_refused():
    with pytest.raises(ValueError, match="1 to 21"):
        numbering.payment_reference("A" * 22)
