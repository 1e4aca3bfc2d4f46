"""Manual payments: a clerk records a cheque or a wire; GET /payments/{id} shows any payment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.store import credit
from shared.store import ledger as ledger_store
from tests.functional.accounts import call, new_staff
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import snapshot
from tests.functional.payment_intake import event_data, payments, post_stripe, stripe_event
from tests.functional.payment_intake import payment_intent as intent


def cheque(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": "450.00",
        "currency": "EUR",
        "method": "cheque",
        "received_on": "2026-11-20",
        "payer_name": "ACME Retail GmbH",
        "reference": "0001042",
        "remittance": "INV-2026-000017",
        "customer_id": "cus_acme",
    }
    body.update(overrides)
    return body


def unapplied_cash(customer_id: str) -> Decimal:
    figures = credit.get_exposure(customer_id)
    assert figures is not None
    return figures.unapplied_cash


def test_a_recorded_cheque_is_a_payment_of_its_customer(client, world: World):
    # Given
    _, clerk = new_staff(client, "ar_clerk")
    before = unapplied_cash("cus_acme")

    # When
    answer = call(client, "POST", "/payments", key=clerk, body=cheque())

    # Then
    assert answer.status == 201, answer.body
    payment = answer.body
    assert answer.headers["Location"] == f"/payments/{payment['id']}"
    assert payment["source"] == "manual" and payment["method"] == "cheque"
    assert payment["external_id"] == "0001042"
    assert payment["amount"] == {"amount": "450.00", "currency": "EUR"}
    assert payment["received_at"] == "2026-11-20T00:00:00.000Z"
    assert payment["customer_id"] == "cus_acme" and payment["status"] == "unapplied"
    assert payments(world) == [payment]
    assert [event["id"] for event in event_data(world, "PaymentReceived")] == [payment["id"]]
    assert unapplied_cash("cus_acme") == before + Decimal("450.00")
    [entry] = [e for e in ledger_store.entries_for("cus_acme") if e.kind == "payment"]
    assert entry.total == Decimal("450.00")


def test_a_payment_without_a_customer_is_unidentified(client, world: World):
    # When
    body = cheque(method="wire", reference="WIRE-2026-11-20-7")
    del body["customer_id"]
    answer = call(client, "POST", "/payments", body=body)

    # Then
    assert answer.status == 201
    assert answer.body["customer_id"] is None
    assert len(ledger_store.entries_for("UNIDENTIFIED")) == 1


def test_the_same_reference_twice_is_a_duplicate_but_a_replay_is_not(client, world: World):
    # Given
    first = call(client, "POST", "/payments", body=cheque(), idempotency_key="cheque-1042")

    # When
    replay = call(client, "POST", "/payments", body=cheque(), idempotency_key="cheque-1042")
    again = call(client, "POST", "/payments", body=cheque())
    as_wire = call(client, "POST", "/payments", body=cheque(method="wire"))

    # Then
    assert replay.status == 201 and replay.body == first.body
    assert again.status == 409
    assert again.body["type"].endswith("/duplicate-payment")
    assert first.body["id"] in again.body["detail"]
    assert as_wire.status == 201  # wire 0001042 is another payment than cheque 0001042
    assert len(payments(world)) == 2


@pytest.mark.parametrize(
    ("change", "status", "kind"),
    [
        ({"customer_id": "cus_nobody"}, 422, "unknown-customer"),
        ({"customer_id": "cus_globex"}, 422, "currency-mismatch"),
        ({"received_on": "2099-01-01"}, 422, "invalid-payment"),
        ({"amount": "10.001"}, 422, "validation-error"),
        ({"amount": "0"}, 422, "validation-error"),
        ({"amount": 450.0}, 422, "validation-error"),
        ({"method": "cash"}, 422, "validation-error"),
        ({"reference": ""}, 422, "validation-error"),
        ({"currency": "XYZ"}, 422, "validation-error"),
        ({"surprise": True}, 422, "validation-error"),
    ],
)
def test_a_payment_the_rules_refuse_records_nothing(client, world: World, change, status, kind):
    # Given
    before = snapshot(world)

    # When
    answer = call(client, "POST", "/payments", body=cheque(**change))

    # Then
    assert answer.status == status, answer.body
    assert answer.body["type"].endswith("/" + kind)
    assert snapshot(world) == before


@pytest.mark.parametrize("role", ["auditor", "credit_manager"])
def test_only_clerks_and_admins_record_payments(client, world: World, role):
    # Given
    _, key = new_staff(client, role)

    # When
    answers = [
        call(client, "POST", "/payments", key=key, body=cheque()),
        call(client, "POST", "/payments", key=PARTNER_KEY, body=cheque()),
    ]

    # Then
    assert [answer.status for answer in answers] == [403, 403]
    assert payments(world) == []


# --- reading a payment ----------------------------------------------------------------------------


def test_staff_read_any_payment(client, world: World):
    # Given
    created = call(client, "POST", "/payments", body=cheque()).body
    _, auditor = new_staff(client, "auditor")

    # When
    answer = call(client, "GET", f"/payments/{created['id']}", key=auditor)

    # Then
    assert answer.status == 200 and created.items() <= answer.body.items()


def test_partners_read_only_their_customers_payments(client, world: World):
    # Given: the demo partner is bound to cus_acme and cus_globex, not to cus_other
    other = call(
        client,
        "POST",
        "/customers",
        body={
            "legal_name": "Other SA",
            "billing_email": "ap@other.example",
            "currency": "EUR",
            "billing_address": {
                "line1": "1 rue X",
                "city": "Lyon",
                "postal_code": "69001",
                "country": "FR",
            },
        },
    ).body
    own = call(client, "POST", "/payments", body=cheque()).body
    foreign = call(
        client, "POST", "/payments", body=cheque(reference="2", customer_id=other["id"])
    ).body
    unidentified_body = cheque(reference="3")
    del unidentified_body["customer_id"]
    unidentified = call(client, "POST", "/payments", body=unidentified_body).body

    # When
    answers = {
        name: call(client, "GET", f"/payments/{payment['id']}", key=PARTNER_KEY)
        for name, payment in (("own", own), ("foreign", foreign), ("unidentified", unidentified))
    }

    # Then
    assert answers["own"].status == 200
    assert answers["foreign"].status == 404 and answers["unidentified"].status == 404


def test_an_unknown_payment_is_not_found(client, world: World):
    # When
    answer = call(client, "GET", "/payments/pay_01ABCDEFGHJKMNPQRSTVWXYZ00", key=ADMIN_KEY)
    unauthenticated = call(client, "GET", "/payments/pay_x", key=None)

    # Then
    assert answer.status == 404 and unauthenticated.status == 401


def test_a_gateway_payment_reads_as_the_webhook_recorded_it(client, world: World):
    # Given
    post_stripe(client, stripe_event("payment_intent.succeeded", intent()))
    world.pump.drain()
    [payment] = payments(world)

    # When
    answer = call(client, "GET", f"/payments/{payment['id']}", key=PARTNER_KEY)

    # Then
    assert answer.status == 200
    assert answer.body["id"] == payment["id"] and answer.body["source"] == "stripe"
