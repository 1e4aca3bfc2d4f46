"""Order -> shipment -> invoice over real HTTP on the local stack, documents downloaded by link."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from tests.e2e.conftest import PARTNER_KEY, Answer, LocalStack
from tests.e2e.test_local_stack import order_body, post_order, wait_for_status

pytestmark = pytest.mark.e2e

INVOICE_TIMEOUT_SECONDS = 30.0
UBL_NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def _get(stack: LocalStack, path: str) -> Answer:
    return stack.request("GET", path, headers={"X-Api-Key": PARTNER_KEY})


def _wait(stack: LocalStack, path: str, ready: Any) -> Any:
    """GET ``path`` until ``ready(answer)`` holds; the workers run on the pump's schedule."""
    deadline = time.monotonic() + INVOICE_TIMEOUT_SECONDS
    answer = _get(stack, path)
    while time.monotonic() < deadline:
        answer = _get(stack, path)
        if ready(answer):
            return answer.json()
        time.sleep(0.2)
    pytest.fail(f"GET {path} still answers {answer.status} {answer.body[:300]!r}")


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return bytes(response.read())


def test_a_shipped_order_is_invoiced_and_both_documents_download(local_stack):
    # Given a confirmed order
    placed = post_order(local_stack, order_body(purchase_order="PO-E2E-INV"))
    assert placed.status == 201, placed.body
    order = wait_for_status(local_stack, placed.json()["id"], "confirmed")

    # When all of it ships
    lines = [{"line_no": line["line_no"], "quantity": line["reserved"]} for line in order["lines"]]
    shipped = local_stack.request(
        "POST",
        f"/orders/{order['id']}/shipments",
        body=json.dumps({"carrier": "DHL", "tracking_number": "E2E-INV", "lines": lines}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": PARTNER_KEY,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert shipped.status == 201, shipped.body

    # Then one invoice bills it, with the order's net total plus tax
    listed = _wait(
        local_stack,
        f"/invoices?customer_id={order['customer_id']}&limit=100",
        lambda a: (
            a.status == 200 and any(i["order_id"] == order["id"] for i in a.json()["invoices"])
        ),
    )
    mine = [i for i in listed["invoices"] if i["order_id"] == order["id"]]
    assert len(mine) == 1
    invoice = _get(local_stack, f"/invoices/{mine[0]['id']}").json()
    assert invoice["status"] == "open"
    assert invoice["net_total"] == order["total"]
    assert invoice["number"].startswith("INV-")

    # And both documents download through their short-lived links
    pdf_link = _wait(
        local_stack,
        f"/invoices/{invoice['id']}/document?format=pdf",
        lambda a: a.status == 200,
    )
    ubl_link = _get(local_stack, f"/invoices/{invoice['id']}/document?format=ubl").json()
    pdf = _download(pdf_link["url"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert invoice["number"] in text
    assert invoice["total"]["amount"] in text
    ubl = etree.fromstring(_download(ubl_link["url"]))
    assert ubl.findtext("cbc:ID", namespaces=UBL_NS) == invoice["number"]
    payable = ubl.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL_NS)
    assert payable == invoice["total"]["amount"]
