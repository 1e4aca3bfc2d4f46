"""`make run` end to end: the API over real HTTP, the event pump, the printed curl, shutdown."""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.local.seed import demo_order
from tests.e2e.conftest import PARTNER_KEY, Answer, LocalStack, moto_client

pytestmark = pytest.mark.e2e

PROBLEM_JSON = "application/problem+json"
CONFIRM_TIMEOUT_SECONDS = 90.0  # the pump confirms in a second; a loaded machine needs more


def order_body(**overrides: Any) -> dict[str, Any]:
    return demo_order(**{"purchase_order": "PO-E2E-1", **overrides})


def post_order(
    stack: LocalStack,
    body: dict[str, Any] | bytes,
    *,
    key: str | None = PARTNER_KEY,
    idempotency_key: str | None = None,
) -> Answer:
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
    }
    if key is not None:
        headers["X-Api-Key"] = key
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return stack.request("POST", "/orders", body=raw, headers=headers)


def get_order(stack: LocalStack, order_id: str, key: str = PARTNER_KEY) -> Answer:
    return stack.request("GET", f"/orders/{order_id}", headers={"X-Api-Key": key})


def wait_for_status(
    stack: LocalStack, order_id: str, status: str, key: str = PARTNER_KEY
) -> dict[str, Any]:
    deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
    order: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = get_order(stack, order_id, key)
        assert answer.status == 200, answer.body
        order = answer.json()
        if order["status"] == status:
            return order
        time.sleep(0.1)
    pytest.fail(
        f"order {order_id} is still {order.get('status')} after {CONFIRM_TIMEOUT_SECONDS} s"
    )


def test_health_answers_ok(local_stack):
    # When
    answer = local_stack.request("GET", "/health")

    # Then
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}


def test_placed_order_is_received_then_confirmed_by_the_pump(local_stack):
    # Given / When
    placed = post_order(local_stack, order_body())

    # Then: received at once, with its location
    assert placed.status == 201, placed.body
    order = placed.json()
    assert order["status"] == "received"
    assert order["total"] == {"amount": "60.10", "currency": "EUR"}
    assert placed.headers["location"] == f"/orders/{order['id']}"

    # Then: stream -> EventBridge -> SQS -> worker confirms it, with no one calling drain()
    confirmed = wait_for_status(local_stack, order["id"], "confirmed")
    assert confirmed["version"] == 2


def test_a_confirmed_order_lands_its_events_in_the_local_lake(local_stack):
    # Given an order the pump confirmed
    placed = post_order(local_stack, order_body(purchase_order="PO-E2E-LAKE"))
    order_id = placed.json()["id"]
    wait_for_status(local_stack, order_id, "confirmed")

    # Then the lake bucket in moto holds its events, under their day, as JSON lines
    s3 = moto_client(local_stack, "s3")
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"] if "-lake-" in b["Name"]]
    landed: set[str] = set()
    deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
    while {"OrderReceived", "OrderConfirmed"} - landed and time.monotonic() < deadline:
        for listed in s3.list_objects_v2(Bucket=bucket, Prefix="lake/events/dt=").get(
            "Contents", []
        ):
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read().decode()
            rows = [json.loads(line) for line in body.splitlines()]
            landed |= {row["detail_type"] for row in rows if row["aggregate_id"] == order_id}
        time.sleep(0.1)
    assert {"OrderReceived", "OrderConfirmed"} <= landed


def test_post_without_key_is_unauthorized_problem(local_stack):
    # When
    answer = post_order(local_stack, order_body(), key=None)

    # Then
    assert answer.status == 401
    assert answer.content_type.startswith(PROBLEM_JSON)
    assert answer.json()["type"].endswith("/unauthorized")
    assert "www-authenticate" in answer.headers


def test_same_idempotency_key_and_body_replays_the_same_order(local_stack):
    # Given
    key = str(uuid.uuid4())
    first = post_order(local_stack, order_body(), idempotency_key=key)
    assert first.status == 201, first.body

    # When
    second = post_order(local_stack, order_body(), idempotency_key=key)

    # Then
    assert second.status == 201, second.body
    assert second.json()["id"] == first.json()["id"]


def test_same_idempotency_key_with_another_body_is_rejected(local_stack):
    # Given
    key = str(uuid.uuid4())
    first = post_order(local_stack, order_body(), idempotency_key=key)
    assert first.status == 201, first.body

    # When
    second = post_order(local_stack, order_body(purchase_order="PO-OTHER"), idempotency_key=key)

    # Then
    assert second.status == 422
    assert second.content_type.startswith(PROBLEM_JSON)
    assert second.json()["type"].endswith("/idempotency-key-reused")


