"""GET /invoices/{id}/document: a short-lived link to the stored PDF or UBL, for who may read it."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from lxml import etree
from pypdf import PdfReader

from infra.local.seed import demo_principal
from shared.domain.principal import Role
from tests.functional.conftest import PARTNER_KEY
from tests.functional.helpers import assert_problem
from tests.functional.invoicing import documents, placed, ship

OTHER_PARTNER_KEY = "otc_test_documents_partner_key_0123456789"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@pytest.fixture
def invoice(world, client) -> dict:
    """An issued invoice whose documents the delivery worker has stored."""
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [issued] = documents(world)
    return issued


def _link(client, invoice_id: str, fmt: str, key: str = PARTNER_KEY):
    path = f"/invoices/{invoice_id}/document?format={fmt}"
    return client.http.get(path, headers={"X-Api-Key": key})


def test_the_pdf_link_downloads_the_invoice_pdf(world, client, invoice):
    # When
    answer = _link(client, invoice["id"], "pdf")

    # Then a presigned GET, valid five minutes, that nobody caches
    assert answer.status_code == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    link = json.loads(answer.body)
    assert link["number"] == invoice["number"]
    query = parse_qs(urlparse(link["url"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert f"{invoice['number']}.pdf" in query["response-content-disposition"][0]
    downloaded = requests.get(link["url"], timeout=10)
    assert downloaded.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(downloaded.content)).pages)
    assert invoice["number"] in text
    assert invoice["total"]["amount"] in text


def test_the_ubl_link_downloads_the_peppol_invoice(world, client, invoice):
    # When
    answer = _link(client, invoice["id"], "ubl")

    # Then
    assert answer.status_code == 200, answer.body
    downloaded = requests.get(json.loads(answer.body)["url"], timeout=10)
    xml = etree.fromstring(downloaded.content)
    assert xml.findtext(f"{{{CBC}}}ID") == invoice["number"]
    assert xml.findtext(f"{{{CBC}}}CustomizationID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )


def test_a_document_not_stored_yet_answers_retry_later(world, client, invoice):
    # Given the PDF is not in the bucket (as right after issue, before the worker ran)
    world.session.client("s3").delete_object(
        Bucket=world.outputs["DocumentsBucketName"],
        Key=f"invoices/{invoice['customer_id']}/{invoice['number']}.pdf",
    )

    # When
    answer = _link(client, invoice["id"], "pdf")

    # Then
    assert_problem(answer, 409, "document-not-ready")
    assert answer.headers["Retry-After"] == "2"


def test_an_unknown_format_is_a_bad_query(world, client, invoice):
    # When
    answer = _link(client, invoice["id"], "docx")

    # Then
    assert_problem(answer, 400, "invalid-query")


def test_another_partners_invoice_is_not_found(world, client, invoice):
    # Given a partner acting for another customer only
    demo_principal(
        "prt_documents",
        "partner",
        "Other partner",
        Role.PARTNER,
        OTHER_PARTNER_KEY,
        customer_ids=("cus_globex",),
    )

    # When
    answer = _link(client, invoice["id"], "pdf", key=OTHER_PARTNER_KEY)

    # Then
    assert_problem(answer, 404, "not-found")


def test_an_unknown_invoice_is_not_found(world, client):
    assert_problem(_link(client, "inv_NOPE", "pdf"), 404, "not-found")
