"""Steps the e2e invoicing and payment tests share: wait on the workers, ship, find the invoice."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import PARTNER_KEY, Answer, LocalStack
from tests.e2e.test_local_stack import order_body, post_order, wait_for_status

TIMEOUT_SECONDS = 90.0  # seconds on an idle machine; a loaded one needs more


def get(stack: LocalStack, path: str, key: str = PARTNER_KEY) -> Answer:
    return stack.request("GET", path, headers={"X-Api-Key": key})


def wait_for(stack: LocalStack, path: str, ready: Any, key: str = PARTNER_KEY) -> Any:
    """GET ``path`` until ``ready(answer)`` holds; the workers run on the pump's schedule."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    answer = get(stack, path, key)
    while time.monotonic() < deadline:
        answer = get(stack, path, key)
        if ready(answer):
            return answer.json()
        time.sleep(0.2)
    pytest.fail(f"GET {path} still answers {answer.status} {answer.body[:300]!r}")


def shipped_and_invoiced(
    stack: LocalStack, purchase_order: str, *, key: str = PARTNER_KEY, **order_fields: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Place an order (``order_fields`` over the demo order's), ship all of it, and wait for its
    invoice: (order, invoice summary); ``key`` is the caller's (the partner's unless given)."""
    body = order_body(purchase_order=purchase_order, **order_fields)
    placed = post_order(stack, body, key=key)
    assert placed.status == 201, placed.body
    order = wait_for_status(stack, placed.json()["id"], "confirmed", key)
    lines = [{"line_no": line["line_no"], "quantity": line["reserved"]} for line in order["lines"]]
    shipment = {"carrier": "DHL", "tracking_number": purchase_order, "lines": lines}
    shipped = stack.request(
        "POST",
        f"/orders/{order['id']}/shipments",
        body=json.dumps(shipment).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": key,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert shipped.status == 201, shipped.body
    listed = wait_for(
        stack,
        f"/invoices?customer_id={order['customer_id']}&limit=100",
        lambda a: (
            a.status == 200 and any(i["order_id"] == order["id"] for i in a.json()["invoices"])
        ),
        key,
    )
    [invoice] = [i for i in listed["invoices"] if i["order_id"] == order["id"]]
    return order, invoice
