"""Customer accounts over the API: who may create, read and change them, and their credit item."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import app as app_module
from shared.store import credit, table
from shared.store.table import TransactionConflictError
from tests.functional.accounts import (
    PROBLEM,
    call,
    create_customer,
    customer_body,
    events,
    item,
    new_staff,
    written,
)
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY


def _credit(world, customer_id: str) -> dict:
    found = item(world, f"CUSTOMER#{customer_id}", "CREDIT")
    assert found is not None
    return found


def _assert_problem(answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.body["type"].endswith("/" + kind)
    assert answer.body["status"] == status and answer.body["detail"]


# --- creating ------------------------------------------------------------------------------


def test_staff_opens_an_account_with_its_credit_item_and_event(world, client):
    # Given an admin
    # When it opens an account with a limit and 2/10 net 30
    terms = {"kind": "net", "net_days": 30, "discount_percent": "2", "discount_days": 10}
    answer = call(
        client,
        "POST",
        "/customers",
        body=customer_body(credit_limit="50000.00", payment_terms=terms, tax_id="FR40303265045"),
    )
    # Then it is active at version 1, where Location says
    assert answer.status == 201
    customer = answer.body
    assert answer.headers["Location"] == f"/customers/{customer['id']}"
    assert customer["status"] == "active" and customer["version"] == 1
    assert customer["credit_limit"] == "50000.00" and customer["payment_terms"] == terms
    assert customer["billing_address"]["country"] == "FR"
    # and the account, its credit item and its CustomerCreated event were written together
    stored = item(world, f"CUSTOMER#{customer['id']}", "CUSTOMER")
    assert stored is not None and stored["gsi2pk"] == "CUSTOMERS"
    credit_item = _credit(world, customer["id"])
    assert credit_item["headroom"] == credit_item["credit_limit"] == Decimal("50000.00")
    assert credit_item["open_receivables"] == credit_item["uninvoiced_orders"] == 0
    [created] = events(world, "CustomerCreated")
    assert created["source"] == "otc.accounts" and created["aggregate_id"] == customer["id"]
    data = json.loads(created["detail"])["data"]
    assert data["actor"] == "stf_admin" and data["credit_limit"] == "50000.00"
    # and staff read it back, credit figures included
    got = call(client, "GET", f"/customers/{customer['id']}")
    assert got.status == 200
    assert got.body["credit"] == {
        "currency": "EUR",
        "credit_limit": "50000.00",
        "open_receivables": "0.00",
        "uninvoiced_orders": "0.00",
        "unapplied_cash": "0.00",
        "exposure": "0.00",
        "headroom": "50000.00",
    }
    assert {k: v for k, v in got.body.items() if k != "credit"} == customer


def test_an_ar_clerk_opens_accounts_but_only_a_credit_decision_sets_a_limit(world, client):
    # Given an AR clerk
    _, clerk = new_staff(client, "ar_clerk")
    before = written(world)
    # When it opens an account with a limit above zero
    refused = call(client, "POST", "/customers", key=clerk, body=customer_body(credit_limit="10"))
    # Then that is a credit decision it may not take, and nothing is written
    _assert_problem(refused, 403, "forbidden")
    assert written(world) == before
    # but it may open one with no limit
    opened = call(client, "POST", "/customers", key=clerk, body=customer_body())
    assert opened.status == 201 and opened.body["credit_limit"] == "0.00"


def test_an_auditor_cannot_write_and_nothing_is_written(world, client):
    # Given an auditor and an account
    _, auditor = new_staff(client, "auditor")
    customer = create_customer(client)
    before = written(world)
    # When it tries to open or change accounts
    created = call(client, "POST", "/customers", key=auditor, body=customer_body())
    changed = call(
        client,
        "PATCH",
        f"/customers/{customer['id']}",
        key=auditor,
        body={"version": 1, "legal_name": "Hacked"},
    )
    bad_body = call(client, "PATCH", f"/customers/{customer['id']}", key=auditor, body=b"{")
    # Then every attempt is a 403 problem and the table is unchanged
    for answer in (created, changed, bad_body):
        _assert_problem(answer, 403, "forbidden")
    assert written(world) == before
    # while reading is allowed
    assert call(client, "GET", f"/customers/{customer['id']}", key=auditor).status == 200


def test_partners_may_not_open_accounts(world, client):
    answer = call(client, "POST", "/customers", key=PARTNER_KEY, body=customer_body())
    _assert_problem(answer, 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "status", "kind", "pointers"),
    [
        (b"{nope", 400, "malformed-json", None),
        ("[]", 422, "validation-error", {"#"}),
        (customer_body(currency="XYZ"), 422, "validation-error", {"#/currency"}),
        (customer_body(credit_limit="-5"), 422, "validation-error", {"#/credit_limit"}),
        (customer_body(credit_limit=5), 422, "validation-error", {"#/credit_limit"}),
        (customer_body(credit_limit="1.234"), 422, "validation-error", {"#/credit_limit"}),
        (customer_body(billing_email="nope"), 422, "validation-error", {"#/billing_email"}),
        (
            customer_body(billing_address={"line1": "x", "city": "y", "postal_code": "1"}),
            422,
            "validation-error",
            {"#/billing_address/country"},
        ),
        (
            customer_body(
                billing_address={"line1": "x", "city": "y", "postal_code": "1", "country": "ZZ"}
            ),
            422,
            "validation-error",
            {"#/billing_address/country"},
        ),
        (
            customer_body(payment_terms={"kind": "net", "net_days": 400}),
            422,
            "validation-error",
            {"#/payment_terms/net_days"},
        ),
        (
            customer_body(payment_terms={"kind": "net", "net_days": 30, "discount_percent": "2"}),
            422,
            "validation-error",
            {"#/payment_terms"},
        ),
        (customer_body(status="closed"), 422, "validation-error", {"#/status"}),
        (customer_body(id="cus_mine"), 422, "validation-error", {"#/id"}),
    ],
    ids=[
        "malformed",
        "array",
        "unknown-currency",
        "negative-limit",
        "limit-as-number",
        "limit-finer-than-cents",
        "bad-email",
        "no-country",
        "unknown-country",
        "net-days-too-long",
        "half-a-discount",
        "status-on-create",
        "client-id",
    ],
)
def test_bad_account_requests_answer_problems_with_pointers_and_write_nothing(
    world, client, body, status, kind, pointers
):
    # Given the table as seeded
    before = written(world)
    # When an admin posts a bad body
    answer = call(client, "POST", "/customers", body=body)
    # Then a problem names the failing fields, and nothing was written
    _assert_problem(answer, status, kind)
    if pointers is not None:
        assert {error["pointer"] for error in answer.body["errors"]} == pointers
    assert written(world) == before


def test_the_same_idempotency_key_replays_the_account_it_opened(world, client):
    # Given an account opened with an Idempotency-Key
    first = call(client, "POST", "/customers", body=customer_body(), idempotency_key="acc-1")
    # When the request is retried, then retried with another body
    again = call(client, "POST", "/customers", body=customer_body(), idempotency_key="acc-1")
    other = call(
        client,
        "POST",
        "/customers",
        body=customer_body(legal_name="Other"),
        idempotency_key="acc-1",
    )
    # Then the retry answers the first account, the other body is refused, one account exists
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    _assert_problem(other, 422, "idempotency-key-reused")
    assert len(events(world, "CustomerCreated")) == 1
    listed = call(client, "GET", "/customers?limit=100").body["customers"]
    assert [c["legal_name"] for c in listed].count("Initech SARL") == 1


def test_a_post_without_idempotency_key_is_refused(world, client):
    response = client.http.post(
        "/customers",
        headers={"Content-Type": "application/json", "X-Api-Key": ADMIN_KEY},
        body=json.dumps(customer_body()),
    )
    assert response.status_code == 400
    assert json.loads(response.body)["type"].endswith("/idempotency-key-required")


# --- reading and listing -------------------------------------------------------------------


def test_a_partner_reads_only_its_bound_customers(world, client):
    # Given a partner bound to cus_acme and cus_globex, and an account it is not bound to
    other = create_customer(client)
    # When it reads its customers, the other one, and a missing one
    acme = call(client, "GET", "/customers/cus_acme", key=PARTNER_KEY)
    unbound = call(client, "GET", f"/customers/{other['id']}", key=PARTNER_KEY)
    missing = call(client, "GET", "/customers/cus_missing", key=PARTNER_KEY)
    # Then it sees its own (without the credit figures), and the other is just "not found"
    assert acme.status == 200 and acme.body["id"] == "cus_acme"
    assert "credit" not in acme.body
    _assert_problem(unbound, 404, "not-found")
    assert unbound.body["type"] == missing.body["type"]
    # and its listing holds its customers only
    listed = call(client, "GET", "/customers", key=PARTNER_KEY)
    assert listed.status == 200
    assert [c["id"] for c in listed.body["customers"]] == ["cus_acme", "cus_globex"]
    assert listed.body["next_cursor"] is None


def test_listings_page_by_legal_name_with_a_cursor(world, client):
    # Given two more accounts (four in all, with the seeded ones)
    create_customer(client, legal_name="zeta Industries")
    create_customer(client, legal_name="Beta Corp")
    # When staff page through the listing three at a time
    first = call(client, "GET", "/customers?limit=3")
    second = call(client, "GET", f"/customers?limit=3&cursor={first.body['next_cursor']}")
    # Then the accounts come in legal-name order (case-insensitive), each once
    names = [c["legal_name"] for c in first.body["customers"] + second.body["customers"]]
    assert names == ["ACME Retail GmbH", "Beta Corp", "Globex Ltd", "zeta Industries"]
    assert second.body["next_cursor"] is None
    # and a partner pages its own customers the same way
    mine = call(client, "GET", "/customers?limit=1", key=PARTNER_KEY)
    rest = call(client, "GET", f"/customers?cursor={mine.body['next_cursor']}", key=PARTNER_KEY)
    assert [c["id"] for c in mine.body["customers"] + rest.body["customers"]] == [
        "cus_acme",
        "cus_globex",
    ]
    assert rest.body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJwayI6ICJPUkRFUiN4In0=", "cursor"),  # well-formed, of no listing of ours
        ("sort=name", "sort"),
    ],
)
@pytest.mark.parametrize("key", [ADMIN_KEY, PARTNER_KEY], ids=["staff", "partner"])
def test_bad_listing_parameters_answer_400_naming_them(world, client, query, parameter, key):
    answer = call(client, "GET", f"/customers?{query}", key=key)
    _assert_problem(answer, 400, "invalid-query")
    assert f"#/query/{parameter}" in {error["pointer"] for error in answer.body["errors"]}


# --- changing ------------------------------------------------------------------------------


def test_an_ar_clerk_maintains_the_account_but_not_its_limit(world, client):
    # Given an account at version 1 and an AR clerk
    customer = create_customer(client)
    _, clerk = new_staff(client, "ar_clerk")
    path = f"/customers/{customer['id']}"
    # When the clerk changes the contact and terms
    changed = call(
        client,
        "PATCH",
        path,
        key=clerk,
        body={
            "version": 1,
            "contact_email": "ops@initech.example",
            "payment_terms": {"kind": "due_on_receipt"},
        },
    )
    # Then the account is at version 2 with a CustomerUpdated event holding before and after
    assert changed.status == 200, changed.body
    assert changed.body["version"] == 2
    assert changed.body["contact_email"] == "ops@initech.example"
    [updated] = events(world, "CustomerUpdated")
    data = json.loads(updated["detail"])["data"]
    assert data["changes"]["contact_email"] == {"before": None, "after": "ops@initech.example"}
    assert data["changes"]["payment_terms"]["before"]["net_days"] == 45
    # and when the clerk tries to raise the limit or put the account on hold
    before = written(world)
    for body in ({"version": 2, "credit_limit": "1000"}, {"version": 2, "status": "credit_hold"}):
        refused = call(client, "PATCH", path, key=clerk, body=body)
        # Then that is refused and nothing changes
        _assert_problem(refused, 403, "forbidden")
    assert written(world) == before


def test_a_credit_manager_sets_the_limit_and_the_headroom_follows(world, client):
    # Given an account with a limit of 1000.00 and 300.00 of confirmed, uninvoiced orders
    customer = create_customer(client, credit_limit="1000.00")
    table.transact([credit.add_uninvoiced(customer["id"], Decimal("300.00"), enforce_limit=True)])
    _, manager = new_staff(client, "credit_manager")
    path = f"/customers/{customer['id']}"
    # When the credit manager raises the limit to 5000
    raised = call(client, "PATCH", path, key=manager, body={"version": 1, "credit_limit": "5000"})
    # Then the account and its credit item move together: headroom = 5000 - 300
    assert raised.status == 200 and raised.body["credit_limit"] == "5000.00"
    credit_item = _credit(world, customer["id"])
    assert credit_item["credit_limit"] == Decimal("5000")
    assert credit_item["headroom"] == Decimal("4700.00")
    # and lowering it below the exposure leaves a negative headroom that blocks new orders
    lowered = call(client, "PATCH", path, key=manager, body={"version": 2, "credit_limit": "200"})
    assert lowered.status == 200
    assert _credit(world, customer["id"])["headroom"] == Decimal("-100.00")
    with pytest.raises(TransactionConflictError):
        table.transact([credit.add_uninvoiced(customer["id"], Decimal("1"), enforce_limit=True)])
    # while staff see the figures on the account
    figures = call(client, "GET", path, key=manager).body["credit"]
    assert figures["exposure"] == "300.00" and figures["headroom"] == "-100.00"
    # and the credit manager may not do the clerk's work
    renamed = call(client, "PATCH", path, key=manager, body={"version": 3, "legal_name": "X"})
    _assert_problem(renamed, 403, "forbidden")


def test_a_stale_version_answers_409_and_writes_nothing(world, client):
    # Given an account changed once (now at version 2)
    customer = create_customer(client)
    path = f"/customers/{customer['id']}"
    assert (
        call(client, "PATCH", path, body={"version": 1, "legal_name": "Initech SA"}).status == 200
    )
    before = written(world)
    # When someone patches what they read at version 1
    stale = call(client, "PATCH", path, body={"version": 1, "legal_name": "Initech Ltd"})
    # Then it is a conflict, and nothing changed
    _assert_problem(stale, 409, "version-mismatch")
    assert written(world) == before
    assert call(client, "GET", path).body["legal_name"] == "Initech SA"


def test_a_patch_that_changes_nothing_writes_nothing(world, client):
    customer = create_customer(client)
    before = written(world)
    same = call(
        client,
        "PATCH",
        f"/customers/{customer['id']}",
        body={"version": 1, "legal_name": customer["legal_name"]},
    )
    assert same.status == 200 and same.body["version"] == 1
    assert written(world) == before


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"legal_name": "no version"}, {"#/version"}),
        ({"version": "1", "legal_name": "X"}, {"#/version"}),
        ({"version": 1, "legal_name": None}, {"#/legal_name"}),
        ({"version": 1, "currency": "GBP"}, {"#/currency"}),
        ({"version": 1, "status": "frozen"}, {"#/status"}),
        ({"version": 1, "credit_limit": "12.345"}, {"#/credit_limit"}),
        ({"version": 1, "billing_address": {"line1": "x"}}, None),
    ],
    ids=["no-version", "version-as-string", "null", "currency", "status", "limit-cents", "address"],
)
def test_bad_patches_answer_422_with_pointers_and_write_nothing(world, client, body, pointers):
    customer = create_customer(client)
    before = written(world)
    answer = call(client, "PATCH", f"/customers/{customer['id']}", body=body)
    _assert_problem(answer, 422, "validation-error")
    if pointers is not None:
        assert {error["pointer"] for error in answer.body["errors"]} == pointers
    assert written(world) == before


def test_patching_a_missing_customer_answers_404(world, client):
    answer = call(client, "PATCH", "/customers/cus_missing", body={"version": 1, "tax_id": None})
    _assert_problem(answer, 404, "not-found")


def test_a_closed_account_is_read_only_until_an_admin_reopens_it(world, client):
    # Given an account a credit manager closed
    customer = create_customer(client)
    path = f"/customers/{customer['id']}"
    _, manager = new_staff(client, "credit_manager")
    _, clerk = new_staff(client, "ar_clerk")
    closed = call(client, "PATCH", path, key=manager, body={"version": 1, "status": "closed"})
    assert closed.status == 200 and closed.body["status"] == "closed"
    # When the clerk edits it, and the credit manager reopens it
    edited = call(client, "PATCH", path, key=clerk, body={"version": 2, "legal_name": "New"})
    reopened = call(client, "PATCH", path, key=manager, body={"version": 2, "status": "active"})
    # Then the edit conflicts with the closed state and only an admin may reopen
    _assert_problem(edited, 409, "customer-closed")
    _assert_problem(reopened, 403, "forbidden")
    by_admin = call(client, "PATCH", path, body={"version": 2, "status": "active"})
    assert by_admin.status == 200 and by_admin.body["status"] == "active"


# --- the credit item -----------------------------------------------------------------------


def test_every_credit_write_keeps_the_headroom_identity(world, client):
    # Given an account with a limit of 1000.00
    customer_id = create_customer(client, credit_limit="1000.00")["id"]

    def figures() -> credit.CreditExposure:
        exposure = credit.get_exposure(customer_id)
        assert exposure is not None
        assert exposure.headroom == exposure.credit_limit - exposure.exposure
        return exposure

    # When orders take exposure, one beyond the headroom is refused, an approved one is not
    table.transact([credit.add_uninvoiced(customer_id, Decimal("600"), enforce_limit=True)])
    with pytest.raises(TransactionConflictError):
        table.transact([credit.add_uninvoiced(customer_id, Decimal("400.01"), enforce_limit=True)])
    table.transact([credit.add_uninvoiced(customer_id, Decimal("400.00"), enforce_limit=True)])
    assert figures().headroom == 0
    table.transact([credit.add_uninvoiced(customer_id, Decimal("50"), enforce_limit=False)])
    assert figures().headroom == Decimal("-50")
    # and exposure is released (never more than is held), and receivables are migrated in
    table.transact([credit.release_uninvoiced(customer_id, Decimal("1050"))])
    with pytest.raises(TransactionConflictError):
        table.transact([credit.release_uninvoiced(customer_id, Decimal("0.01"))])
    table.transact([credit.add_open_receivables(customer_id, Decimal("250.50"))])
    # Then the identity holds throughout
    final = figures()
    assert (final.uninvoiced_orders, final.open_receivables) == (0, Decimal("250.50"))
    assert final.headroom == Decimal("749.50")
    # and a customer without a credit item cannot take exposure
    with pytest.raises(TransactionConflictError):
        table.transact([credit.add_uninvoiced("cus_missing", Decimal("1"), enforce_limit=False)])
    with pytest.raises(ValueError, match="negative"):
        credit.add_uninvoiced(customer_id, Decimal("-1"), enforce_limit=True)


def test_the_seeded_accounts_are_full_accounts(world, client):
    acme = call(client, "GET", "/customers/cus_acme").body
    globex = call(client, "GET", "/customers/cus_globex").body
    assert (acme["currency"], globex["currency"]) == ("EUR", "GBP")
    assert acme["payment_terms"]["discount_percent"] == "2"
    assert globex["payment_terms"] == {
        "kind": "net",
        "net_days": 30,
        "discount_percent": None,
        "discount_days": None,
    }
    assert acme["credit"]["headroom"] == "50000.00"
    assert not events(world)  # seed data is state, not business events


# --- the contract --------------------------------------------------------------------------

ACCOUNT_PATHS = ("/customers", "/partners", "/staff", "/principals")


def _spec() -> dict:
    return yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def test_every_accounts_route_is_documented_and_nothing_more():
    def ours(path: str) -> bool:
        # webhooks, statements, collections history, credits, charges, behaviour and portal
        # links live under /customers and /partners too
        others = ("/webhook", "/statement", "/collections", "/credits", "/charges", "/behaviour")
        return path.startswith(ACCOUNT_PATHS) and not any(
            other in path for other in (*others, "/portal-links")
        )

    routes = {
        (path, method.lower())
        for path, methods in app_module.app.routes.items()
        if ours(path)
        for method in methods
    }
    documented = {
        (path, method) for path, item in _spec()["paths"].items() if ours(path) for method in item
    }
    assert routes == documented
    assert len(routes) == 12


@pytest.mark.parametrize(
    ("schema", "model"),
    [
        ("CustomerRequest", "shared.domain.customer:CustomerRequest"),
        ("CustomerPatch", "shared.domain.customer:CustomerPatch"),
        ("Address", "shared.domain.customer:Address"),
        ("PaymentTerms", "shared.domain.terms:PaymentTerms"),
        ("PartnerRequest", "shared.domain.principal:PartnerRequest"),
        ("PartnerPatch", "shared.domain.principal:PartnerPatch"),
        ("StaffRequest", "shared.domain.principal:StaffRequest"),
        ("KeyRequest", "shared.domain.principal:KeyRequest"),
    ],
)
def test_request_schemas_match_their_models(schema, model):
    module, name = model.split(":")
    fields = getattr(importlib.import_module(module), name).model_fields
    documented = _spec()["components"]["schemas"][schema]
    assert set(documented["properties"]) == set(fields)
    assert set(documented.get("required", [])) == {n for n, f in fields.items() if f.is_required()}


@pytest.mark.parametrize(
    ("path", "method", "model"),
    [
        ("/customers", "post", "shared.domain.customer:CustomerRequest"),
        ("/customers/{customer_id}", "patch", "shared.domain.customer:CustomerPatch"),
        ("/partners", "post", "shared.domain.principal:PartnerRequest"),
        ("/partners/{partner_id}", "patch", "shared.domain.principal:PartnerPatch"),
        ("/staff", "post", "shared.domain.principal:StaffRequest"),
        ("/principals/{principal_id}/keys", "post", "shared.domain.principal:KeyRequest"),
    ],
)
def test_documented_examples_are_valid_requests(path, method, model):
    module, name = model.split(":")
    body = _spec()["paths"][path][method]["requestBody"]["content"]["application/json"]
    getattr(importlib.import_module(module), name).model_validate(body["example"])
