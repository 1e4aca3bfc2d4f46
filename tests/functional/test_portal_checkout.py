"""Paying open invoices by card from the portal: a Stripe Checkout Session, and its webhook.

Only Stripe's HTTP exchange is stubbed (tests/functional/stripe_http.py): the ``stripe`` library
builds the request for real and reads a recorded shape of Stripe's answer to ``POST
/v1/checkout/sessions`` (stripe_checkout_session_response.json): the Checkout Session object
field for field as Stripe's API reference documents it (every field the installed library's
``Session`` declares that a hosted payment session answers), with placeholder ids, times and
URL; the stub sets its amounts, currency, metadata and URLs from the request.
The webhook leg is real: ``checkout.session.completed`` signed with Stripe's library.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.functional.accounts import call
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem
from tests.functional.invoicing import documents, placed, ship
from tests.functional.payment_intake import payment_intent, payments, post_stripe, stripe_event
from tests.functional.stripe_http import TEST_KEY, RecordedStripe, recorded_stripe
from tests.functional.test_portal import BROWSER, issue

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def stripe_http(world: World, monkeypatch: pytest.MonkeyPatch) -> RecordedStripe:
    """Stripe's API key in SSM where the stack says, and Stripe's HTTP exchange recorded."""
    return recorded_stripe(world.session, monkeypatch)


@pytest.fixture
def invoice(world: World, client: Any) -> dict[str, Any]:
    """ACME's issued invoice, its documents stored by the delivery worker."""
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [issued] = documents(world)
    return issued


def pay_by_card(client: Any, link: dict[str, Any], *invoice_ids: str) -> Any:
    path, query = link["path"].split("?", 1)
    return client.http.post(
        f"{path}/checkout?{query}",
        headers={"Content-Type": FORM, "Accept": BROWSER, "Host": "api.example"},
        body=urlencode([("invoice_id", i) for i in invoice_ids]),
    )


def minor(money: dict[str, str]) -> int:
    return int(Decimal(money["amount"]) * 100)


