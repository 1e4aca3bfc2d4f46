"""The PDF of invoices and credit notes, read back with pypdf."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from functions.invoicing.pdf import latin1, render_pdf
from shared.domain.invoice import Invoice
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

    # Then it carries the reverse-charge note and the exemption reason
    assert "Reverse charge: the recipient is liable for the VAT" in text
    assert "VATEX-EU-AE" in text


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


def test_a_name_outside_latin1_is_written_in_its_closest_latin1_form() -> None:
    # Given a buyer whose name has characters the core fonts cannot draw
    invoice = SAMPLES["domestic"].model_copy(
        update={"buyer": invoice_samples.buyer("Łódź Spółka \u2013 \u201eZażółć\u201d € 中")}
    )

    # When the PDF is rendered
    _, text = _read(invoice)

    # Then the document is produced, with the name transliterated
    assert 'Lódz Spólka - "Zazólc" EUR ?' in text


def test_latin1_keeps_what_it_can_and_replaces_the_rest() -> None:
    # Then Latin-1 text is untouched, letters lose only what Latin-1 lacks, the rest is "?"
    assert latin1("Müller & Søn, café") == "Müller & Søn, café"
    assert latin1("Dvořák Łukasz Œuvre") == "Dvorák Lukasz OEuvre"
    assert latin1("€ 5 \u2013 \u2018quoted\u2019") == "EUR 5 - 'quoted'"
    assert latin1("東京") == "??"


def test_rendering_is_deterministic() -> None:
    # When the same document is rendered twice
    first, second = render_pdf(SAMPLES["domestic"]), render_pdf(SAMPLES["domestic"])

    # Then the bytes are the same (a retried worker rewrites identical content)
    assert first == second
