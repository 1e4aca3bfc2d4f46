"""Orders per second and latency over HTTP against the local stack, next to a no-op route.

The stack runs as a developer runs it (``python -m infra.local`` in a process of its own, on
127.0.0.1): moto's server, the Chalice local server and the event pump, which confirms every order
placed while the load runs. The load comes from locust (library mode, headless: ``Environment`` and
a local runner) in a third process: locust patches the standard library for gevent when imported,
which must happen first thing in a process and must never happen inside the caller (``make bench``
or pytest, whose threads and sockets a late patch would break).

``users`` partners, each with an API key of its own bound to a customer created for the run, POST
orders (a unique Idempotency-Key each, a SKU without stock, so stock and credit never refuse one)
in a closed loop, without think time; as many probes GET /health (no AWS call) in the same run.
The run stops at ``seconds`` or after ``max_requests`` requests (plus those in flight), whichever
comes first. Latency is
each request's own (client side, exact, not locust's rounded buckets); the overhead ratio is the
median POST /orders over the median GET /health, and the throughput ratio health/s over orders/s.

Everything shares the machine's cores (moto, the app server, the pump, the load generator), so the
figures are a floor for one process serving the app, not a Lambda fleet's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_USERS = 8
DEFAULT_SECONDS = 20.0
DEFAULT_MAX_REQUESTS = 5000
ORDERS, HEALTH = "POST /orders", "GET /health"
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 30.0  # for the requests in flight when the run stops
GENERATOR_SLACK_SECONDS = 60.0  # startup + shutdown of the generator beyond the run itself
SKU = "SERVICE-HOUR"  # a seeded SKU that keeps no stock: orders never wait for stock


@dataclass(frozen=True)
class RouteFigures:
    """One route over the run: requests, failures, rate and latency percentiles (ms)."""

    name: str
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Report:
    users: int  # partners; as many /health probes ran beside them
    seconds: float  # the measured window
    orders: RouteFigures
    health: RouteFigures
    generator: str  # e.g. "locust 2.47.0"
    customer_id: str  # the run's own customer: every order placed is its
    error_samples: tuple[str, ...] = ()

    @property
    def overhead_ratio(self) -> float:
        """Median POST /orders latency over median GET /health latency."""
        return self.orders.p50_ms / self.health.p50_ms if self.health.p50_ms else 0.0

    @property
    def throughput_ratio(self) -> float:
        """GET /health per second over POST /orders per second."""
        return self.health.per_second / self.orders.per_second if self.orders.per_second else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of all at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def figures(name: str, samples: Sequence[tuple[float, bool]], seconds: float) -> RouteFigures:
    """From ``(latency ms, ok)`` samples of one route over a window of ``seconds``."""
    latencies = [ms for ms, ok in samples if ok]
    return RouteFigures(
        name=name,
        requests=len(samples),
        errors=sum(1 for _, ok in samples if not ok),
        per_second=len(latencies) / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
    )


# --- the run ------------------------------------------------------------------------------------


def measure(
    users: int = DEFAULT_USERS,
    seconds: float = DEFAULT_SECONDS,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    *,
    api_url: str | None = None,
    admin_key: str | None = None,
) -> Report:
    """Load a running stack (``api_url`` + ``admin_key``), or start one of its own for the run."""
    if api_url is not None:
        if admin_key is None:
            raise ValueError("a running stack needs its admin key")
        return _load(api_url, admin_key, users, seconds, max_requests)
    from tests.e2e.conftest import ADMIN_KEY, LocalStack

    with tempfile.TemporaryDirectory(prefix="otc-load-") as workdir:
        stack = LocalStack(Path(workdir)).start()
        try:
            stack.wait_ready()
            return _load(stack.api_url, ADMIN_KEY, users, seconds, max_requests)
        finally:
            stack.stop()


def _load(api_url: str, admin_key: str, users: int, seconds: float, max_requests: int) -> Report:
    _expect(api_url.startswith(f"http://{LOOPBACK}:"), f"load goes to loopback only: {api_url}")
    customer_id = _setup_customer(api_url, admin_key)
    keys = [_partner_key(api_url, admin_key, customer_id, n) for n in range(users)]
    _warm_up(api_url, keys[0], customer_id)
    config = {
        "api_url": api_url,
        "keys": keys,
        "customer_id": customer_id,
        "seconds": seconds,
        "max_requests": max_requests,
    }
    result = _run_generator(config, timeout=seconds + GENERATOR_SLACK_SECONDS)
    window = float(result["seconds"])
    samples: dict[str, list[tuple[float, bool]]] = {ORDERS: [], HEALTH: []}
    for name, ms, ok in result["samples"]:
        samples[name].append((float(ms), bool(ok)))
    return Report(
        users=users,
        seconds=window,
        orders=figures(ORDERS, samples[ORDERS], window),
        health=figures(HEALTH, samples[HEALTH], window),
        generator=str(result["generator"]),
        customer_id=customer_id,
        error_samples=tuple(result["error_samples"]),
    )


def _setup_customer(api_url: str, admin_key: str) -> str:
    """A customer of the run's own: its orders touch no other customer's credit or stock."""
    body = {
        "legal_name": f"Load Test {uuid.uuid4().hex[:8]} GmbH",
        "billing_email": "ap@load.example",
        "currency": "EUR",
        "billing_address": {
            "line1": "Lastweg 1",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "payment_terms": {"kind": "net", "net_days": 30},
        "credit_limit": "100000000.00",
    }
    answer = _post(api_url, "/customers", admin_key, body)
    return str(answer["customer"]["id"] if "customer" in answer else answer["id"])


def _partner_key(api_url: str, admin_key: str, customer_id: str, n: int) -> str:
    body = {"name": f"Load partner {n}", "customer_ids": [customer_id]}
    answer = _post(api_url, "/partners", admin_key, body)
    return str(answer["api_key"]["secret"])


def order_body(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "currency": "EUR",
        "purchase_order": f"LOAD-{uuid.uuid4().hex[:12]}",
        "lines": [
            {"sku": SKU, "quantity": 2, "unit_price": "95.00"},
            {"sku": SKU, "quantity": 1, "unit_price": "95.00"},
        ],
    }


def _warm_up(api_url: str, partner_key: str, customer_id: str) -> None:
    """One request per route first: the server's lazy imports are no part of the figures."""
    _post(api_url, "/orders", partner_key, order_body(customer_id))
    _http(api_url, "GET", "/health", None, None)


