"""The invoice e-mail and the documents' keys: pure functions of the document."""

from __future__ import annotations

import pytest

from functions.invoicing import documents, invoice_email
from functions.invoicing.documents import DocumentFormat
from shared.domain.notifications import PORTAL_TEXT
from tests.unit import invoice_samples
from tests.unit.invoice_samples import credit_note, domestic_invoice


def test_an_invoice_email_says_what_is_owed_by_when_and_how_to_pay() -> None:
    # Given the domestic invoice
    invoice = domestic_invoice()

    # When its e-mail is rendered
    email = invoice_email.render(invoice)

    # Then subject and both bodies name it, the amount, the due date, discount and bank details
    assert email.subject == "Invoice INV-2026-000123 from Muster Handel GmbH"
    for body in (email.text, email.html):
        assert "Hello Beispiel AG," in body
        assert "invoice INV-2026-000123 of 2026-03-02 for your order PO-4711" in body
        assert "Amount due: 230.19 EUR, payable by 2026-04-01." in body
        assert "early payment discount of 4.60 EUR" in body
        assert "IBAN DE89370400440532013000, BIC COBADEFFXXX" in body
        assert "payment reference RF18539007547034" in body
    assert email.text.endswith("Kind regards,\nMuster Handel GmbH\n")


def test_a_credit_note_email_names_the_credited_invoice_and_the_amount() -> None:
    # When the credit note's e-mail is rendered
    email = invoice_email.render(credit_note())

    # Then it is about the note, the invoice it credits and the amount, and asks no payment
    assert email.subject == "Credit note CN-2026-000007 from Muster Handel GmbH"
    assert "credit note CN-2026-000007 of 2026-03-02, crediting invoice INV-2026-000123" in (
        email.text
    )
    assert "Amount credited: 59.50 EUR." in email.text
    assert "Reason: Damaged in transit." in email.text
    assert "IBAN" not in email.text


def test_names_are_escaped_in_html_and_the_subject_stays_one_line() -> None:
    # Given a buyer and seller whose names hold markup and a line break
    invoice = domestic_invoice().model_copy(
        update={
            "buyer": invoice_samples.buyer("<b>Evil</b> & Co"),
            "seller": invoice_samples.SELLER.model_copy(update={"name": "Seller\nBcc: x@y"}),
        }
    )

    # When the e-mail is rendered
    email = invoice_email.render(invoice)

    # Then the HTML shows the names as text, and the subject has no line break
    assert "Hello &lt;b&gt;Evil&lt;/b&gt; &amp; Co," in email.html
    assert "<b>Evil</b>" not in email.html
    assert "\n" not in email.subject


def test_documents_live_at_stable_keys_per_customer_and_number() -> None:
    # Given an invoice
    invoice = domestic_invoice()

    # Then its documents' keys, names and types follow from it alone
    assert documents.document_key(invoice, "pdf") == "invoices/cus_sample/INV-2026-000123.pdf"
    assert documents.document_key(invoice, DocumentFormat.UBL) == (
        "invoices/cus_sample/INV-2026-000123.xml"
    )
    assert documents.file_name(invoice, "ubl") == "INV-2026-000123.xml"
    assert documents.content_type("pdf") == "application/pdf"
    assert documents.content_type("ubl") == "application/xml"
    with pytest.raises(ValueError, match="docx"):
        documents.document_key(invoice, "docx")


def test_a_portal_link_is_offered_in_both_parts_escaped_in_html() -> None:
    url = 'https://api.example/portal/cus_acme?token=1.2.a"b<c>.d&x=1'

    email = invoice_email.render(domestic_invoice(), url)

    assert f"{PORTAL_TEXT}: {url}\n" in email.text
    assert 'href="https://api.example/portal/cus_acme?token=1.2.a&quot;b&lt;c&gt;.d&amp;x=1"' in (
        email.html
    )
    assert url not in email.html
    assert PORTAL_TEXT not in invoice_email.render(domestic_invoice()).text
