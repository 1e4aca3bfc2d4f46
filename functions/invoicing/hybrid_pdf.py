"""The Factur-X / ZUGFeRD hybrid of an invoice or credit note: its PDF with its CII XML inside.

For customers whose ``pdf_format`` is ``factur-x``: the PDF the buyer reads (``pdf.py``) turned
into a PDF/A-3 with the document's EN 16931 CII XML (``cii.py``) embedded as ``factur-x.xml``
(relationship "Data") and the Factur-X XMP metadata declaring conformance level EN 16931, so
the buyer's software reads the invoice from the same file a person reads.

Embedding is Akretion's ``factur-x`` library, imported here and only here: it brings lxml and
pypdf, which a plain PDF's delivery never loads. PDF/A wants the colours the page uses tied to
a colour space: the PDF gets an sRGB output intent first (the profile made by Pillow's
LittleCMS binding, which fpdf2 already brings), as the library adds none. The XML is checked
against the CII schema and the CEN EN 16931 CII rules in the test suite, so the library's own
XSD check is not repeated on every delivery. Unlike the plain PDF, the hybrid is not the same
bytes on every rendering: the library dates the PDF's and the XMP's metadata at the time it
runs (the visible pages and the embedded XML are the same).
"""

from __future__ import annotations

import io

from functions.invoicing.cii import render_cii
from shared.domain.invoice import DocumentKind, Invoice

FLAVOR = "factur-x"
LEVEL = "en16931"


def render_hybrid(invoice: Invoice, pdf: bytes) -> bytes:
    """``pdf``, the invoice's rendered PDF, as a Factur-X PDF/A-3 carrying its CII XML."""
    from facturx import generate_from_binary

    kind = "Credit note" if invoice.kind is DocumentKind.CREDIT_NOTE else "Invoice"
    hybrid: bytes = generate_from_binary(
        _with_srgb_output_intent(pdf),
        render_cii(invoice),
        flavor=FLAVOR,
        level=LEVEL,
        check_xsd=False,
        pdf_metadata={
            "author": invoice.seller.name,
            "keywords": f"{kind}, Factur-X",
            "title": f"{invoice.seller.name}: {kind} {invoice.number}",
            "subject": (
                f"{kind} {invoice.number} dated {invoice.issued_on.isoformat()} "
                f"issued by {invoice.seller.name}"
            ),
        },
        lang="en-GB",
    )
    return hybrid


def _with_srgb_output_intent(pdf: bytes) -> bytes:
    """``pdf`` with a PDF/A output intent naming sRGB (the colour space of fpdf2's colours)."""
    from PIL import ImageCms
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    profile = StreamObject()
    profile.set_data(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
