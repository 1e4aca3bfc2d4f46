"""Dates at the boundary: a date outside the business window, or not written YYYY-MM-DD, is
refused with a problem naming the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.accounts import call
from tests.functional.bank_files import post_statement
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem, snapshot
from tests.functional.payment_intake import (
    generic_event,
    objects,
    payment_intent,
    post_generic,
    post_stripe,
    stripe_event,
)
from tests.functional.test_bank_statements import SAMPLE
from tests.functional.test_manual_payments import cheque

NOT_BUSINESS_DATES = [
    "0001-01-01",
    "0044-07-08",
    "2026-01-01T00:00:00",
    0,
    "",
    "1999-12-31",
    "2100-01-01",
]


def _assert_refused(answer: Any, status: int, kind: str) -> list[dict[str, Any]]:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.body
    assert problem["type"].endswith("/" + kind) and problem["status"] == status
    assert problem["title"] and problem["detail"]
    errors: list[dict[str, Any]] = problem["errors"]
    return errors


BODY_DATES = [
    ("/payments", cheque(), "received_on"),
    ("/invoices/inv_any/promises", {"promised_on": "2026-12-20", "amount": "10.00"}, "promised_on"),
    ("/collection-runs", {"as_of": "2026-12-07", "dry_run": True}, "as_of"),
]


@pytest.mark.parametrize("value", NOT_BUSINESS_DATES, ids=repr)
@pytest.mark.parametrize(("path", "body", "field"), BODY_DATES, ids=[b[0] for b in BODY_DATES])
def test_a_body_date_outside_the_business_window_is_refused_and_nothing_is_written(
    client, world: World, path: str, body: dict[str, Any], field: str, value: Any
):
    # Given
    hostile = {**body, field: value}

    # When
    answer = call(client, "POST", path, body=hostile)

    # Then
    errors = _assert_refused(answer, 422, "validation-error")
    assert [error["pointer"] for error in errors] == [f"#/{field}"]
    assert world.written() == []


@pytest.mark.parametrize("value", ["2000-01-01", "2026-12-01"])
def test_a_payment_received_inside_the_window_is_recorded(client, world: World, value: str):
    # When
    answer = call(client, "POST", "/payments", body=cheque(received_on=value))

    # Then
    assert answer.status == 201, answer.body
    assert answer.body["received_at"] == f"{value}T00:00:00.000Z"


def test_the_window_is_a_setting(client, world: World, monkeypatch: pytest.MonkeyPatch):
    # Given
    monkeypatch.setenv("BUSINESS_DATES_FROM", "2026-12-01")

    # When
    answer = call(client, "POST", "/payments", body=cheque(received_on="2026-11-30"))

    # Then
    errors = _assert_refused(answer, 422, "validation-error")
    assert errors[0]["pointer"] == "#/received_on" and "2026-12-01" in errors[0]["detail"]
    assert world.written() == []


QUERY_DATES = [
    ("/reports/aging", "as_of"),
    ("/reports/kpis", "from"),
    ("/reports/kpis", "to"),
    ("/dashboard", "as_of"),
    ("/collections/worklist", "as_of"),
    ("/orders", "from"),
    ("/invoices", "due_from"),
    ("/invoices", "issued_to"),
    ("/customers/cus_acme/statement", "from"),
]


@pytest.mark.parametrize("value", ["0", "2026-01-01T00:00:00", "9999-12-31"])
@pytest.mark.parametrize(
    ("path", "parameter"), QUERY_DATES, ids=[f"{p}?{q}" for p, q in QUERY_DATES]
)
def test_a_query_date_outside_the_business_window_is_an_invalid_query(
    client, world: World, path: str, parameter: str, value: str
):
    # When
    answer = call(client, "GET", f"{path}?{parameter}={value}")

    # Then
    errors = _assert_refused(answer, 400, "invalid-query")
    named = {error.get("pointer", error.get("parameter")) for error in errors}
    assert any(parameter in str(name) for name in named), errors
    assert world.written() == []


@pytest.mark.parametrize(
    "value", ["0", "0044-07-08", "9999-12-31T00:00:00Z", "1970-01-01T00:00:00Z"]
)
def test_the_audit_trail_bounds_are_dates_or_moments_inside_the_window(
    client, world: World, value: str
):
    # When
    answer = call(client, "GET", f"/audit?entity=order:ord_1&from={value}")

    # Then
    errors = _assert_refused(answer, 400, "invalid-query")
    assert all("from" in str(error.get("pointer", error.get("parameter"))) for error in errors)
    assert world.written() == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<BookgDt><Dt>2026-11-20</Dt></BookgDt>", b"<BookgDt><Dt>0044-07-08</Dt></BookgDt>"),
        (b"<ValDt><Dt>2026-11-21</Dt></ValDt>", b"<ValDt><Dt>2100-01-01</Dt></ValDt>"),
        (b"<ValDt><Dt>2026-11-21</Dt></ValDt>", b"<ValDt><DtTm>1999-12-31T23:00:00</DtTm></ValDt>"),
    ],
)
def test_a_bank_statement_with_a_date_outside_the_window_is_refused_whole(
    client, world: World, old: bytes, new: bytes
):
    # Given
    content = SAMPLE.replace(old, new, 1)
    assert content != SAMPLE
    before = snapshot(world)

    # When
    response = post_statement(client, content)

    # Then
    problem = assert_problem(response, 422, "invalid-statement")
    assert "from 2000-01-01 to 2099-12-31" in problem["detail"]
    assert snapshot(world) == before and objects(world, "statements/") == {}


@pytest.mark.parametrize("created", [0, 946684799, 4102444800, 10**12])
def test_a_gateway_event_dated_outside_the_window_is_refused_and_leaves_nothing(
    client, world: World, created: int
):
    # Given
    generic = json.loads(generic_event())
    stripe = json.loads(stripe_event("payment_intent.succeeded", payment_intent()))
    before = snapshot(world)

    # When
    by_generic = post_generic(
        client, "demo-pay", json.dumps({**generic, "created": created}).encode()
    )
    by_stripe = post_stripe(client, json.dumps({**stripe, "created": created}).encode())

    # Then
    for response in (by_generic, by_stripe):
        assert response.status_code in (400, 422), response.body
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.body)["status"] == response.status_code
    assert snapshot(world) == before and objects(world, "webhooks/") == {}
