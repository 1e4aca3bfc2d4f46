"""The load benchmark, briefly, over real HTTP: it completes, nothing fails, and nothing is lost."""

from __future__ import annotations

import uuid

import pytest

from bench import load
from tests.e2e.conftest import ADMIN_KEY, LocalStack

pytestmark = pytest.mark.e2e


def stored_orders(stack: LocalStack, customer_id: str) -> list[dict[str, object]]:
    headers = {"X-Api-Key": ADMIN_KEY}
    found: list[dict[str, object]] = []
    cursor = ""
    while True:
        query = f"customer_id={customer_id}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        answer = stack.request("GET", f"/orders?{query}", headers=headers)
        assert answer.status == 200, answer.body
        page = answer.json()
        found += page["orders"]
        if not (cursor := page.get("next_cursor") or ""):
            return found


def test_a_short_load_run_completes_without_errors_and_stores_every_order(
    local_stack: LocalStack,
) -> None:
    report = load.measure(
        users=2, seconds=3.0, max_requests=400, api_url=local_stack.api_url, admin_key=ADMIN_KEY
    )

    assert (report.orders.errors, report.health.errors) == (0, 0), report.error_samples
    assert report.orders.requests > 0 and report.health.requests > 0
    for route in (report.orders, report.health):
        assert route.per_second > 0
        assert 0 < route.p50_ms <= route.p99_ms
    assert report.overhead_ratio > 0 and report.throughput_ratio > 0
    # Every 201 is an order the API stored (plus the one placed to warm the server up).
    orders = stored_orders(local_stack, report.customer_id)
    assert len(orders) == report.orders.requests + 1
    assert len({order["purchase_order"] for order in orders}) == len(orders)
    assert "| POST /orders |" in load.table(report)


def test_the_load_goes_to_loopback_only() -> None:
    with pytest.raises(RuntimeError, match="loopback only"):
        load.measure(
            users=1, seconds=1.0, api_url=f"http://{uuid.uuid4().hex}.example:80", admin_key="k"
        )


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]  # 1..100
    assert load.percentile(values, 0.50) == 50.0
    assert load.percentile(values, 0.99) == 99.0
    assert load.percentile([7.0], 0.99) == 7.0
    assert load.percentile([], 0.5) == 0.0
    route = load.figures("x", [(10.0, True), (30.0, True), (20.0, False)], 2.0)
    assert (route.requests, route.errors, route.per_second, route.p50_ms) == (3, 1, 1.0, 10.0)
