"""A customer asking for Factur-X gets its invoices' PDF as a hybrid: PDF/A-3 with the CII XML
inside; the others keep the plain PDF. Both at the same key and as the same attachment."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from functions.invoicing.cii import render_cii
from shared.store import invoices
from tests.functional.accounts import call
from tests.functional.conftest import World
from tests.functional.invoicing import credit_note, documents, eu_business_customer, placed, ship
from tests.unit.cii_validation import cii_validator


def _stored_pdf(world: World, document: dict[str, Any]) -> bytes:
    key = f"invoices/{document['customer_id']}/{document['number']}.pdf"
    body = world.session.client("s3").get_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=key
    )["Body"]
    content: bytes = body.read()
    return content


def test_a_factur_x_customer_gets_pdfs_carrying_the_cii_xml(world: World, client):
    # Given a French business that asks for Factur-X PDFs
    customer = eu_business_customer(client, pdf_format="factur-x")
    assert customer["pdf_format"] == "factur-x"

    # When an order of it is shipped, invoiced and partly credited, and the workers run
    order = placed(client, world, customer_id=customer["id"])
    ship(client, world, order["id"], [(1, 2)])
    [invoice] = documents(world)
    answer = credit_note(
        client, invoice["id"], {"reason": "Damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    )
    assert answer.status == 201, answer.body
    world.pump.drain()
    [note] = documents(world, "credit_note")

    # Then each stored PDF embeds factur-x.xml, the document's CII, which passes the EN 16931
    # rules, and still reads as the invoice
    for document in (invoice, note):
        pdf = PdfReader(io.BytesIO(_stored_pdf(world, document)))
        stored = invoices.get(document["id"])
        assert stored is not None
        [embedded] = pdf.attachments["factur-x.xml"]
        assert embedded == render_cii(stored)
        assert cii_validator().fatal(embedded) == []
        assert document["number"] in pdf.pages[0].extract_text()


def test_a_customer_switching_back_to_plain_pdf_gets_pdfs_without_xml(world: World, client):
    # Given a customer that asked for Factur-X, then switched back to plain PDFs
    customer = eu_business_customer(client, pdf_format="factur-x")
    patched = call(
        client,
        "PATCH",
        f"/customers/{customer['id']}",
        body={"version": customer["version"], "pdf_format": "pdf"},
    )
    assert patched.status == 200, patched.body
    assert patched.body["pdf_format"] == "pdf"

    # When an order of it is shipped and invoiced
    order = placed(client, world, customer_id=customer["id"])
    ship(client, world, order["id"], [(1, 2)])
    [invoice] = documents(world)

    # Then its PDF is a plain one, with nothing embedded
    pdf = PdfReader(io.BytesIO(_stored_pdf(world, invoice)))
    assert pdf.attachments == {}
    assert invoice["number"] in pdf.pages[0].extract_text()


def test_an_unknown_pdf_format_is_refused_and_changes_nothing(world: World, client):
    # Given a customer
    customer = eu_business_customer(client)
    assert customer["pdf_format"] == "pdf"

    # When a PATCH asks for a format there is none of
    answer = call(
        client,
        "PATCH",
        f"/customers/{customer['id']}",
        body={"version": customer["version"], "pdf_format": "xrechnung"},
    )

    # Then it is refused and the account is as it was
    assert answer.status in (400, 422), answer.body
    after = call(client, "GET", f"/customers/{customer['id']}").body
    assert (after["pdf_format"], after["version"]) == ("pdf", customer["version"])
