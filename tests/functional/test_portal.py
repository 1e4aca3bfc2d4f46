"""The customer portal: a contact's signed link opens that customer's pages, and only those."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urljoin

import pytest
import requests
from pypdf import PdfReader

from shared import clock
from shared.domain import epc_qr
from tests.functional.accounts import call, create_customer
from tests.functional.conftest import PARTNER_KEY
from tests.functional.helpers import assert_problem, assert_problem_answer
from tests.functional.invoicing import documents, placed, ship
from tests.unit.qr_images import decode, svg_modules

CONTACT = "ap-clerk@acme.example"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def invoice(world, client) -> dict:
    """ACME's issued invoice, its documents stored by the delivery worker."""
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [issued] = documents(world)
    return issued


def issue(client, customer_id="cus_acme", **body):
    answer = call(
        client, "POST", f"/customers/{customer_id}/portal-links", body={"email": CONTACT, **body}
    )
    assert answer.status == 201, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.body


def open_page(client, path, accept=BROWSER):
    return client.http.get(path, headers={"Accept": accept})


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


def field(page, name, **attributes):
    """The text of the element with ``data-field=name`` inside the row/block ``attributes``."""
    [(scope, value)] = attributes.items()
    block = page[page.index(f'data-{scope}="{value}"') :]
    return html.unescape(found(rf'data-field="{name}">([^<]*)<', block))


def test_a_link_shows_the_open_invoice_its_aging_and_how_to_pay_it(world, client, invoice):
    # Given a link staff issued to ACME's contact
    link = issue(client)
    assert link["path"].startswith("/portal/cus_acme?token=")
    assert link["email"] == CONTACT

    # When the contact opens it
    response = open_page(client, link["path"])

    # Then a self-contained page, never cached, with no script allowed
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    page = response.body.decode()
    assert "<script" not in page
    # showing the open invoice and what is due on it
    due = invoice["amount_due"]
    assert field(page, "number", invoice=invoice["id"]) == invoice["number"]
    assert field(page, "amount_due", invoice=invoice["id"]) == f"{float(due['amount']):,.2f} EUR"
    # the aging totals of GET /customers/{id}/statement
    statement = call(client, "GET", "/customers/cus_acme/statement").body
    for bucket, amount in statement["aging"]["buckets"].items():
        shown = found(rf'data-bucket="{re.escape(bucket)}">([^<]*)<', page)
        assert shown == f"{float(amount['amount']):,.2f} EUR"
    shown_total = found(r'data-bucket="total">([^<]*)<', page)
    assert shown_total == f"{float(statement['aging']['total']['amount']):,.2f} EUR"
    # how to pay it by bank transfer, quoting its RF reference
    assert field(page, "reference", transfer=invoice["id"]) == invoice["payment_reference"]
    assert invoice["payment_reference"].startswith("RF")
    assert field(page, "iban", transfer=invoice["id"]) == invoice["payment"]["iban"]
    # and an EPC QR code that a banking app reads as that transfer
    block = page[page.index(f'data-qr="{invoice["id"]}"') :]
    svg = block[block.index("<svg") : block.index("</svg>") + 6]
    decoded = decode(svg_modules(svg))
    assert decoded is not None
    payment = invoice["payment"]
    assert decoded.text == epc_qr.payload(
        name=payment["account_name"],
        iban=payment["iban"],
        amount=Decimal(due["amount"]),
        reference=invoice["payment_reference"],
        bic=payment["bic"],
    )


def test_the_pdf_and_ubl_links_download_the_invoice(world, client, invoice):
    # Given the page a link opens
    link = issue(client)
    page = open_page(client, link["path"]).body.decode()
    hrefs = re.findall(r'href="([^"]*/document\?[^"]*)"', page)
    assert hrefs

    for fmt, check in (("pdf", b"%PDF"), ("ubl", b"<?xml")):
        # When the contact follows the invoice's link (relative to the page)
        [href] = {h for h in hrefs if f"format={fmt}" in html.unescape(h) and invoice["id"] in h}
        response = client.http.get(urljoin(link["path"], html.unescape(href)))

        # Then it is sent on to a short-lived download of the stored document
        assert response.status_code == 303, response.body
        downloaded = requests.get(response.headers["Location"], timeout=10)
        assert downloaded.status_code == 200
        assert downloaded.content.startswith(check)
        if fmt == "pdf":
            text = "".join(
                p.extract_text() for p in PdfReader(io.BytesIO(downloaded.content)).pages
            )
            assert invoice["number"] in text


