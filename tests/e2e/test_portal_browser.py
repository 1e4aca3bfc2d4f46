"""A customer walks through the portal in a real browser: Playwright driving Debian's chromium.

Everything is seeded through the API of the local stack (a customer, two orders shipped and so
invoiced), the invoice e-mail carries the customer's portal link, and chromium does what the
customer would: open the link, see the invoices, download a PDF, dispute one line of an
invoice, request a statement (answered at once), pay the other invoice by card, and, once staff
have resolved the dispute with a credit note, answer the satisfaction survey the closing e-mail
links to.

Card payment: the stack's ``stripe`` library talks to a stub of Stripe's API on 127.0.0.1
(tests/e2e/stripe_stub.py, the functional tests' recorded Checkout Session); chromium is sent on
to the session's URL on Stripe's host, which the test answers with a placeholder page (the
machine has no internet); Stripe's signed ``checkout.session.completed`` webhook then pays the
invoice, as on AWS.

axe-core (bundled by axe-playwright-python) runs in every page visited; a serious or critical
violation fails the test. ``PORTAL_SCREENSHOT=docs/portal.png`` keeps the overview's screenshot
there (the one docs/portal.md shows). Without chromium the test is skipped on a developer's
machine but fails in CI (``CI`` set; .ci/run installs chromium from Debian's packages).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe

from infra.local.stack import DEMO_WEBHOOK_SECRETS, STACK_NAME
from tests.e2e.conftest import ADMIN_KEY, ROOT, LocalStack, moto_client
from tests.e2e.invoiced import TIMEOUT_SECONDS, get, shipped_and_invoiced, wait_for
from tests.e2e.stripe_stub import StripeStub
from tests.e2e.test_dashboard_browser import chromium, send
from tests.functional.payment_intake import stripe_event
from tests.functional.stripe_http import TEST_KEY

pytestmark = pytest.mark.e2e

CONTACT = "ap@portal-browser.example"
BLOCKING_IMPACTS = ("serious", "critical")
STRIPE_PAGE = "<!DOCTYPE html><html lang='en'><title>Checkout</title><main>Stripe</main></html>"


def admin(stack: LocalStack, method: str, path: str, body: dict[str, Any]) -> Any:
    answer = send(stack, method, path, json.dumps(body).encode(), "application/json")
    assert answer.status in (200, 201), answer.body
    return answer.json()


def seed_customer(stack: LocalStack) -> str:
    """A customer of its own (so the pages show only this test's data), with credit to buy."""
    created = admin(
        stack,
        "POST",
        "/customers",
        {
            "legal_name": "Portal Browser GmbH",
            "billing_email": CONTACT,
            "currency": "EUR",
            "credit_limit": "10000.00",
            "billing_address": {
                "line1": "Hauptstrasse 5",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
        },
    )
    return str(created["id"])


def portal_link_for(stack: LocalStack) -> str:
    """The customer's portal link, as the invoice e-mail in moto's SES outbox carries it."""
    return emailed_link(stack, CONTACT, "/portal/")


def emailed_link(stack: LocalStack, recipient: str, path_part: str) -> str:
    """The newest link containing ``path_part`` in an e-mail SES sent to ``recipient``."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = [
            url
            for text in _emails_to(stack, recipient)
            for url in re.findall(r"https?://[^\s<>\"']+", text)
            if path_part in url
        ]
        if found:
            return found[-1].replace("&amp;", "&")
        time.sleep(0.5)
    pytest.fail(f"no e-mail to {recipient} holds a link to {path_part}")


def _emails_to(stack: LocalStack, recipient: str) -> list[str]:
    """The text of every e-mail moto's SES sent to ``recipient``, oldest first."""
    with moto_request(stack, "/moto-api/data.json") as answer:
        models = json.load(answer).get("ses", {})
    return [
        _text(message)
        for kind in ("Message", "RawMessage")
        for message in models.get(kind, [])
        if recipient in json.dumps(message.get("destinations"))
    ]


def _text(message: dict[str, Any]) -> str:
    """A simple message's body, or the text parts of a MIME one (with attachments) decoded."""
    if not message.get("raw_data"):
        return str(message.get("body") or "")
    parsed = email.message_from_string(message["raw_data"], policy=email.policy.default)
    return "\n".join(
        str(part.get_content())
        for part in parsed.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    )


def moto_request(stack: LocalStack, path: str) -> Any:
    return urllib.request.urlopen(str(stack.ready["moto_url"]) + path, timeout=60)


def offer_card_payment(stack: LocalStack) -> None:
    """Stripe's API key where the stack reads it: the portal then offers card payment."""
    outputs = moto_client(stack, "cloudformation").describe_stacks(StackName=STACK_NAME)
    prefix = {o["OutputKey"]: o["OutputValue"] for o in outputs["Stacks"][0]["Outputs"]}[
        "WebhookSecretsPrefix"
    ]
    moto_client(stack, "ssm").put_parameter(
        Name=f"{prefix}/stripe-api-key", Value=TEST_KEY, Type="SecureString", Overwrite=True
    )


def documents_ready(stack: LocalStack, invoice_id: str) -> None:
    """Wait for the delivery worker to store the invoice's PDF (409 until then)."""
    wait_for(
        stack,
        f"/invoices/{invoice_id}/document?format=pdf",
        lambda a: a.status == 200,
        ADMIN_KEY,
    )


def accessible(page: Any, name: str) -> None:
    """axe-core in the page: no serious or critical violation (each named with its nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    blocking = [
        (v["id"], v["impact"], v["help"], [node["target"] for node in v["nodes"]])
        for v in violations
        if v.get("impact") in BLOCKING_IMPACTS
    ]
    assert blocking == [], f"{name}: {json.dumps(blocking, indent=1)}"


def complete_checkout(stack: LocalStack, stub: StripeStub, invoice_id: str) -> dict[str, Any]:
    """Stripe's signed ``checkout.session.completed`` for the session made for ``invoice_id``;
    the session as Stripe made it."""
    [session] = [
        s for s in stub.recorded.sessions.values() if s["metadata"].get("invoice_ids") == invoice_id
    ]
    paid = {
        **session,
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": f"pi_portal_{uuid.uuid4().hex[:16]}",
    }
    body = stripe_event("checkout.session.completed", paid)
    signature = stripe.WebhookSignature.generate_signature_header(
        body.decode(), DEMO_WEBHOOK_SECRETS["stripe"]
    )
    answer = stack.request(
        "POST",
        "/webhooks/stripe",
        body=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    assert answer.status == 200, answer.body
    return dict(session)


def the_case(stack: LocalStack, customer_id: str, kind: str) -> dict[str, Any]:
    listed = get(stack, f"/cases?customer_id={customer_id}", ADMIN_KEY)  # all, newest first
    assert listed.status == 200, listed.body
    [case] = [c for c in listed.json()["cases"] if c["kind"] == kind]
    return dict(case)


def test_a_customer_walks_through_the_portal_in_chromium(
    local_stack: LocalStack, stripe_api: StripeStub, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    # Given a customer with two invoices (seeded through the API), card payment offered, and
    # the portal link the invoice e-mail to the customer's contact carries
    customer_id = seed_customer(local_stack)
    _, disputed = shipped_and_invoiced(
        local_stack, "PO-PORTAL-1", key=ADMIN_KEY, customer_id=customer_id
    )
    _, card_paid = shipped_and_invoiced(
        local_stack, "PO-PORTAL-2", key=ADMIN_KEY, customer_id=customer_id
    )
    documents_ready(local_stack, disputed["id"])
    offer_card_payment(local_stack)
    url = portal_link_for(local_stack)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-dev-shm-usage"],  # CI runs as root
        )
        try:
            page = browser.new_context(accept_downloads=True).new_page()
            page.route("https://checkout.stripe.com/**", lambda r: r.fulfill(body=STRIPE_PAGE))

            # When the customer opens the link: both invoices are there, each with what is due
            page.goto(url)
            accessible(page, "overview")
            for invoice in (disputed, card_paid):
                row = page.locator(f'tr[data-invoice="{invoice["id"]}"]')
                assert row.locator('[data-field="number"]').inner_text() == invoice["number"]
                due = Decimal(invoice["amount_due"]["amount"])
                shown = row.locator('[data-field="amount_due"]').inner_text()
                assert shown == f"{due:,} EUR"

            # ...opens one, and downloads its PDF
            page.locator(f'tr[data-invoice="{disputed["id"]}"] a[data-field="number"]').click()
            page.wait_for_selector("#dispute")
            accessible(page, "invoice page with its dispute form")
            with page.expect_download() as downloading:
                page.locator('a[data-download="pdf"]').click()
            pdf = Path(downloading.value.path())
            assert pdf.read_bytes()[:5] == b"%PDF-"

            # ...disputes one line of it (all of line 1), which lands on the account page
            gross = page.locator('tr[data-line-no="1"] [data-field="gross"]').inner_text()
            page.select_option("#dispute-line", "1")
            page.fill("#dispute-amount", gross.split()[0])
            page.select_option("#dispute-reason", "damaged")
            page.fill("#dispute-subject", "Crushed box")
            page.fill("#dispute-message", "One box of line 1 arrived crushed.")
            page.get_by_role("button", name="Send the dispute").click()
            page.wait_for_url(re.compile(r"/portal/[^/?]+\?"))
            assert "Crushed box (open)" in page.locator("#cases").inner_text()

            # ...requests a statement, answered at once: the case is closed, the PDF e-mailed
            page.select_option("#case-kind", "request")
            page.select_option("#case-request", "statement")
            page.fill("#case-subject", "Statement please")
            page.fill("#case-message", "For our year-end audit.")
            page.get_by_role("button", name="Send", exact=True).click()
            page.wait_for_selector("text=Statement please (closed)")
            accessible(page, "overview with the cases")
            statement = the_case(local_stack, customer_id, "request")
            assert statement["status"] == "closed", statement
            answer = f"As requested in {statement['number']}, attached"
            assert any(answer in text for text in _emails_to(local_stack, CONTACT))

            # ...and pays the other invoice by card: Stripe's page, then Stripe's webhook
            page.locator(f'form[data-card="{card_paid["id"]}"] button').click()
            page.wait_for_url("https://checkout.stripe.com/**")
            session = complete_checkout(local_stack, stripe_api, card_paid["id"])
            settled = wait_for(
                local_stack,
                f"/invoices/{card_paid['id']}",
                lambda a: a.status == 200 and a.json()["status"] == "paid",
                ADMIN_KEY,
            )
            assert Decimal(settled["amount_due"]["amount"]) == 0
            page.goto(session["success_url"])
            assert "your card payment is being confirmed" in page.inner_text("main")
            assert page.locator(f'tr[data-invoice="{card_paid["id"]}"]').count() == 0

            # When staff resolve the dispute with a credit note for the disputed line
            dispute = the_case(local_stack, customer_id, "dispute")
            resolved = send(
                local_stack,
                "POST",
                f"/cases/{dispute['case_id']}/resolution",
                json.dumps(
                    {"outcome": "credit_note", "note": "Credited", "version": dispute["version"]}
                ).encode(),
                "application/json",
            )
            assert resolved.status == 200, resolved.body

            # Then the closing e-mail's survey link opens a form the customer answers, once
            survey = emailed_link(local_stack, CONTACT, f"/cases/{dispute['case_id']}/survey")
            page.goto(survey)
            accessible(page, "survey")
            page.get_by_label("5", exact=True).check()
            page.fill("#survey-comment", "Quick and fair.")
            with page.expect_response(lambda r: r.request.method == "POST") as answered:
                page.get_by_role("button", name="Send my answer").click()
            assert answered.value.status == 201
            assert page.locator('[data-field="score"]').inner_text() == "5"
            accessible(page, "survey answered")
            page.goto(survey)
            page.get_by_label("4", exact=True).check()
            with page.expect_response(lambda r: r.request.method == "POST") as again:
                page.get_by_role("button", name="Send my answer").click()
            assert again.value.status == 409
            assert "answered already" in page.inner_text("body")

            # ...and the account shows the credit note and the dispute closed
            page.goto(url)
            assert "Crushed box (closed)" in page.locator("#cases").inner_text()
            assert "(credit note)" in page.locator("#invoices").inner_text()
            accessible(page, "overview at the end")
            shot = tmp_path / "portal.png"
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if keep := os.environ.get("PORTAL_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / keep)
