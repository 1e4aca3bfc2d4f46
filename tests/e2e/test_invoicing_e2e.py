"""Order -> shipment -> invoice over real HTTP on the local stack, documents downloaded by link."""

from __future__ import annotations

import io
import urllib.request

import pytest
from lxml import etree
from pypdf import PdfReader

from tests.e2e.conftest import REQUEST_TIMEOUT_SECONDS
from tests.e2e.invoiced import get, shipped_and_invoiced, wait_for

pytestmark = pytest.mark.e2e

UBL_NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_SECONDS) as response:
        assert response.status == 200
        return bytes(response.read())


def test_a_shipped_order_is_invoiced_and_both_documents_download(local_stack):
    # Given a confirmed order, when all of it ships
    order, summary = shipped_and_invoiced(local_stack, "PO-E2E-INV")

    # Then one invoice bills it, with the order's net total plus tax
    invoice = get(local_stack, f"/invoices/{summary['id']}").json()
    assert invoice["status"] == "open"
    assert invoice["net_total"] == order["total"]
    assert invoice["number"].startswith("INV-")

    # And both documents download through their short-lived links
    pdf_link = wait_for(
        local_stack,
        f"/invoices/{invoice['id']}/document?format=pdf",
        lambda a: a.status == 200,
    )
    ubl_link = get(local_stack, f"/invoices/{invoice['id']}/document?format=ubl").json()
    pdf = _download(pdf_link["url"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert invoice["number"] in text
    assert invoice["total"]["amount"] in text
    ubl = etree.fromstring(_download(ubl_link["url"]))
    assert ubl.findtext("cbc:ID", namespaces=UBL_NS) == invoice["number"]
    payable = ubl.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL_NS)
    assert payable == invoice["total"]["amount"]
