"""The PDF of invoices and credit notes, read back with pypdf."""

from __future__ import annotations

import io
from datetime import date
from typing import cast

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from functions.invoicing.pdf import render_pdf
from shared.domain import epc_qr
from shared.domain.invoice import Invoice, PartyContact
from tests.unit import invoice_samples
from tests.unit.invoice_samples import all_samples

SAMPLES = all_samples()


def _read(invoice: Invoice) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(render_pdf(invoice)))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_shows_its_number_total_and_payment_reference(name: str) -> None:
    # Given a sample document
    invoice = SAMPLES[name]

    # When its PDF is rendered and read back
    reader, text = _read(invoice)

    # Then it is one A4 page that names the document, its total and the payment reference
    assert len(reader.pages) == 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    assert invoice.number in text
    assert f"{invoice.total:,f} {invoice.currency}" in text
    assert invoice.payment_reference in text


def test_an_invoice_shows_parties_lines_taxes_and_how_to_pay() -> None:
    # When the domestic invoice is rendered
    invoice = SAMPLES["domestic"]
    _, text = _read(invoice)

    # Then seller and buyer, dates, lines, tax groups, discount and bank details are there
    assert invoice.payment is not None
    for expected in (
        "Invoice",
        "Muster Handel GmbH",
        "VAT ID: DE123456789",
        "Beispiel AG",
        "VAT ID: DE987654321",
        "Issue date: 2026-03-02",
        "Due date: 2026-04-01",
        "Purchase order: PO-4711",
        "Terms: 2/10 net 30",
        "Early payment discount: 4.60 EUR",
        "Handbook of widgets (BOOK-7)",
        "4.123456",
        "135.31",
        "25.71",
        "Amount due 230.19 EUR",
        f"IBAN: {invoice.payment.iban}",
        f"BIC: {invoice.payment.bic}",
        f"Account name: {invoice.payment.account_name}",
    ):
        assert expected in text, expected
    assert "Reverse charge" not in text


def test_a_reverse_charge_invoice_says_the_buyer_accounts_for_the_vat() -> None:
    # When the reverse-charge invoice is rendered
    _, text = _read(SAMPLES["reverse_charge"])

    # Then it carries the notes of both its service (reverse charge) and its goods
    # (intra-community supply) and their exemption reasons
    assert "Reverse charge: the recipient is liable for the VAT" in text
    assert "VATEX-EU-AE" in text
    assert "Intra-community supply of goods, exempt from VAT" in text
    assert "VATEX-EU-IC" in text


def test_a_credit_note_names_the_credited_invoice_and_the_reason() -> None:
    # When the credit note is rendered
    _, text = _read(SAMPLES["credit_note"])

    # Then it is titled as a credit note, references the invoice and gives the reason
    assert "Credit note" in text
    assert "Credits invoice: INV-2026-000123" in text
    assert "Reason: Damaged in transit" in text
    assert "Total credited 59.50 EUR" in text
    assert "IBAN" not in text


def test_a_200_line_invoice_runs_over_several_numbered_pages() -> None:
    # Given an invoice of 200 lines
    invoice = invoice_samples.long_invoice(200)

    # When it is rendered
    reader, text = _read(invoice)

    # Then it spans several pages, each numbered, with every line and the totals
    pages = len(reader.pages)
    assert pages >= 3
    for number in range(1, pages + 1):
        page_text = reader.pages[number - 1].extract_text()
        assert f"page {number}/{pages}" in page_text
    assert "Spare part 1 (SKU-0001)" in text
    assert "Spare part 200 (SKU-0200)" in text
    assert f"{invoice.total:,f} EUR" in text
    # the lines table repeats its headings on the following pages
    assert "Unit price" in reader.pages[1].extract_text()


def _compact(text: str) -> str:
    """Extracted text without whitespace and control characters: pypdf spaces CJK glyphs (and
    the lines a long name wraps onto) apart, and writes a control character (NUL, BS, EOT) for
    the spacing of some shaped glyphs."""
    return "".join(char for char in text if not char.isspace() and char.isprintable())


def test_names_in_any_script_are_written_in_their_own_letters() -> None:
    # Given a buyer named in Cyrillic, Arabic and Chinese, in a Greek city, buying a Greek item
    invoice = SAMPLES["domestic"]
    line = invoice.lines[0].model_copy(update={"name": "Δοχείο αλουμινίου"})
    buyer = invoice_samples.buyer("ООО «Ромашка» شركة الأمل 北京贸易有限公司")  # noqa: RUF001
    buyer = buyer.model_copy(
        update={"address": buyer.address.model_copy(update={"city": "Θεσσαλονίκη"})}
    )
    invoice = invoice.model_copy(update={"buyer": buyer, "lines": (line, *invoice.lines[1:])})

    # When the PDF is rendered and read back
    reader, text = _read(invoice)

    # Then every name comes back as written, no "?" in its place; the fonts are embedded subsets
    assert "?" not in text
    assert "ООО «Ромашка»" in text  # noqa: RUF001
    assert "北京贸易有限公司" in _compact(text)  # pypdf puts a space between CJK glyphs
    # Shaped right to left, pypdf returns the Arabic words in visual order (last word first),
    # each word in its logical order
    assert "الأملشركة" in _compact(text)
    assert "Θεσσαλονίκη" in text
    assert "Δοχείο αλουμινίου (WID-1)" in text
    fonts = _embedded_fonts(reader)
    assert all("+" in name for name in fonts), fonts  # ABCDEF+Name: a subset
    assert {"/MPDFAA+NotoSans", "/MPDFAA+NotoSansArabic", "/MPDFAA+NotoSansCJKJP"} <= fonts


