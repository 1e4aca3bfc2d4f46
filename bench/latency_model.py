"""End-to-end p50 of POST /orders against a no-op route (GET /health), modelled from what each
request does, since the local stack's own latency measures moto, not the app.

In process under moto (the stack from infra/resources.yaml, the app through
``chalice.test.Client``), each route is called ``REQUESTS`` times after a warm-up. For each
request it counts the AWS calls by operation and measures the CPU time the process spent outside
moto: the app, Chalice, pydantic and botocore's building and parsing of each request. moto's own
server-side work (timed around its in-process dispatch) is left out: on AWS it happens in
DynamoDB, and its round trip is in the model's per-call latency instead.

The model, for a warm Lambda at the app's memory::

    p50 = median CPU outside moto x (FULL_VCPU_MB / memory MB)
        + the sum, over the request's calls, of the operation's round trip (CALL_MS)
        + API Gateway's own overhead (GATEWAY_MS, the same for every route)

Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so CPU measured on a
full core here takes longer at 512 MB. The round trips are assumptions, not measurements: an
in-region DynamoDB call answers in single-digit milliseconds
(https://aws.amazon.com/dynamodb/), a transaction (two phases, up to 100 items) in about twice a
single write. Change ``CALL_MS`` to what CloudWatch's SuccessfulRequestLatency shows for a
deployment, and the model follows.

    python -m bench.latency_model [--requests N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from bench.aws_calls import CallLog, offline_aws, quiet_moto
from bench.cold_import import REPO_ROOT
from bench.cost_model import memory_size_mb
from infra.local import stack
from infra.local.offline import deploy_and_seed, reset_process_state
from shared.adapters import aws
from tests.functional.conftest import order_body, post_order

REQUESTS = 30
WARM_UP = 3
FULL_VCPU_MB = 1769
GATEWAY_MS = 10.0  # API Gateway REST: its own share of a request, the same for every route
# Assumed in-region round trips (ms) per operation; unknown operations take DEFAULT_CALL_MS.
CALL_MS: dict[str, float] = {
    "dynamodb.GetItem": 4.0,
    "dynamodb.BatchGetItem": 5.0,
    "dynamodb.Query": 5.0,
    "dynamodb.PutItem": 6.0,
    "dynamodb.UpdateItem": 6.0,
    "dynamodb.TransactWriteItems": 12.0,
}
DEFAULT_CALL_MS = 10.0


@dataclass(frozen=True)
class RouteFigures:
    route: str
    calls: dict[str, int]  # per request, by service.operation
    cpu_ms: float  # median CPU per request outside moto, on this machine's full core

    def aws_ms(self) -> float:
        return sum(CALL_MS.get(call, DEFAULT_CALL_MS) * n for call, n in self.calls.items())

    def lambda_cpu_ms(self, memory_mb: int) -> float:
        return self.cpu_ms * FULL_VCPU_MB / memory_mb

    def p50_ms(self, memory_mb: int) -> float:
        return GATEWAY_MS + self.lambda_cpu_ms(memory_mb) + self.aws_ms()


@dataclass(frozen=True)
class Model:
    routes: list[RouteFigures]
    memory_mb: int
    requests: int


class MotoClock:
    """CPU time spent inside moto's in-process dispatch (the server side of every call)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def attached(self) -> Iterator[None]:
        from moto.core.botocore_stubber import BotocoreStubber

        dispatch = BotocoreStubber.__call__

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return dispatch(stubber, *args, **kwargs)
            finally:
                self.seconds += time.process_time() - started

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            BotocoreStubber.__call__ = dispatch  # type: ignore[method-assign]


def measure(requests: int = REQUESTS) -> Model:
    with offline_aws():
        from chalice.test import Client  # after the environment is set: the logger reads it

        import app as app_module

        infra = boto3.session.Session(region_name=stack.REGION)
        with quiet_moto():
            deploy_and_seed(infra)
        reset_process_state()
        log = CallLog()
        log.attach(aws.session())
        moto = MotoClock()
        with (
            moto.attached(),
            Client(app_module.app, stage_name="dev", project_dir=str(REPO_ROOT)) as client,
        ):
            routes = [
                _route("GET /health", lambda: _health(client), log, moto, requests),
                _route("POST /orders", lambda: _order(client), log, moto, requests),
            ]
    return Model(routes=routes, memory_mb=memory_size_mb(), requests=requests)


def _health(client: Any) -> None:
    answer = client.http.get("/health")
    _expect(answer.status_code == 200, f"GET /health answered {answer.status_code}")


def _order(client: Any) -> None:
    answer = post_order(client, order_body(), idempotency_key=str(uuid.uuid4()))
    _expect(answer.status_code == 201, f"POST /orders answered {answer.status_code}")


def _route(
    name: str, request: Callable[[], None], log: CallLog, moto: MotoClock, requests: int
) -> RouteFigures:
    for _ in range(WARM_UP):  # clients made, models built: a warm Lambda's state
        request()
    cpu: list[float] = []
    calls: Counter[str] = Counter()
    for index in range(requests):
        moto.seconds = 0.0
        with log.phase(f"{name} #{index}") as phase:
            started = time.process_time()
            request()
            spent = time.process_time() - started
        cpu.append((spent - moto.seconds) * 1000)
        calls.update(phase.breakdown())
    per_request = {call: count // requests for call, count in sorted(calls.items())}
    _expect(
        all(count % requests == 0 for count in calls.values()),
        f"{name}: requests made different calls: {dict(calls)}",
    )
    return RouteFigures(route=name, calls=per_request, cpu_ms=statistics.median(cpu))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


def table(model: Model) -> str:
    memory = model.memory_mb
    floor = next(route for route in model.routes if route.route == "GET /health")
    lines = [
        f"{model.requests} requests per route after {WARM_UP} to warm up; Lambda at {memory} MB "
        f"(CPU x {FULL_VCPU_MB / memory:.2f}), API Gateway {GATEWAY_MS:g} ms.",
        "",
        "| Route | AWS calls per request | CPU ms here (median, outside moto) | CPU ms at "
        f"{memory} MB | AWS ms (model) | p50 ms (model) | x GET /health |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for route in model.routes:
        calls = ", ".join(f"{call} {n}" for call, n in route.calls.items()) or "none"
        lines.append(
            f"| {route.route} | {calls} | {route.cpu_ms:.1f} | {route.lambda_cpu_ms(memory):.1f} "
            f"| {route.aws_ms():.0f} | {route.p50_ms(memory):.0f} "
            f"| {route.p50_ms(memory) / floor.p50_ms(memory):.2f} |"
        )
    lines += ["", "Assumed round trips: " + _calls_ms(CALL_MS) + f"; others {DEFAULT_CALL_MS:g}."]
    return "\n".join(lines)


def _calls_ms(latencies: Mapping[str, float]) -> str:
    return ", ".join(f"{call} {ms:g} ms" for call, ms in latencies.items())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency_model", description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    options = parser.parse_args()
    print(table(measure(options.requests)))


if __name__ == "__main__":
    main()
