"""Answers the fuzzing found openapi.yaml did not document: each is now in the spec, and changes
nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functional.conftest import ADMIN_KEY, order_body, post_order

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
PROBLEM = "application/problem+json"


def documented(method: str, path: str, status: int) -> bool:
    return str(status) in SPEC["paths"][path][method.lower()]["responses"]


def _post(client: Any, path: str, raw: bytes) -> Any:
    headers = {
        "X-Api-Key": ADMIN_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return client.http.post(path, headers=headers, body=raw)


@pytest.mark.parametrize(
    ("decision", "raw"), [("cancel", b"null"), ("approve", b"[]"), ("reject", b'"no"')]
)
def test_a_decision_whose_body_is_not_an_object_is_a_documented_422_that_changes_nothing(
    world, client, decision, raw
):
    # Given: an order
    order = json.loads(post_order(client, order_body()).body)
    world.pump.drain()
    before = world.table_items()

    # When: the decision's optional body is JSON, but not an object
    answer = _post(client, f"/orders/{order['id']}/{decision}", raw)

    # Then: a validation problem pointing at the body, which openapi.yaml documents
    assert answer.status_code == 422, answer.body
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    problem = json.loads(answer.body)
    assert problem["type"].endswith("/validation-error")
    assert problem["status"] == 422
    assert [error["pointer"] for error in problem["errors"]] == ["#"]
    assert documented("POST", f"/orders/{{order_id}}/{decision}", 422)
    # and nothing was written
    assert world.table_items() == before
