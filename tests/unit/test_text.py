"""Free text as a domain type, and the scrubbing every document writer applies to stored text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Annotated

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from pydantic import BaseModel, ConfigDict, ValidationError
from pypdf import PdfReader

from functions.invoicing.pdf import render_pdf
from functions.invoicing.ubl import render_ubl
from shared.domain.aging import AgingReport
from shared.domain.customer import Address
from shared.domain.imports import RowError, error_report
from shared.domain.invoice import TaxCode
from shared.domain.text import REPLACEMENT, STORED, MultiLine, SingleLine, scrub
from tests.unit import invoice_samples
from tests.unit.invoice_samples import buyer, domestic_invoice


class _Form(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Annotated[str, SingleLine(max_length=20)] | None = None
    note: Annotated[str, MultiLine(max_length=40, min_length=0)] = ""


HOSTILE = {
    "NUL": "\x00",
    "BEL": "\x07",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "CSI (C1)": "\x9b",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "U+FFFE": "\ufffe",
    "U+FFFF": "\uffff",
    "U+FDD0": "\ufdd0",
    "U+10FFFF": "\U0010ffff",
}


def _refusal(**fields: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as raised:
        _Form.model_validate(fields)
    (error,) = raised.value.errors(include_url=False)
    return dict(error)


def _in_an_element(text: str) -> str | None:
    """What lxml stores in an element (it raises ValueError for text XML 1.0 cannot carry)."""
    element = etree.Element("t")
    element.text = text
    parsed = etree.fromstring(etree.tostring(element, encoding="UTF-8"))
    return parsed.text


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("field", ["name", "note"])
def test_a_control_character_surrogate_or_noncharacter_is_refused_at_its_field(
    field: str, char: str
) -> None:
    # Given text with a forbidden character inside it
    # When it is validated
    error = _refusal(**{field: f"Acme{char}Ltd"})

    # Then the field is refused, and the message names the code point and where it is
    assert error["loc"] == (field,)
    assert f"U+{ord(char):04X} at position 5" in str(error["msg"])


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\r\n", "\u2028", "\u2029"])
def test_a_single_line_field_refuses_tabs_and_line_breaks(char: str) -> None:
    # Given a name with a tab or a line break inside it
    # When it is validated
    error = _refusal(name=f"Acme{char}Ltd")

    # Then it is refused as not one line
    assert error["loc"] == ("name",)
    assert "single-line" in str(error["msg"])


def test_a_multi_line_field_keeps_tabs_and_newlines_and_normalises_carriage_returns() -> None:
    # Given a note typed on Windows, with a tab
    # When it is validated
    form = _Form.model_validate({"note": "first\r\nsecond\rthird\n\tfourth"})

    # Then newlines stay, CR LF and lone CR are newlines
    assert form.note == "first\nsecond\nthird\n\tfourth"


def test_leading_and_trailing_whitespace_is_trimmed_and_blank_is_empty() -> None:
    # Given padded text, and text that is only whitespace
    # When they are validated
    padded = _Form.model_validate({"name": "  \u00a0Acme Ltd\u3000 ", "note": "\n note \n"})
    error = _refusal(name=" \t\u3000 ")

    # Then the padding is gone, and a required text that is only whitespace is too short
    assert (padded.name, padded.note) == ("Acme Ltd", "note")
    assert error["type"] == "string_too_short"


def test_the_length_limit_counts_characters_after_trimming() -> None:
    # Given a name at the limit with padding, and one a character over
    # When they are validated
    at_limit = _Form.model_validate({"name": f"  {'Ж' * 20}  "})
    error = _refusal(name="x" * 21)

    # Then the first is taken, the second refused as too long
    assert at_limit.name == "Ж" * 20
    assert error["type"] == "string_too_long"


@pytest.mark.parametrize(
    "name",
    ["Ромашка и партнёры", "شركة المثال", "株式会社サンプル", "Ünïcödé & <Söhne>", "👩‍💻 Studio"],
)
def test_names_in_any_script_are_accepted_unchanged(name: str) -> None:
    # Given a name in Cyrillic, Arabic, CJK, with markup characters or emoji
    # When it is validated
    # Then it is kept as it was
    assert _Form.model_validate({"name": name}).name == name


ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates included


@given(ANY_TEXT)
def test_any_text_the_types_accept_is_xml_1_0_text(text: str) -> None:
    # Given any text at all, lone surrogates included
    for field in ("name", "note"):
        # When a request type accepts it
        try:
            value = getattr(_Form.model_validate({field: text}), field)
        except ValidationError:
            continue
        # Then lxml puts it in an element and reads the same text back
        assert value is not None
        assert (_in_an_element(value) or "") == value


@given(ANY_TEXT)
def test_anything_scrubbed_is_xml_1_0_text(text: str) -> None:
    # Given any text at all (as stored before the types existed)
    # When it is scrubbed
    scrubbed = scrub(text)

    # Then lxml takes it, the length is kept, and only unwritable characters were replaced
    assert _in_an_element(scrubbed.replace("\r", "\n")) is not None or scrubbed == ""
    assert len(scrubbed) == len(text)
    assert all(a == b or b == REPLACEMENT for a, b in zip(text, scrubbed, strict=True))


def test_scrubbing_keeps_tabs_newlines_and_ordinary_text() -> None:
    # Given text with a tab, newlines and non-Latin letters, and text with a NUL
    # When they are scrubbed
    # Then the first is unchanged and the NUL is replaced
    assert scrub("Zeile 1\n\tЖ 株式会社\r\n") == "Zeile 1\n\tЖ 株式会社\r\n"
    assert scrub("Acme\x00Ltd") == f"Acme{REPLACEMENT}Ltd"
    assert scrub("Acme\x00Ltd", " ") == "Acme Ltd"


def test_text_stored_before_the_rules_is_read_back_as_it_is() -> None:
    # Given an address as stored before control characters were refused
    stored = {"line1": "Main\x00 1", "city": "Ber\nlin", "postal_code": "10115", "country": "DE"}

    # When it is read back from the table, and when it is sent in a request
    address = Address.from_stored(stored)
    with pytest.raises(ValidationError):
        Address.model_validate(stored)

    # Then the read takes it as it is (the writers scrub it); a request refuses it
    assert (address.line1, address.city) == ("Main\x00 1", "Ber\nlin")
    assert _Form.model_validate({"name": "a\x00"}, context=STORED).name == "a\x00"


# --- the writers, over text stored before the types refused it ---------------------------------


LEGACY = "Acme\x00 \x07Bell\x85 \ud800 \ufffe GmbH"


def test_a_stored_nul_cannot_make_the_ubl_ill_formed() -> None:
    # Given an invoice whose stored buyer name, purchase order and line name hold forbidden text
    invoice = invoice_samples.document(
        [("WID-1", f"Widget{LEGACY}", "C62", "1", "10.00", "standard", TaxCode.STANDARD, "19")],
        number="INV-2026-000001",
        to=buyer(name=LEGACY, city="Ham\x00burg"),
        purchase_order=f"PO\x00{LEGACY}",
    )

    # When its UBL is rendered
    document = render_ubl(invoice)

    # Then it is well-formed XML (defusedxml and lxml both parse it) with the text replaced
    assert b"\x00" not in document
    SafeET.fromstring(document)
    root = etree.fromstring(document)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    names = root.xpath("//cbc:RegistrationName/text()", namespaces=ns)
    assert scrub(LEGACY) in names
    assert root.xpath("//cbc:CityName/text()", namespaces=ns)[-1] == f"Ham{REPLACEMENT}burg"


def test_a_stored_control_character_does_not_reach_the_pdf() -> None:
    # Given an invoice whose stored buyer name holds controls (NUL, NEL)
    invoice = domestic_invoice().model_copy(update={"buyer": buyer(name="Beispiel\x00\x85 AG")})

    # When its PDF is rendered and read back
    reader = PdfReader(io.BytesIO(render_pdf(invoice)))
    text = "\n".join(page.extract_text() for page in reader.pages)

    # Then the name is there, its controls drawn as the replacement character, and no control is
    assert f"Beispiel{REPLACEMENT}{REPLACEMENT} AG" in text
    assert not any(char in text for char in "\x00\x85")


def test_a_stored_control_character_does_not_reach_the_aging_csv() -> None:
    # Given an aging report whose stored customer name holds a NUL and a lone surrogate
    report = AgingReport.model_validate(
        {
            "as_of": date(2026, 3, 31),
            "edges": [30],
            "currencies": [
                {
                    "currency": "EUR",
                    "customers": [_aging_row("cus_1", "Acme\x00\ud800 Ltd")],
                    "totals": _aging_row(None, None),
                }
            ],
        }
    )

    # When it is written as CSV and encoded
    written = report.to_csv().encode()

    # Then the bytes are UTF-8 text without controls, and the name has replacements
    rows = list(csv.reader(io.StringIO(written.decode())))
    assert rows[1][3] == f"Acme{REPLACEMENT}{REPLACEMENT} Ltd"
    assert b"\x00" not in written


def test_an_import_error_report_quotes_a_bad_value_without_its_controls() -> None:
    # Given a row error whose reason quotes a value with a NUL (as "'X\x00' is not a country")
    errors = [RowError(2, "country", "'D\x00E' is not an ISO 3166-1 alpha-2 country code")]

    # When the report is written
    report = error_report(errors)

    # Then it is CSV without the NUL
    assert b"\x00" not in report
    assert list(csv.reader(io.StringIO(report.decode())))[1][2].startswith(f"'D{REPLACEMENT}E'")


def _aging_row(customer_id: str | None, name: str | None) -> dict[str, object]:
    zero = Decimal(0)
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "buckets": [zero, zero],
        "total": zero,
        "unapplied": zero,
        "balance": zero,
        "open_items": 0,
    }
