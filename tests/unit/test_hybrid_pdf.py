"""The Factur-X / ZUGFeRD hybrid PDF: the invoice's PDF as PDF/A-3, its CII XML inside."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from functions.invoicing.cii import render_cii
from functions.invoicing.hybrid_pdf import render_hybrid
from functions.invoicing.pdf import render_pdf
from shared.domain.invoice import Invoice
from tests.unit.invoice_samples import ubl_samples

ROOT = Path(__file__).parents[2]
SAMPLES = ubl_samples()
HYBRIDS = ("domestic", "credit_note", "reverse_charge", "unicode_buyer")
XMP = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
}


def _hybrid(invoice: Invoice) -> PdfReader:
    return PdfReader(io.BytesIO(render_hybrid(invoice, render_pdf(invoice))))


def _catalog(reader: PdfReader) -> Any:
    """The document catalog, as loosely typed as PDF objects are."""
    return reader.root_object


def _xmp(reader: PdfReader) -> etree._Element:
    metadata = _catalog(reader)["/Metadata"].get_object()
    return etree.fromstring(metadata.get_data())


@pytest.mark.parametrize("name", HYBRIDS)
def test_the_pdf_embeds_the_documents_cii_as_factur_x_xml(name: str) -> None:
    # Given a sample document
    invoice = SAMPLES[name]

    # When its hybrid PDF is rendered
    reader = _hybrid(invoice)

    # Then it carries exactly one factur-x.xml, byte for byte the document's CII, as its data
    assert reader.attachments == {"factur-x.xml": [render_cii(invoice)]}
    [spec] = _catalog(reader)["/AF"]
    assert spec.get_object()["/AFRelationship"] == "/Data"


@pytest.mark.parametrize("name", HYBRIDS)
def test_the_pdf_declares_pdf_a_3_and_the_en_16931_conformance_level(name: str) -> None:
    # When a hybrid PDF is rendered
    reader = _hybrid(SAMPLES[name])
    xmp = _xmp(reader)

    # Then its XMP metadata says PDF/A-3 and Factur-X EN 16931 for factur-x.xml
    assert xmp.xpath("string(//pdfaid:part)", namespaces=XMP) == "3"
    assert xmp.xpath("string(//fx:ConformanceLevel)", namespaces=XMP) == "EN 16931"
    assert xmp.xpath("string(//fx:DocumentFileName)", namespaces=XMP) == "factur-x.xml"
    # And it ties its colours to sRGB (the PDF/A output intent)
    [intent] = _catalog(reader)["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    assert intent.get_object()["/DestOutputProfile"].get_object()["/N"] == 3


def test_the_visible_invoice_still_reads_as_before() -> None:
    # Given an invoice for a buyer named in Polish and Japanese
    invoice = SAMPLES["unicode_buyer"]

    # When its hybrid PDF is read back as text
    text = "\n".join(page.extract_text() for page in _hybrid(invoice).pages)

    # Then it is the plain PDF's text: the number, the payment reference and the buyer's name
    # as printed (pypdf puts a separator between CJK glyphs)
    plain = PdfReader(io.BytesIO(render_pdf(invoice)))
    assert text == "\n".join(page.extract_text() for page in plain.pages)
    assert invoice.number in text
    assert invoice.payment_reference in text
    assert "Łódź Hurtownia Spółka z o.o." in text
    assert "東京支店" in "".join(char for char in text if char not in " \x00")


@pytest.mark.parametrize("name", SAMPLES)
def test_every_cii_passes_the_factur_x_en16931_schema_the_library_checks(name: str) -> None:
    # When a sample's CII is checked against Factur-X's own EN 16931 XSD (stricter than D16B)
    valid = facturx.xml_check_xsd(render_cii(SAMPLES[name]), flavor="factur-x", level="en16931")

    # Then it passes
    assert valid


def test_the_delivery_worker_loads_the_factur_x_library_only_when_it_makes_one() -> None:
    # When the delivery worker's module is imported in a fresh interpreter
    probe = (
        "import sys, functions.invoicing.deliver_invoice; "
        "print(sorted({'facturx', 'pypdf', 'functions.invoicing.cii'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout

    # Then neither the library nor the CII writer is loaded (a plain PDF needs neither)
    assert loaded.strip() == "[]"