def _post(api_url: str, path: str, key: str, body: dict[str, Any]) -> Any:
    return _http(api_url, "POST", path, key, body)


def _http(api_url: str, method: str, path: str, key: str | None, body: Any) -> Any:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    if key is not None:
        headers["X-Api-Key"] = key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"{method} {path} answered {error.code}: {error.read()[:500]!r}"
        ) from None


def _run_generator(config: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run ``generate`` in a fresh interpreter that patches for gevent before importing anything."""
    with tempfile.TemporaryDirectory(prefix="otc-locust-") as workdir:
        config_file, result_file = Path(workdir, "config.json"), Path(workdir, "result.json")
        config_file.write_text(json.dumps(config))
        code = (
            "from gevent import monkey; monkey.patch_all()\n"
            "import sys, bench.load as load\n"
            "load.generate_main(sys.argv[1], sys.argv[2])\n"
        )
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", code, str(config_file), str(result_file)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"the load generator failed ({done.returncode}):\n{done.stderr}")
        result: dict[str, Any] = json.loads(result_file.read_text())
        return result


# --- the generator (runs in its own process, patched for gevent) --------------------------------


def generate_main(config_path: str, result_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    Path(result_path).write_text(json.dumps(generate(config)))


def generate(config: dict[str, Any]) -> dict[str, Any]:
    """Locust in library mode: partners POST orders, probes GET /health, until a bound is hit."""
    import gevent
    import locust
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    keys: list[str] = list(config["keys"])
    customer_id: str = config["customer_id"]
    max_requests: int = int(config["max_requests"])
    samples: list[tuple[str, float, bool]] = []
    errors: list[str] = []

    class Partner(FastHttpUser):
        host = config["api_url"]
        wait_time = constant(0)
        fixed_count = len(keys)

        def on_start(self) -> None:
            self.key = keys.pop()

        @task
        def place_order(self) -> None:
            headers = {
                "Content-Type": "application/json",
                "X-Api-Key": self.key,
                "Idempotency-Key": str(uuid.uuid4()),
            }
            self.client.post("/orders", json=order_body(customer_id), headers=headers, name=ORDERS)

    class Probe(FastHttpUser):
        host = config["api_url"]
        wait_time = constant(0)
        fixed_count = len(keys)

        @task
        def health(self) -> None:
            self.client.get("/health", name=HEALTH)

    # A stop lets every user finish its request: each order the server stored is one recorded.
    environment = Environment(
        user_classes=[Partner, Probe], events=locust.events, stop_timeout=STOP_TIMEOUT_SECONDS
    )
    runner = environment.create_local_runner()

    def record(name: str, response_time: float, exception: Any, **_: Any) -> None:
        # Requests in flight when the bound is hit still count: at most 2 * users more.
        samples.append((name, response_time, exception is None))
        if exception is not None and len(errors) < 5:
            errors.append(f"{name}: {exception!r}")
        if len(samples) == max_requests:
            gevent.spawn(runner.quit)

    def stop_at(deadline: float) -> None:
        # Not gevent.spawn_later: the loop's cached clock may be stale by the imports' time.
        while time.perf_counter() < deadline:
            gevent.sleep(0.05)
        runner.quit()

    environment.events.request.add_listener(record)
    started = time.perf_counter()
    runner.start(2 * len(keys), spawn_rate=min(100, 2 * len(keys)))
    stopper = gevent.spawn(stop_at, started + float(config["seconds"]))
    runner.greenlet.join()
    stopper.kill()
    elapsed = time.perf_counter() - started
    return {
        "generator": f"locust {locust.__version__}",
        "seconds": elapsed,
        "samples": samples,
        "error_samples": errors,
    }


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


# --- output -------------------------------------------------------------------------------------


def table(report: Report) -> str:
    """Markdown: per route, requests, errors, rate and latency; then the two ratios."""
    lines = [
        f"{report.users} partners POSTing orders + {report.users} probes GETting /health, "
        f"closed loop, {report.seconds:.1f} s, {report.generator}",
        "",
        "| Route | Requests | Errors | Per second | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route in (report.orders, report.health):
        lines.append(
            f"| {route.name} | {route.requests} | {route.errors} | {route.per_second:.1f} "
            f"| {route.p50_ms:.1f} | {route.p99_ms:.1f} |"
        )
    lines += [
        "",
        f"- Overhead ratio (p50 POST /orders / p50 GET /health): {report.overhead_ratio:.1f}x",
        f"- Throughput ratio (GET /health per s / POST /orders per s): "
        f"{report.throughput_ratio:.1f}x",
    ]
    if report.error_samples:
        lines.append(f"- First errors: {'; '.join(report.error_samples)}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="partners (and probes)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="time bound")
    parser.add_argument(
        "--max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help="request bound"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(table(measure(args.users, args.seconds, args.max_requests)))


if __name__ == "__main__":
    main()