def test_an_invoice_page_shows_its_lines_and_a_form_disputing_one(world, client, invoice):
    # Given the page a link opens, and its link to the invoice's own page
    link = issue(client)
    page = open_page(client, link["path"]).body.decode()
    [href] = set(re.findall(rf'href="([^"]*/invoices/{invoice["id"]}\?[^"]*)"', page))
    path = urljoin(link["path"], html.unescape(href))
    before = world.written()

    # When the contact opens it
    response = open_page(client, path)

    # Then it lists the lines with their amounts with tax, and holds the line dispute form
    assert response.status_code == 200, response.body
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    shown = response.body.decode()
    assert "<script" not in shown and f"Invoice {invoice['number']}" in shown
    assert re.findall(r'data-line-no="(\d+)"', shown) == ["1", "2"]
    assert 'name="line_no"' in shown and 'name="kind" value="dispute"' in shown
    # its links (documents, the form, the way back) resolve under the portal with the token
    for relative in re.findall(r'(?:href|action)="([^"]*)"', shown):
        resolved = urljoin(path, html.unescape(relative))
        assert resolved.startswith("/portal/cus_acme") and "token=" in resolved, resolved
    # nothing was written, and another customer's invoice or an unknown one is a 404 page
    assert world.written() == before
    token = link["path"].split("token=", 1)[1]
    assert open_page(client, f"/portal/cus_acme/invoices/inv_nobody?token={token}").status_code == (
        404
    )
    assert open_page(
        client, f"/portal/cus_globex/invoices/{invoice['id']}?token={token}"
    ).status_code == (403)


def test_a_link_opens_its_own_customer_only_and_a_forged_expired_or_revoked_one_nothing(
    world, client, invoice
):
    # Given a valid link of ACME's, and a moment before anything is refused
    link = issue(client, lifetime_seconds=3600)
    token = link["path"].split("token=", 1)[1]
    before = world.written()
    issued_at, expires, subject, signature = token.split(".")
    forged = [
        f"{issued_at}.{expires}.{subject}.{signature[:-2]}AA",
        f"{issued_at}.{int(expires) + 86400}.{subject}.{signature}",
        "x" * 2000,
        "\u00e9.1.2.3",
    ]

    # Then another customer's pages refuse it, as an HTML page to a browser
    response = open_page(client, f"/portal/cus_globex?token={token}")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "does not open the portal" in response.body.decode()
    # and as a problem to a client asking JSON, or naming no type
    for accept in ("application/json", ""):
        assert_problem(
            open_page(client, f"/portal/cus_globex?token={token}", accept), 403, "invalid-link"
        )
    other_invoice = f"/portal/cus_globex/invoices/{invoice['id']}/document?token={token}"
    assert open_page(client, other_invoice).status_code == 403
    # a forged or malformed token opens nothing, not even its own customer's page
    for bad in forged:
        assert open_page(client, f"/portal/cus_acme?token={bad}").status_code == 403, bad
    assert open_page(client, "/portal/cus_acme").status_code == 401
    # and nothing was written
    assert world.written() == before

    # When the link's hour is up
    later = clock.now() + timedelta(hours=1, seconds=1)
    clock.set_clock(lambda: later)
    try:
        assert_problem(open_page(client, link["path"], "application/json"), 403, "link-expired")
    finally:
        clock.set_clock(None)


def test_staff_revoke_every_link_issued_before(world, client, invoice):
    # Given a link in the contact's hands
    old = issue(client)
    assert open_page(client, old["path"]).status_code == 200

    # When staff revoke the customer's links
    revoked = call(client, "DELETE", "/customers/cus_acme/portal-links")
    assert revoked.status == 200, revoked.body

    # Then the old link is refused, a link issued afterwards opens the portal
    assert_problem(open_page(client, old["path"], "application/json"), 403, "link-revoked")
    assert open_page(client, old["path"]).status_code == 403
    assert open_page(client, issue(client)["path"]).status_code == 200


def test_only_customer_managers_issue_links_and_bad_requests_change_nothing(world, client):
    # Then partners may not issue links, nor revoke them
    answer = call(
        client, "POST", "/customers/cus_acme/portal-links", key=PARTNER_KEY, body={"email": CONTACT}
    )
    assert_problem_answer(answer, 403, "forbidden")
    assert call(client, "DELETE", "/customers/cus_acme/portal-links", key=PARTNER_KEY).status == 403
    # an unknown customer is 404, a bad address or a lifetime beyond 30 days 422
    nobody = "/customers/cus_nobody/portal-links"
    assert call(client, "POST", nobody, body={"email": CONTACT}).status == 404
    assert call(client, "DELETE", nobody).status == 404
    for body in ({"email": "not-an-address"}, {"email": CONTACT, "lifetime_seconds": 31 * 86400}):
        assert call(client, "POST", "/customers/cus_acme/portal-links", body=body).status == 422


def test_the_page_escapes_what_customers_are_called(world, client):
    # Given a customer whose name is markup
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    customer = create_customer(client, legal_name=hostile)

    # When its contact opens the portal
    response = open_page(client, issue(client, customer["id"])["path"])

    # Then the name shows as text, never as markup
    assert response.status_code == 200, response.body
    page = response.body.decode()
    assert "<script" not in page and "<img" not in page
    shown = found(r'<h1 id="customer-name">([^<]*)</h1>', page)
    assert html.unescape(shown) == hostile
