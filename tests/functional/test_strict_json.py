"""Request bodies are strict JSON: media type, duplicate keys, JSON types, null and query pointers.

Every refusal is an RFC 9457 problem and leaves the world as it was: no item, no message.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from typing import Any

import pytest

import app as app_module
from tests.functional.collections import QUEUE, reminders
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, order_body
from tests.functional.helpers import assert_problem

PARTNER = "prt_demo"  # the seeded partner, PARTNER_KEY's principal
PATH_VALUES = {
    "customer_id": "cus_acme",
    "partner_id": PARTNER,
    "principal_id": PARTNER,
    "sku": "WIDGET-1",
    "currency": "EUR",
}
WEBHOOK_ROUTES = re.compile(r"^/webhooks/")  # signed by gateways: their own tests


def _json_routes(*, reading_a_body: bool) -> list[tuple[str, str]]:
    """(method, path) of every POST/PUT/PATCH route taking JSON, its path parameters filled in."""
    found = []
    for template, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            if method not in ("POST", "PUT", "PATCH") or WEBHOOK_ROUTES.match(template):
                continue
            if entry.content_types != ["application/json"]:
                continue  # CSV imports, bank statements
            if reading_a_body and "_body(" not in inspect.getsource(entry.view_function):
                continue
            path = re.sub(
                r"\{(\w+)\}", lambda name: PATH_VALUES.get(name[1], f"x_{name[1]}"), template
            )
            found.append((method, path))
    return sorted(found)


def _send(
    client: Any, method: str, path: str, body: Any, *, content_type: str | None, key: str
) -> Any:
    headers = {"X-Api-Key": key, "Idempotency-Key": str(uuid.uuid4())}
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    return getattr(client.http, method.lower())(path, headers=headers, body=raw)


# --- media type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "*/*",
        "application/json; charset=latin-1",
        "application/json, text/plain",
    ],
    ids=["none", "text", "form", "any", "latin-1", "list"],
)
def test_a_json_body_not_sent_as_json_answers_415_on_every_route(
    world: World, client, content_type: str | None
):
    # Given every route that reads a JSON body
    routes = _json_routes(reading_a_body=True)
    assert len(routes) >= 20

    # When each gets a JSON object under another (or no) Content-Type
    answers = {
        (method, path): _send(client, method, path, {}, content_type=content_type, key=ADMIN_KEY)
        for method, path in routes
    }

    # Then each answers 415 problem+json, and nothing was written
    for route, answer in answers.items():
        assert answer.status_code == 415, (route, answer.body)
        assert_problem(answer, 415, "unsupported-media-type")
    assert world.written() == []


def test_chalice_s_own_media_type_refusal_is_a_problem_too(world: World, client):
    # Given the routes taking JSON, including those that read no body (cancel, approve)
    routes = _json_routes(reading_a_body=False)

    # When each gets a form-encoded body
    answers = {
        route: _send(client, *route, "a=1", content_type="multipart/form-data", key=ADMIN_KEY)
        for route in routes
    }

    # Then each is a 415 problem and nothing changed
    for answer in answers.values():
        problem = assert_problem(answer, 415, "unsupported-media-type")
        assert problem["title"] == "Unsupported media type"
    assert world.written() == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"],
)
def test_json_with_or_without_a_utf8_charset_is_read(world: World, client, content_type: str):
    # When a dry collection run is asked for with the body sent as JSON
    answer = _send(
        client,
        "POST",
        "/collection-runs",
        {"dry_run": True},
        content_type=content_type,
        key=ADMIN_KEY,
    )

    # Then it is read (a dry run answers 200 with its plans)
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["dry_run"] is True


# --- duplicate keys and other ambiguous JSON ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "raw", "key_named"),
    [
        (
            "POST",
            "/orders",
            '{"customer_id": "cus_acme", "currency": "EUR", "customer_id": "cus_globex",'
            ' "lines": [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "19.99"}]}',
            "customer_id",
        ),
        (
            "POST",
            "/orders",
            '{"customer_id": "cus_acme", "currency": "EUR", "lines": [{"sku": "WIDGET-1",'
            ' "quantity": 1, "quantity": 900, "unit_price": "19.99"}]}',
            "quantity",
        ),
        ("POST", "/collection-runs", '{"dry_run": true, "dry_run": false}', "dry_run"),
        (
            "PATCH",
            "/customers/cus_acme",
            '{"billing_address": {"city": "Lyon", "city": "Paris"}}',
            "city",
        ),
        (
            "PUT",
            f"/partners/{PARTNER}/webhook",
            '{"url": "https://hooks.acme.example/a", "url": "https://evil.example/b"}',
            "url",
        ),
    ],
    ids=["order-top-level", "order-nested-line", "collection-run", "customer-nested", "webhook"],
)
def test_a_key_repeated_in_one_object_answers_400_naming_it(
    world: World, client, method: str, path: str, raw: str, key_named: str
):
    # When a body repeats a key (last-wins parsers would read the second value)
    answer = _send(client, method, path, raw, content_type="application/json", key=ADMIN_KEY)

    # Then it is refused as malformed, naming the key, and nothing happened
    problem = assert_problem(answer, 400, "malformed-json")
    assert repr(key_named) in problem["detail"]
    assert world.written() == []
    assert world.queue_depth(QUEUE) == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"dry_run": NaN}', "NaN"),
        ('{"as_of": 1e400}', "beyond the range"),
        ('{"as_of": "\\ud800"}', "surrogate"),
        ('{"as_of": ' + "[" * 40 + "]" * 40 + "}", "deeper than 32"),
        ('{"as_of": ' + "[" * 10_000 + "]" * 10_000 + "}", "deeper than 32"),
    ],
    ids=["nan", "infinity", "lone-surrogate", "deep", "very-deep"],
)
def test_json_no_two_readers_agree_on_answers_400(world: World, client, raw: str, reason: str):
    # When a collection run is asked for with such a body
    answer = _send(
        client, "POST", "/collection-runs", raw, content_type="application/json", key=ADMIN_KEY
    )

    # Then it is malformed JSON, and no run started
    problem = assert_problem(answer, 400, "malformed-json")
    assert reason in problem["detail"]
    assert world.written() == [] and world.queue_depth(QUEUE) == 0


# --- JSON types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"dry_run": 0},
        {"dry_run": 1},
        {"dry_run": "false"},
        {"dry_run": "true"},
        {"dry_run": None},
        {"as_of": None},
        {"as_of": 20261201},
    ],
    ids=["zero", "one", "string-false", "string-true", "null", "as_of-null", "as_of-number"],
)
def test_a_collection_run_takes_json_booleans_only_and_starts_nothing_otherwise(
    world: World, client, body: dict[str, Any]
):
    # When a run is asked for with a value that is not the JSON type of its field
    answer = _send(
        client, "POST", "/collection-runs", body, content_type="application/json", key=ADMIN_KEY
    )

    # Then it is refused naming the field, and no run happened: no item, no message, no e-mail
    problem = assert_problem(answer, 422, "validation-error")
    assert [error["pointer"] for error in problem["errors"]] == [f"#/{next(iter(body))}"]
    assert world.written() == []
    assert world.queue_depth(QUEUE) == 0
    world.pump.drain()
    assert reminders() == []


@pytest.mark.parametrize(
    "quantity", ["1", 1.5, 1.0, True], ids=["string", "fraction", "float", "bool"]
)
def test_an_integer_field_takes_a_json_integer_only(world: World, client, quantity: Any):
    # Given an order whose first line's quantity is not a JSON integer
    body = order_body()
    body["lines"][0]["quantity"] = quantity

    # When it is placed
    answer = _send(
        client, "POST", "/orders", body, content_type="application/json", key=PARTNER_KEY
    )

    # Then it is refused pointing at the quantity, and no order exists
    problem = assert_problem(answer, 422, "validation-error")
    assert [error["pointer"] for error in problem["errors"]] == ["#/lines/0/quantity"]
    assert world.written() == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "https://hooks.acme.example/otc", "events": None}, "#/events"),
        ({"url": "https://hooks.acme.example/otc", "events": "OrderShipped"}, "#/events"),
        ({"url": None}, "#/url"),
    ],
    ids=["events-null", "events-string", "url-null"],
)
def test_a_webhook_subscription_takes_null_nowhere(
    world: World, client, body: dict[str, Any], pointer: str
):
    # When a partner registers its webhook with a null (or a lone string) for a list
    answer = _send(
        client,
        "PUT",
        f"/partners/{PARTNER}/webhook",
        body,
        content_type="application/json",
        key=PARTNER_KEY,
    )

    # Then it is refused naming the field, and no subscription exists
    problem = assert_problem(answer, 422, "validation-error")
    assert pointer in {error["pointer"] for error in problem["errors"]}
    assert world.written() == []


NULLS = [
    (
        "POST",
        "/payments",
        {
            "amount": "100.00",
            "currency": "EUR",
            "method": "wire",
            "received_on": "2026-12-01",
            "payer_name": "ACME Retail GmbH",
            "reference": "WIRE-1",
            "remittance": None,
        },
        "#/remittance",
    ),
    (
        "POST",
        "/payments/pay_x/allocations",
        {"customer_id": None, "allocations": [{"invoice_id": "inv_x", "amount": "1.00"}]},
        "#/customer_id",
    ),
    (
        "POST",
        "/payments/pay_x/allocations",
        {"allocations": [{"invoice_id": "inv_x", "amount": "1.00", "discount": None}]},
        "#/allocations/0/discount",
    ),
    ("POST", "/invoices/inv_x/credit-notes", {"reason": "damaged", "lines": None}, "#/lines"),
    ("PATCH", "/customers/cus_acme", {"version": 1, "legal_name": None}, "#/legal_name"),
]


def test_null_is_refused_where_the_schema_does_not_allow_it(world: World, client):
    # When staff send null for fields the schema has no null for (they may be left out)
    answers = [
        (pointer, _send(client, method, path, body, content_type="application/json", key=ADMIN_KEY))
        for method, path, body, pointer in NULLS
    ]

    # Then each is refused naming the field, and nothing was written
    for pointer, answer in answers:
        problem = assert_problem(answer, 422, "validation-error")
        assert pointer in {error["pointer"] for error in problem["errors"]}, problem
    assert world.written() == []


def test_a_webhook_subscription_left_without_events_takes_them_all(world: World, client):
    # When a partner registers its webhook naming no events
    answer = _send(
        client,
        "PUT",
        f"/partners/{PARTNER}/webhook",
        {"url": "https://hooks.acme.example/otc"},
        content_type="application/json",
        key=PARTNER_KEY,
    )

    # Then every order event is subscribed
    assert answer.status_code in (200, 201), answer.body
    assert "OrderShipped" in json.loads(answer.body)["events"]


# --- query problems point like body problems ----------------------------------------------------


ITEM = {"name": "Widget", "unit": "EA", "tax_category": "standard"}
QUERY_PROBLEMS = [
    ("GET", "/orders?customer_id=cus_acme&limit=ten", ADMIN_KEY, None, "#/query/limit"),
    ("GET", "/invoices", PARTNER_KEY, None, "#/query/customer_id"),
    ("GET", "/customers?limit=0", ADMIN_KEY, None, "#/query/limit"),
    ("GET", "/customers?sort=name", ADMIN_KEY, None, "#/query/sort"),
    ("GET", "/catalog/items?colour=red", ADMIN_KEY, None, "#/query/colour"),
    ("GET", "/reports/aging?as_of=2026-13-01", ADMIN_KEY, None, "#/query/as_of"),
    (
        "GET",
        "/customers/cus_acme/statement?from=2026-12-01&to=2026-01-01",
        ADMIN_KEY,
        None,
        "#/query/from",
    ),
    ("PUT", "/catalog/items/bolt-9", ADMIN_KEY, ITEM, "#/path/sku"),
    (
        "PUT",
        "/catalog/items/WIDGET-1/prices/eur",
        ADMIN_KEY,
        {"unit_price": "1"},
        "#/path/currency",
    ),
]


def test_bad_url_parameters_answer_400_with_a_pointer_to_each(world: World, client):
    # When operations get a bad query or path parameter
    answers = [
        (pointer, _send(client, method, path, body, content_type="application/json", key=key))
        for method, path, key, body, pointer in QUERY_PROBLEMS
    ]

    # Then each is an invalid-query problem whose errors point at the parameter, as body errors do
    for pointer, answer in answers:
        problem = assert_problem(answer, 400, "invalid-query")
        assert all(set(error) == {"pointer", "detail"} for error in problem["errors"]), problem
        assert pointer in {error["pointer"] for error in problem["errors"]}, problem
    assert world.written() == []