def test_a_latin_document_embeds_no_fallback_font() -> None:
    # When a document in Latin script only is rendered
    reader, _ = _read(SAMPLES["domestic"])

    # Then only the house face is embedded, its two weights
    assert _embedded_fonts(reader) == {"/MPDFAA+NotoSans", "/MPDFAA+NotoSansBold"}


def test_hebrew_is_written_right_to_left_in_its_own_letters() -> None:
    # Given a buyer named in Hebrew ("Shalom Ltd")
    invoice = SAMPLES["domestic"].model_copy(
        update={"buyer": invoice_samples.buyer("\u05e9\u05dc\u05d5\u05dd \u05d1\u05e2\u05f4\u05de")}
    )

    # When the PDF is rendered and read back
    reader, text = _read(invoice)

    # Then the Hebrew letters are there (shaped right to left, pypdf returns the words in visual
    # order, last word first), in the Hebrew fallback font
    assert "?" not in text
    assert "\u05d1\u05e2\u05f4\u05de\u05e9\u05dc\u05d5\u05dd" in _compact(text)
    assert "/MPDFAA+DejaVuSansBook" in _embedded_fonts(reader)  # the Hebrew subset


def test_letters_no_embedded_font_has_are_left_blank_and_the_document_still_renders() -> None:
    # Given a buyer named with an emoji, which no embedded font covers
    invoice = SAMPLES["domestic"].model_copy(
        update={"buyer": invoice_samples.buyer("\U0001f600 Beispiel AG")}
    )

    # When the PDF is rendered and read back
    _, text = _read(invoice)

    # Then the document is whole: what can be written is, the rest is left out, never a "?"
    assert "Beispiel AG" in text
    assert "Amount due 230.19 EUR" in text
    assert "?" not in text


def _embedded_fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        for font in cast(DictionaryObject, resources["/Font"].get_object()).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_an_invoice_names_the_sellers_register_and_contact_and_the_delivery_date() -> None:
    # Given an invoice of goods that left on 2026-02-27, from a seller with a register number
    invoice = SAMPLES["domestic"].model_copy(update={"delivered_on": date(2026, 2, 27)})

    # When its PDF is rendered and read back
    _, text = _read(invoice)

    # Then the seller's register number and contact and the delivery date are there
    assert "Register no.: HRB 12345" in text
    contact = invoice.seller.contact
    assert contact is not None
    assert f"Contact: {contact.name}, {contact.phone}" in text
    assert "billing@muster-handel.example" in text
    assert "Delivery date: 2026-02-27" in text


def test_the_sellers_contact_person_and_phone_are_printed_too() -> None:
    # Given a seller party that carries a contact (name, phone, e-mail)
    contact = PartyContact(
        name="Erika Muster", phone="+49 30 1234567", email="erika@muster-handel.example"
    )
    seller = SAMPLES["domestic"].seller.model_copy(update={"contact": contact})
    invoice = SAMPLES["domestic"].model_copy(update={"seller": seller})

    # When its PDF is rendered
    _, text = _read(invoice)

    # Then the phone and the contact's e-mail come with the seller's e-mail
    assert "+49 30 1234567" in text
    assert "erika@muster-handel.example" in text
    assert "billing@muster-handel.example" in text


def test_a_credit_note_names_the_credited_invoices_number_and_date() -> None:
    # Given a credit note of the invoice issued on 2026-03-02
    note = SAMPLES["credit_note"].model_copy(
        update={"credited_invoice_issued_on": date(2026, 3, 2)}
    )

    # When it is rendered
    _, text = _read(note)

    # Then both the credited invoice's number and its date are there, and no QR code to pay
    assert "Credits invoice: INV-2026-000123" in text
    assert "Invoice date: 2026-03-02" in text
    assert "Scan to pay" not in text


def test_a_euro_invoice_carries_the_epc_qr_code_and_other_currencies_do_not() -> None:
    # When the EUR and the USD invoices are rendered
    _, euro = _read(SAMPLES["domestic"])
    _, dollar = _read(SAMPLES["export"])

    # Then the EUR one has the scan-to-pay code beside the bank details, the USD one has none
    assert "Scan to pay (EPC QR)" in euro
    assert "Scan to pay" not in dollar


def test_the_printed_qr_code_scans_to_the_epc_payload_of_the_invoice() -> None:
    # Given the domestic invoice (EUR, the seller's IBAN) and its EPC payload
    invoice = SAMPLES["domestic"]
    payload = epc_qr.for_invoice(invoice)

    # When its PDF's page is rasterised at 144 dpi and scanned for codes
    page = pypdfium2.PdfDocument(render_pdf(invoice))[0]
    codes = zxingcpp.read_barcodes(page.render(scale=2).to_pil())

    # Then exactly one QR code is on it, and it reads as the payload
    assert [(code.format, code.text) for code in codes] == [
        (zxingcpp.BarcodeFormat.QRCode, payload)
    ]


def test_rendering_is_deterministic() -> None:
    # When the same document is rendered twice
    first, second = render_pdf(SAMPLES["domestic"]), render_pdf(SAMPLES["domestic"])

    # Then the bytes are the same (a retried worker rewrites identical content)
    assert first == second