def session_object(invoice: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The session as ``checkout.session.completed`` carries it, paid."""
    due = minor(invoice["amount_due"])
    session = {
        "id": "cs_test_a1QAcme0001Paid",
        "object": "checkout.session",
        "amount_subtotal": due,
        "amount_total": due,
        "client_reference_id": "cus_acme",
        "created": int(time.time()) - 60,
        "currency": "eur",
        "customer": None,
        "customer_details": {"email": "ap@acme.example", "name": "ACME Retail GmbH"},
        "metadata": {
            "customer_id": "cus_acme",
            "invoice_ids": invoice["id"],
            "invoice_numbers": invoice["number"],
            "payment_references": invoice["payment_reference"],
            "checkout_amount_due": str(due),
        },
        "mode": "payment",
        "payment_intent": "pi_3QAcmeCheckout01",
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "status": "complete",
    }
    return {**session, **changes}


def on_worklist(client: Any, payment_id: str) -> dict[str, Any]:
    """The payment as the worklist (GET /payments, unapplied) shows it, with its decision."""
    listed = call(client, "GET", "/payments?status=unapplied").body["payments"]
    [found] = [p for p in listed if p["id"] == payment_id]
    return dict(found)


def invoice_status(client: Any, invoice_id: str) -> str:
    status: str = call(client, "GET", f"/invoices/{invoice_id}").body["status"]
    return status


# --- the session ----------------------------------------------------------------------------------


def test_pay_by_card_creates_one_checkout_session_and_sends_the_browser_to_it(
    world, client, invoice, stripe_http
):
    # Given ACME's contact on the portal, a Stripe key configured
    link = issue(client)
    page = client.http.get(link["path"], headers={"Accept": BROWSER}).body.decode()
    assert f'data-card="{invoice["id"]}"' in page and "Pay by card" in page
    assert (
        "form-action 'self' https://checkout.stripe.com"
        in client.http.get(link["path"], headers={"Accept": BROWSER}).headers[
            "Content-Security-Policy"
        ]
    )

    # When the contact pays the invoice by card, twice (a double click)
    first = pay_by_card(client, link, invoice["id"])
    second = pay_by_card(client, link, invoice["id"])

    # Then the browser is sent on to Stripe's page of one session
    assert first.status_code == 303, first.body
    [session] = stripe_http.sessions.values()
    assert first.headers["Location"] == session["url"] == second.headers["Location"]
    assert session["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    # asked of Stripe: the amount due in cents, in euros, naming the customer and invoice
    sent = stripe_http.sent[0]
    assert sent.method == "post" and sent.url.endswith("/v1/checkout/sessions")
    assert sent.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert sent.headers["Idempotency-Key"] == stripe_http.sent[1].headers["Idempotency-Key"]
    form = sent.form
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == str(minor(invoice["amount_due"]))
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][product_data][name]"] == f"Invoice {invoice['number']}"
    assert form["client_reference_id"] == "cus_acme"
    assert form["metadata[customer_id]"] == "cus_acme"
    assert form["metadata[invoice_ids]"] == invoice["id"]
    assert form["metadata[invoice_numbers]"] == invoice["number"]
    assert form["metadata[payment_references]"] == invoice["payment_reference"]
    assert form["payment_intent_data[metadata][invoice_ids]"] == invoice["id"]
    # coming back to the portal page, with the contact's link
    for field, state in (("success_url", "paid"), ("cancel_url", "cancelled")):
        url = urlsplit(form[field])
        assert url.path == "/portal/cus_acme"
        query = parse_qs(url.query)
        assert query["checkout"] == [state]
        assert query["token"] == parse_qs(urlsplit(link["path"]).query)["token"]
    back = client.http.get(f"{link['path']}&checkout=paid", headers={"Accept": BROWSER})
    assert "your card payment is being confirmed" in back.body.decode()


def test_without_a_stripe_key_there_is_no_card_button_and_the_post_is_refused(
    world, client, invoice
):
    link = issue(client)
    page = client.http.get(link["path"], headers={"Accept": BROWSER}).body.decode()
    assert "Pay by card" not in page and "data-card=" not in page

    response = pay_by_card(client, link, invoice["id"])

    assert response.status_code == 503
    assert "Card payment unavailable" in response.body.decode()
    # an error page holds no form: it may post nowhere
    assert response.headers["Content-Security-Policy"].endswith("form-action 'none'")


def test_card_payment_refuses_what_is_not_the_link_holders_to_pay(
    world, client, invoice, stripe_http
):
    link = issue(client)
    path = link["path"].split("?", 1)[0]
    json_headers = {"Content-Type": FORM, "Accept": "application/json"}
    # no token, a forged one: refused before anything
    answer = client.http.post(
        f"{path}/checkout", headers=json_headers, body=f"invoice_id={invoice['id']}"
    )
    assert_problem(answer, 401, "link-required")
    answer = client.http.post(
        f"{path}/checkout?token=1.2.x.y", headers=json_headers, body=f"invoice_id={invoice['id']}"
    )
    assert_problem(answer, 403, "invalid-link")
    # nothing chosen, an unknown invoice, another customer's link: no session
    assert pay_by_card(client, link).status_code == 400
    assert pay_by_card(client, link, "inv_doesnotexist").status_code == 404
    other = issue(client, "cus_globex")
    assert pay_by_card(client, other, invoice["id"]).status_code == 404
    assert stripe_http.sent == []


def test_the_selected_invoices_are_paid_in_one_session_of_one_line_each(world, client, stripe_http):
    # Given two invoices of ACME (two shipments of one order)
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 1)])
    ship(client, world, order["id"], [(1, 2), (2, 1)])
    first, second = sorted(documents(world), key=lambda i: i["number"])
    link = issue(client)

    # When the contact selects both (and names one twice)
    answer = pay_by_card(client, link, first["id"], second["id"], first["id"])

    # Then one session, a line per invoice, naming both
    assert answer.status_code == 303, answer.body
    [sent] = stripe_http.sent
    form = sent.form
    for n, invoice in enumerate((first, second)):
        due = str(minor(invoice["amount_due"]))
        assert form[f"line_items[{n}][price_data][unit_amount]"] == due
    assert "line_items[2][quantity]" not in form
    assert form["metadata[invoice_ids]"] == f"{first['id']},{second['id']}"
    assert form["metadata[invoice_numbers]"] == f"{first['number']} {second['number']}"
    total = minor(first["amount_due"]) + minor(second["amount_due"])
    assert form["metadata[checkout_amount_due]"] == str(total)
    [session] = stripe_http.sessions.values()
    assert session["amount_total"] == total

    # And Stripe's report of the paid session pays both
    paid = session_object(first, amount_total=total, metadata=session["metadata"])
    assert post_stripe(client, stripe_event("checkout.session.completed", paid)).status_code == 200
    world.pump.drain()
    [payment] = payments(world)
    assert sorted(a["invoice_id"] for a in payment["allocations"]) == sorted(
        [first["id"], second["id"]]
    )
    assert {invoice_status(client, i["id"]) for i in (first, second)} == {"paid"}


def test_a_hostile_selection_is_refused_clearly(world, client, invoice, stripe_http):
    link = issue(client)
    path, query = link["path"].split("?", 1)
    headers = {"Content-Type": FORM, "Accept": "application/json"}
    for body in ("invoice_id=" + "x" * 65, "&".join(["invoice_id=a"] * 40), b"\xff\xfe"):
        answer = client.http.post(f"{path}/checkout?{query}", headers=headers, body=body)
        assert_problem(answer, 400, "invalid-selection")
    answer = client.http.post(
        f"{path}/checkout?{query}",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"invoice_id": invoice["id"]}),
    )
    assert answer.status_code == 415
    assert stripe_http.sent == []


# --- the webhook ----------------------------------------------------------------------------------


def test_a_completed_checkout_pays_its_invoice_once_whatever_stripe_delivers_again(
    world, client, invoice
):
    # Given the session the contact paid
    body = stripe_event("checkout.session.completed", session_object(invoice), event_id="evt_Ck1")

    # When Stripe delivers it, again, and the payment intent's own event too
    assert post_stripe(client, body).status_code == 200
    world.pump.drain()
    again = post_stripe(client, body)
    world.pump.drain()
    intent = payment_intent(
        "pi_3QAcmeCheckout01",
        amount=minor(invoice["amount_due"]),
        metadata=session_object(invoice)["metadata"],
    )
    assert post_stripe(client, stripe_event("payment_intent.succeeded", intent)).status_code == 200
    world.pump.drain()

    # Then one card payment of the customer, applied to the invoice, which is paid
    assert json.loads(again.body) == {"received": True, "duplicate": True}
    [payment] = payments(world)
    assert payment["external_id"] == "pi_3QAcmeCheckout01" and payment["method"] == "card"
    assert payment["customer_id"] == "cus_acme"
    assert payment["amount"] == invoice["amount_due"]
    assert payment["metadata"]["stripe_checkout_session"] == "cs_test_a1QAcme0001Paid"
    assert payment["status"] == "applied", payment
    assert [a["invoice_id"] for a in payment["allocations"]] == [invoice["id"]]
    assert invoice_status(client, invoice["id"]) == "paid"


def test_a_checkout_for_an_invoice_not_open_stays_unapplied_for_a_clerk(world, client, invoice):
    session = session_object(invoice)
    session["metadata"] |= {"invoice_numbers": "INV-2026-999999", "invoice_ids": "inv_unknown"}
    session["metadata"].pop("payment_references")
    session["amount_total"] = 1234

    post_stripe(client, stripe_event("checkout.session.completed", session))
    world.pump.drain()

    [payment] = payments(world)
    assert payment["status"] == "unapplied" and payment["customer_id"] == "cus_acme"
    assert invoice_status(client, invoice["id"]) == "open"
    decision = on_worklist(client, payment["id"])["matching"]
    assert decision is not None and not decision["auto"], decision


def test_a_checkout_paying_another_amount_than_asked_is_not_applied_blindly(world, client, invoice):
    due = minor(invoice["amount_due"])
    session = session_object(invoice, amount_total=due - 100, amount_subtotal=due - 100)

    post_stripe(client, stripe_event("checkout.session.completed", session))
    world.pump.drain()

    [payment] = payments(world)
    assert payment["status"] == "unapplied", payment
    assert "checkout_mismatch" in payment["metadata"]
    assert invoice_status(client, invoice["id"]) == "open"
    assert on_worklist(client, payment["id"])["metadata"]["invoice_ids"] == invoice["id"]


def test_an_unpaid_checkout_records_nothing(world, client, invoice):
    session = session_object(invoice, payment_status="unpaid")

    answer = post_stripe(client, stripe_event("checkout.session.completed", session))
    world.pump.drain()

    assert json.loads(answer.body) == {"received": True, "ignored": True}
    assert payments(world) == []
