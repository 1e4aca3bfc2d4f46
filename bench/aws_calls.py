"""AWS API calls that placing and confirming one order makes, end to end, under moto.

Calls are the bill and the latency of a serverless flow, so a redundant read is a regression even
when every test passes. This runs the whole flow in-process (the stack deployed from
infra/resources.yaml into moto, the Chalice app, the event pump) and counts every API call the
app makes, per Lambda invocation and per service and operation.

What counts: calls on the one boto3 session of ``shared.adapters.aws`` (a botocore ``before-call``
handler, so one per API call whatever the retries). What does not: the pump's own session, which
plays Lambda's event source mappings (stream reads, SQS receive/delete) and deploys the stack.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from bench.cold_import import REPO_ROOT
from infra.local import offline, stack
from infra.local.offline import deploy_and_seed, reset_process_state
from infra.local.pump import EventPump
from shared.adapters import aws
from tests.functional.conftest import order_body, post_order

UNATTRIBUTED = "(outside any phase)"

Operation = tuple[str, str]  # (service, operation), e.g. ("dynamodb", "GetItem")


@dataclass
class Phase:
    """The calls one step made: an HTTP request, or one Lambda invocation by the pump."""

    name: str
    detail: str = ""
    calls: Counter[Operation] = field(default_factory=Counter)
    records: int = 0  # records in the batch, for Lambda invocations
    seconds: float = 0.0  # wall time inside the handler, for Lambda invocations

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def breakdown(self) -> dict[str, int]:
        """``{"dynamodb.GetItem": 2, ...}``: stable, readable, and easy to assert."""
        return {
            f"{service}.{operation}": n for (service, operation), n in sorted(self.calls.items())
        }


class CallLog:
    """A botocore ``before-call`` handler that files every API call under the current phase."""

    def __init__(self) -> None:
        self.phases: list[Phase] = []
        self._current: Phase | None = None

    def attach(self, session: boto3.session.Session) -> None:
        """Register on the session; only clients created afterwards see it (botocore copies)."""
        session.events.register("before-call", self._on_call)

    def _on_call(self, model: Any, **_: Any) -> None:
        phase = self._current or self._phase_named(UNATTRIBUTED)
        phase.calls[(model.service_model.service_name, model.name)] += 1

    def _phase_named(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        self.phases.append(Phase(name))
        return self.phases[-1]

    @contextmanager
    def phase(self, name: str, detail: str = "") -> Iterator[Phase]:
        phase = Phase(name, detail)
        self.phases.append(phase)
        previous, self._current = self._current, phase
        try:
            yield phase
        finally:
            self._current = previous


@dataclass(frozen=True)
class FlowReport:
    """Calls of the place -> confirm flow, plus a read and a replayed POST for reference."""

    flow: tuple[Phase, ...]  # POST /orders, then every Lambda invocation the pump made
    read: Phase
    replay: Phase
    unattributed: Phase | None

    def flow_total(self) -> Phase:
        total = Phase("Total: place + confirm one order")
        for phase in self.flow:
            total.calls.update(phase.calls)
        return total


# Chalice event source configs -> what a batch of theirs is, for the report.
_SOURCE_KINDS = {"SQSEventConfig": "SQS", "DynamoDBEventConfig": "stream"}


def counting_module(app_module: ModuleType, log: CallLog) -> ModuleType:
    """The app as the pump sees it, with every event handler's invocation a phase of its own."""
    proxy = ModuleType(f"{app_module.__name__}_counted")
    proxy.app = app_module.app  # type: ignore[attr-defined]
    invocations: Counter[str] = Counter()
    for source in app_module.app.event_sources:
        handler = getattr(app_module, source.name)
        kind = _SOURCE_KINDS.get(source.__class__.__name__, "event")
        setattr(proxy, source.name, _counted(handler, source.name, kind, log, invocations))
    return proxy


