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


def get(stack: LocalStack, path: str) -> Answer:
    return stack.request("GET", path, headers={"X-Api-Key": PARTNER_KEY})


def wait_for(stack: LocalStack, path: str, ready: Any) -> Any:
    """GET ``path`` until ``ready(answer)`` holds; the workers run on the pump's schedule."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    answer = get(stack, path)
    while time.monotonic() < deadline:
        answer = get(stack, path)
        if ready(answer):
            return answer.json()
        time.sleep(0.2)
    pytest.fail(f"GET {path} still answers {answer.status} {answer.body[:300]!r}")


def shipped_and_invoiced(
    stack: LocalStack, purchase_order: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Place an order, ship all of it, and wait for its invoice: (order, invoice summary)."""
    placed = post_order(stack, order_body(purchase_order=purchase_order))
    assert placed.status == 201, placed.body
    order = wait_for_status(stack, placed.json()["id"], "confirmed")
    lines = [{"line_no": line["line_no"], "quantity": line["reserved"]} for line in order["lines"]]
    shipment = {"carrier": "DHL", "tracking_number": purchase_order, "lines": lines}
    shipped = stack.request(
        "POST",
        f"/orders/{order['id']}/shipments",
        body=json.dumps(shipment).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": PARTNER_KEY,
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
    )
    [invoice] = [i for i in listed["invoices"] if i["order_id"] == order["id"]]
    return order, invoice