def test_malformed_json_is_a_bad_request_problem(local_stack):
    # When
    answer = post_order(local_stack, b'{"customer_id": "cus_acme",')

    # Then
    assert answer.status == 400
    assert answer.content_type.startswith(PROBLEM_JSON)
    assert answer.json()["type"].endswith("/malformed-json")


def test_printed_curl_lines_place_and_read_an_order(local_stack):
    # Given: the lines the stack printed for the developer
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    lines = [line.strip() for line in local_stack.printed_lines()]
    post_line = next(line for line in lines if line.startswith("curl ") and "-X POST" in line)
    get_line = next(line for line in lines if line.startswith("curl ") and "ORDER_ID" in line)

    # When
    posted = run_curl(post_line)

    # Then
    assert posted.status == 201, posted.body
    order_id = posted.json()["id"]
    read = run_curl(get_line.replace("ORDER_ID", order_id))
    assert read.status == 200, read.body
    assert read.json()["id"] == order_id


def run_curl(line: str) -> Answer:
    """Run a printed `curl -sS -i ...` line as a shell would split it; parse the HTTP answer."""
    output = subprocess.run(shlex.split(line), capture_output=True, timeout=60, check=True).stdout
    head, _, body = output.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def test_sigterm_stops_the_stack_cleanly(tmp_path: Path):
    # Given: a second stack of its own
    stack = LocalStack(tmp_path).start().wait_ready()
    assert stack.request("GET", "/health").status == 200

    # When
    code = stack.stop(signal.SIGTERM)

    # Then: exit 0 within the timeout, no traceback, the ports and the ready file released
    logs = stack.logs()
    assert code == 0, logs
    assert "Traceback" not in logs, logs
    assert not stack.ready_file.exists()
    for port in (stack.api_port, stack.moto_port):
        with pytest.raises(OSError):
            socket_connect(port)


def socket_connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def _send(stack: LocalStack, method: str, path: str, body: dict[str, Any]) -> Answer:
    headers = {
        "Content-Type": "application/json",
        "X-Api-Key": PARTNER_KEY,
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return stack.request(method, path, body=json.dumps(body).encode(), headers=headers)


def test_an_order_is_placed_amended_partially_shipped_and_shipped(local_stack):
    # Given a confirmed order
    placed = post_order(local_stack, order_body())
    assert placed.status == 201, placed.body
    order = wait_for_status(local_stack, placed.json()["id"], "confirmed")
    path = f"/orders/{order['id']}"

    # When the partner amends it: five widgets instead of three, and a new ship-to
    amendment = {
        "version": order["version"],
        "lines": [{"sku": "WIDGET-1", "quantity": 5}, {"sku": "GADGET-2", "quantity": 1}],
        "ship_to": {"line1": "Dock 4", "city": "Hamburg", "postal_code": "20457", "country": "DE"},
    }
    amended = _send(local_stack, "PATCH", path, amendment)

    # Then it is a new version, repriced, with the stock for five reserved
    assert amended.status == 200, amended.body
    assert amended.json()["version"] == order["version"] + 1
    assert amended.json()["total"] == {"amount": "100.08", "currency": "EUR"}
    assert amended.json()["lines"][0]["reserved"] == 5

    # When it ships in two parts
    first = {"carrier": "DHL", "tracking_number": "E2E-1", "lines": [{"line_no": 1, "quantity": 2}]}
    partly = _send(local_stack, "POST", f"{path}/shipments", first)
    rest = {
        "carrier": "DHL",
        "tracking_number": "E2E-2",
        "lines": [{"line_no": 1, "quantity": 3}, {"line_no": 2, "quantity": 1}],
    }
    shipped = _send(local_stack, "POST", f"{path}/shipments", rest)

    # Then it is partially shipped, then shipped, and its history tells the whole story
    assert partly.status == 201, partly.body
    assert partly.json()["order"]["status"] == "partially_shipped"
    assert shipped.status == 201, shipped.body
    assert shipped.json()["order"]["status"] == "shipped"
    history = local_stack.request("GET", f"{path}/history", headers={"X-Api-Key": PARTNER_KEY})
    assert [event["type"] for event in history.json()["events"]] == [
        "OrderReceived",
        "OrderConfirmed",
        "OrderAmended",
        "OrderShipped",
        "OrderShipped",
    ]