def _counted(
    handler: Callable[..., Any],
    name: str,
    kind: str,
    log: CallLog,
    invocations: Counter[str],
) -> Callable[[dict[str, Any], Any], Any]:
    def invoke(event: dict[str, Any], context: Any) -> Any:
        invocations[name] += 1
        records = len(event.get("Records", [event]))
        detail = f"{kind} batch of {records} record{'' if records == 1 else 's'}"
        with log.phase(f"{name} #{invocations[name]}", detail) as phase:
            phase.records = records
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                phase.seconds = time.perf_counter() - started

    return invoke


@contextmanager
def offline_aws() -> Iterator[None]:
    """moto, fake credentials and no endpoint override, all undone on exit."""
    with mock.patch.dict(os.environ), mock_aws():
        offline.use_offline_environment()
        reset_process_state()
        try:
            yield
        finally:
            reset_process_state()


def measure() -> FlowReport:
    """Deploy, seed, then place one order, let the pump confirm it, read it, and replay the POST."""
    with offline_aws():
        from chalice.test import Client  # after the environment is set: the logger reads it

        import app as app_module

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's, never counted
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        outputs, queues = deployment.outputs, deployment.queues
        reset_process_state()  # counting starts with no client, as in a fresh Lambda
        log = CallLog()
        log.attach(aws.session())
        pump = EventPump(counting_module(app_module, log), infra, queues, outputs["TableStreamArn"])
        with Client(app_module.app, stage_name="dev", project_dir=str(REPO_ROOT)) as client:
            return _run_flow(client, pump, log)


@contextmanager
def quiet_moto() -> Iterator[None]:
    """Without moto's notes on what its CloudFormation skips (alarms, policies): known, noise."""
    moto_logger = logging.getLogger("moto")
    previous = moto_logger.level
    moto_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
            yield
    finally:
        moto_logger.setLevel(previous)


def _run_flow(client: Any, pump: EventPump, log: CallLog) -> FlowReport:
    body, key = order_body(), str(uuid.uuid4())
    with log.phase("POST /orders"):
        placed = post_order(client, body, idempotency_key=key)
    _expect(placed.status_code == 201, f"POST /orders answered {placed.status_code}")
    order = json.loads(placed.body)
    pump.drain()
    flow = tuple(phase for phase in log.phases if phase.name != UNATTRIBUTED)
    with log.phase("GET /orders/{id}") as read:
        got = client.http.get(f"/orders/{order['id']}", headers={"X-Api-Key": offline.PARTNER_KEY})
    _expect(json.loads(got.body).get("status") == "confirmed", f"order not confirmed: {got.body}")
    with log.phase("POST /orders (replay)", "same Idempotency-Key and body") as replay:
        again = post_order(client, body, idempotency_key=key)
    _expect(json.loads(again.body) == order, "the replay did not answer the first order")
    unattributed = next((p for p in log.phases if p.name == UNATTRIBUTED), None)
    return FlowReport(flow=flow, read=read, replay=replay, unattributed=unattributed)


def _expect(condition: bool, message: str) -> None:
    """A count of a broken flow is no figure: stop rather than report it."""
    if not condition:
        raise RuntimeError(message)


# --- output -------------------------------------------------------------------------------------


def table(report: FlowReport) -> str:
    """Markdown table: calls per phase with the service/operation breakdown, then the total."""
    lines = ["| Phase | Calls | By service.operation |", "|---|---:|---|"]
    lines += [_row(phase) for phase in report.flow]
    lines.append(_row(report.flow_total(), bold=True))
    lines += [_row(report.read), _row(report.replay)]
    if report.unattributed:
        lines.append(_row(report.unattributed))
    return "\n".join(lines)


def _row(phase: Phase, *, bold: bool = False) -> str:
    label = f"{phase.name} ({phase.detail})" if phase.detail else phase.name
    total = str(phase.total)
    if bold:
        label, total = f"**{label}**", f"**{total}**"
    breakdown = ", ".join(f"{op} {n}" for op, n in phase.breakdown().items()) or "-"
    return f"| {label} | {total} | {breakdown} |"


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
