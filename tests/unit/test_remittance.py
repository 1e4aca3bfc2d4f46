"""Reading references and payer keys out of free remittance text."""

import pytest

from shared.domain import numbering
from shared.domain.remittance import Found, Reference, extract, normalise_name, payer_key

NUMBER = "INV-2026-000123"


def values(text: str, prefixes: tuple[str, ...] = ("INV",)) -> list[tuple[str, Found]]:
    return [(ref.value, ref.found) for ref in extract(text, prefixes)]


def test_the_canonical_number_is_found_exactly():
    # Given
    text = f"SVWZ+{NUMBER} EREF+NOTPROVIDED"

    # When
    found = extract(text)

    # Then
    assert found == (Reference("number", NUMBER, NUMBER, Found.EXACT),)


@pytest.mark.parametrize(
    "written",
    [
        "inv-2026-000123",  # lowercase
        "inv 2026 000123",  # spaces for dashes
        "INV2026000123",  # nothing for dashes
        "Inv.2026/123",  # dots and slashes, leading zeros dropped
        "INV_2026_000123",  # underscores
        "INV - 2026 - 000123",  # spaced dashes
        "Invoice no. 2026-000123",  # the word, not the prefix
        "INVOICE 2026/123",
    ],
)
def test_case_separators_and_dropped_zeros_are_normalised(written):
    # Given
    text = f"Payment {written} thank you"

    # When
    found = extract(text)

    # Then
    assert [(ref.value, ref.found, ref.raw) for ref in found] == [
        (NUMBER, Found.NORMALISED, written)
    ]


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("INV-2O26-000123", NUMBER),  # O for 0
        ("INV-2026-0o0123", NUMBER),  # o for 0
        ("INV-2026-000I23", NUMBER),  # I for 1
        ("INV-2026-000l23", NUMBER),  # l for 1
        ("INV-2026-000|23", NUMBER),  # | for 1
        ("INV-2026-00012S", "INV-2026-000125"),  # S for 5
        ("INV-2026-0001B3", "INV-2026-000183"),  # B for 8
        ("INV-Z026-000123", NUMBER),  # Z for 2
        ("INV-202G-000123", NUMBER),  # G for 6
        ("inv 2O26 000l23", NUMBER),  # two at once, in a normalised form
    ],
)
def test_look_alikes_in_digit_positions_are_ocr_corrected(written, meant):
    # When
    found = values(f"RE: {written}")

    # Then
    assert found == [(meant, Found.OCR_CORRECTED)]


def test_the_description_names_how_a_reference_was_read():
    # Given
    (reference,) = extract("INV-2O26-000l23")

    # When
    description = reference.describe()

    # Then
    assert description == "INV-2026-000123 (OCR-corrected from 'INV-2O26-000l23')"


@pytest.mark.parametrize(
    "text",
    [
        "INV-2026-000123 + INV-2026-000124",
        "INV-2026-000123, inv2026000124",
        "Invoices INV-2026-000123 and Inv.2026/124",
        "INV-2026-000123/INV-2026-000124",
    ],
)
def test_several_references_in_one_line_are_all_found_in_order(text):
    # When
    found = [ref.value for ref in extract(text)]

    # Then
    assert found == ["INV-2026-000123", "INV-2026-000124"]


def test_a_reference_written_twice_is_returned_once_with_its_best_reading():
    # Given
    text = "inv 2O26 000123 (INV-2026-000123)"

    # When
    found = values(text)

    # Then
    assert found == [(NUMBER, Found.EXACT)]


@pytest.mark.parametrize(
    "text",
    [
        "Order 2026-000123",  # not an invoice prefix
        "INV-1999-000123",  # not a plausible year
        "INV-2026-000000",  # no sequence 0
        "INV-2026-000123X",  # runs into a word: not a clean reference
        "XINV-2026-000123",
        "Kundennummer 2026000123, Betrag 1.190,00",
        "Rg. vom 12.05.2026",
    ],
)
def test_what_is_not_a_reference_is_not_read_as_one(text):
    assert extract(text) == ()


def test_other_prefixes_are_read_when_asked_for():
    # Given
    text = "cn 2026 7 and INV-2026-000001"

    # When
    found = values(text, ("CN", "INV"))

    # Then
    assert found == [("CN-2026-000007", Found.NORMALISED), ("INV-2026-000001", Found.EXACT)]


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("RF18539007547034", Found.EXACT),
        ("rf18539007547034", Found.NORMALISED),
        ("RF18 5390 0754 7034", Found.NORMALISED),
        ("SCOR RF18 5390 0754 7034 Invoice", Found.NORMALISED),
    ],
)
def test_creditor_references_are_read_compact_or_grouped(written, found):
    # When
    references = extract(written)

    # Then
    assert [(ref.kind, ref.value, ref.found) for ref in references] == [
        ("creditor_reference", "RF18539007547034", found)
    ]


def test_an_invoice_payment_reference_is_read_as_a_reference_not_a_number():
    # Given
    reference = numbering.payment_reference(NUMBER)
    grouped = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))

    # When
    found = [(ref.kind, ref.value) for ref in extract(f"{reference} / {grouped}")]

    # Then
    assert found == [("creditor_reference", reference)]


@pytest.mark.parametrize("written", ["RF19539007547034", "RF18 5390 0754 7043", "RF18"])
def test_a_creditor_reference_with_wrong_check_digits_is_dropped(written):
    assert extract(written) == ()


@pytest.mark.parametrize(
    ("name", "account", "keys"),
    [
        (
            "Acme Trading GmbH",
            "de89 3704 0044 0532 0130 00",
            ["account:DE89370400440532013000", "name:acme trading"],
        ),
        ("ACME TRADING, INC.", None, ["name:acme trading"]),
        ("Acme Trading Ltd.", "", ["name:acme trading"]),
        ("Acme  Trading   S.A.", None, ["name:acme trading"]),
        ("Acme Trading B. V.", None, ["name:acme trading"]),
        ("Acme-Trading SARL", None, ["name:acme trading"]),
        ("Acme Trading LLC", None, ["name:acme trading"]),
        ("Müller & Söhne GmbH & Co. KG", None, ["name:muller sohne"]),
        ("Polska Handel sp. z o.o.", None, ["name:polska handel"]),
        (None, "GB29 NWBK 6016 1331 9268 19", ["account:GB29NWBK60161331926819"]),
        (None, None, []),
        ("   ", "  ", []),
    ],
)
def test_payer_keys_normalise_account_and_name(name, account, keys):
    assert payer_key(name, account) == keys


def test_a_name_that_is_only_a_legal_form_keeps_it():
    # A legal form is dropped from a name, never taken for the whole name
    assert normalise_name("S.A.") == "s a"
    assert normalise_name("GmbH") == "gmbh"
