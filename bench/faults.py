"""Fault injection: every AWS call site fails in turn, and the final state must not change.

A call SITE is (service.operation, the innermost frame in shared/ or functions/ that made the
call, the use case: the outermost frame in functions/ or, for what a route does before its use
case, the route's frame in app.py), each frame as file:line. Every transaction goes through one
line of shared/store/table.py: the use case tells one use case's writes from another's. The
injector hooks botocore on the app's one session (``shared.adapters.aws.session()``) and gives
each site its fault the first K times it is reached (K=1 by default), then lets it pass (``only``
narrows it to some sites: (service.operation, a frame of the site as file:line or file)). Three
modes:

* ``throttle``: ``before-call`` raises ``ThrottlingException`` (DynamoDB:
  ``ProvisionedThroughputExceededException``), as when botocore's retries are exhausted; nothing
  was written.
* ``timeout-after-write``: ``after-call`` raises ``ReadTimeoutError``; the call went through, the
  caller thinks it failed.
* ``crash``: ``after-call`` raises :class:`Crash` (a ``BaseException``: the Lambda timed out or ran
  out of memory right after the call went through); nothing in the app may catch it. After-call
  is the harder choice: the write happened and nothing after it ran.

Failures are retried as AWS and partners retry them: the pump redelivers a failed SQS batch or
stream batch (a crash fails the whole invocation), the partner repeats a failed request with the
same Idempotency-Key and body, the scheduler fires a failed run again. After a crash the
idempotency record stays INPROGRESS until the Lambda's timeout has passed; the injector moves the
clock Powertools reads past it, as the wait would on AWS.

:class:`ChaoticPump` delivers every SQS message twice (the second time in a later batch), shuffles
batches and queue order (seeded), and hands every stream batch to the publisher twice (so every
EventBridge event is published twice).

``measure()`` runs a small order-to-cash scenario fault-free, then once per mode with every site
faulted in turn, and compares each run's business-state digest with the fault-free one.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import logging
import os
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType, ModuleType, SimpleNamespace
from typing import Any

import boto3
from botocore.exceptions import ClientError, ReadTimeoutError

from infra.local.pump import EventPump, LambdaContext, _Consumer

REPO_ROOT = Path(__file__).resolve().parents[1]
_APP_DIRS = tuple(str(REPO_ROOT / name) + os.sep for name in ("shared", "functions"))
_USE_CASES = str(REPO_ROOT / "functions") + os.sep
_ROUTES = str(REPO_ROOT / "app.py")
OUTSIDE = "(outside shared/ and functions/)"
MODES = ("throttle", "timeout-after-write", "crash")
LAMBDA_TIMEOUT = timedelta(minutes=15, seconds=1)  # the longest a Lambda runs, and a second
# A crashed message comes back after the queue's visibility timeout (infra: 360 s), and a second.
REDELIVERY_DELAY = timedelta(minutes=6, seconds=1)

# ("dynamodb.TransactWriteItems", "shared/store/table.py:171", "functions/orders/place_order.py:36")
Site = tuple[str, str, str]
Target = tuple[str, str]  # (service.operation, a frame of the site: file:line or file)

# Sites left out of a mode, each with the reason printed next to the figures (never silently).
_SES_AT_LEAST_ONCE = (
    "SES has no idempotency token: when the send went through and the caller cannot know it "
    "(a timeout after it, a crash before the claim is marked sent), the retry sends the e-mail "
    "a second time - the window functions/notifications/notify_customer.py documents and "
    "accepts over losing the e-mail"
)
EXCLUDED: dict[tuple[str, str], str] = {
    ("timeout-after-write", "sesv2.SendEmail"): _SES_AT_LEAST_ONCE,
    ("crash", "sesv2.SendEmail"): _SES_AT_LEAST_ONCE,
}
_log = logging.getLogger(__name__)


class Crash(BaseException):
    """The worker died (Lambda timeout or out of memory): nothing in the app may catch it."""


class WorkerCrashed(Exception):
    """What the event source mapping sees when an invocation crashed: the batch failed."""


# --- the injector -------------------------------------------------------------------------------


class FaultInjector:
    """Botocore hooks on the app's session: records every call site; faults each one in turn.

    ``mode=None`` only records the sites (the fault-free run). ``times`` is K: how often a site
    fails before it passes. ``only``: fault these sites and no other (default: every site).
    Implements the simulation's harness (``attach``, ``make_pump``, ``request_failed``).
    """

    def __init__(
        self,
        mode: str | None = None,
        *,
        times: int = 1,
        only: set[Target] | None = None,
        seed: int = 0,
        chaotic: bool = True,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.times = times
        self.only = only
        self.seed = seed
        self.chaotic = chaotic
        self.reached: Counter[Site] = Counter()
        self.injected: Counter[Site] = Counter()
        self.enabled = True
        self._faults: list[BaseException] = []
        self._clock_offset = timedelta(0)  # Powertools' clock (real time)
        self.app_clock_offset = timedelta(0)  # shared.clock's, moved on every fault
        self._restore: list[tuple[Any, str, Any]] = []

    # --- the harness ------------------------------------------------------------------------

    def attach(self) -> None:
        """Register on ``shared.adapters.aws.session()``: call before the app creates a client."""
        from shared.adapters import aws

        events = aws.session().events
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        self._shift_idempotency_clock()
        self._shift_app_clock()

    def detach(self) -> None:
        from shared.adapters import aws

        events = aws.session().events
        events.unregister("before-call", self._before_call)
        events.unregister("after-call", self._after_call)
        for owner, name, value in reversed(self._restore):
            setattr(owner, name, value)
        self._restore.clear()

    def make_pump(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queues: dict[str, str],
        stream_arn: str,
    ) -> EventPump:
        if not self.chaotic:
            return EventPump(surviving_crashes(app_module), session, queues, stream_arn)
        return ChaoticPump(app_module, session, queues, stream_arn, seed=self.seed)

    def request_failed(self, error: BaseException) -> bool:
        """True when ``error`` is (or was caused by) a fault this injector raised: retry."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            if any(current is fault for fault in self._faults):
                return True
            seen.add(id(current))
            current = current.__cause__ or current.__context__
        return False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No fault and no counting meanwhile (reading the final state)."""
        self.enabled = False
        try:
            yield
        finally:
            self.enabled = True

    # --- figures ----------------------------------------------------------------------------

    @property
    def sites(self) -> set[Site]:
        return set(self.reached)

    @property
    def faults_injected(self) -> int:
        return sum(self.injected.values())

    # --- hooks ------------------------------------------------------------------------------

    def _before_call(self, model: Any, **_: Any) -> None:
        if not self.enabled:
            return
        site = call_site(model)
        self.reached[site] += 1
        if self.mode == "throttle" and self._due(site):
            service = model.service_model.service_name
            code = (
                "ProvisionedThroughputExceededException"
                if service == "dynamodb"
                else "ThrottlingException"
            )
            message = f"Rate exceeded (injected at {describe(site)})"
            self._raise(
                site, ClientError({"Error": {"Code": code, "Message": message}}, model.name)
            )

    def _after_call(self, model: Any, **_: Any) -> None:
        if not self.enabled or self.mode not in ("timeout-after-write", "crash"):
            return
        site = call_site(model)
        if not self._due(site):
            return
        if self.mode == "crash":
            self._raise(site, Crash(f"worker crashed after {describe(site)}"))
        endpoint = f"https://{model.service_model.endpoint_prefix}.amazonaws.com"
        self._raise(site, ReadTimeoutError(endpoint_url=endpoint))

    def excluded(self, site: Site) -> str | None:
        """Why this mode leaves ``site`` alone, or ``None`` when it faults it."""
        return EXCLUDED.get((self.mode or "", site[0]))

    def _due(self, site: Site) -> bool:
        if self.only is not None and not self.only & targets(site):
            return False
        if self.only is None and self.excluded(site):
            return False
        return self.injected[site] < self.times

    def _raise(self, site: Site, fault: BaseException) -> None:
        # The retry comes after the Lambda's timeout: an INPROGRESS idempotency record the
        # failed attempt could not delete (or a crash left) no longer holds it back.
        self._clock_offset += LAMBDA_TIMEOUT
        # What the failed attempt left (an e-mail claim and its lease) meets a retry that comes
        # after the queue's visibility timeout, as on AWS (the pump redelivers at once).
        self.app_clock_offset += REDELIVERY_DELAY
        self.injected[site] += 1
        self._faults.append(fault)
        raise fault

    def _shift_idempotency_clock(self) -> None:
        """Powertools reads ``datetime.now()`` for INPROGRESS expiry: give it the shifted clock."""
        from aws_lambda_powertools.utilities.idempotency.persistence import base, dynamodb

        injector = self

        class Shifted(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> Shifted:
                moment = dt.datetime.now(tz) + injector._clock_offset
                return cls.fromtimestamp(moment.timestamp(), tz)

        shim = SimpleNamespace(datetime=Shifted, timedelta=dt.timedelta)
        for module in (base, dynamodb):
            self._restore.append((module, "dt", module.dt))
            module.dt = shim  # type: ignore[attr-defined]

    def _shift_app_clock(self) -> None:
        """``shared.clock.now()`` plus the time crashes cost (whatever clock a run sets)."""
        from shared import clock

        original = clock.now
        self._restore.append((clock, "now", original))
        clock.now = lambda: original() + self.app_clock_offset


def call_site(model: Any) -> Site:
    """(service.operation, the innermost shared/ or functions/ frame, the use case's frame)."""
    operation = f"{model.service_model.service_name}.{model.name}"
    innermost = use_case = route = None
    in_routes = False  # in the innermost run of app.py frames: the route's, then its helpers'
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if innermost is None and filename.startswith(_APP_DIRS):
            innermost = frame
        if filename.startswith(_USE_CASES):
            use_case = frame  # the last one met is the outermost
        elif filename == _ROUTES and (in_routes or route is None):
            route, in_routes = frame, True  # the route's frame, for calls before its use case
        else:
            in_routes = False
        frame = frame.f_back
    if innermost is None:
        return operation, OUTSIDE, OUTSIDE
    return operation, _where(innermost), _where(use_case or route or innermost)


def _where(frame: FrameType) -> str:
    return f"{Path(frame.f_code.co_filename).relative_to(REPO_ROOT)}:{frame.f_lineno}"


def targets(site: Site) -> set[Target]:
    """What ``only`` may name to pick ``site``: either frame, as file:line or as file."""
    operation, innermost, use_case = site
    frames = {innermost, use_case}
    return {(operation, where) for where in frames | {f.rpartition(":")[0] for f in frames}}


def describe(site: Site) -> str:
    operation, innermost, use_case = site
    return f"{operation} {innermost}" + ("" if use_case == innermost else f" ({use_case})")


# --- the pump ------------------------------------------------------------------------------------


def surviving_crashes(app_module: ModuleType) -> ModuleType:
    """The app as the pump sees it, where a crashed invocation is a failed batch (Lambda's view)."""
    proxy = ModuleType(f"{app_module.__name__}_crashing")
    proxy.app = app_module.app  # type: ignore[attr-defined]
    for source in app_module.app.event_sources:
        setattr(proxy, source.name, _crash_is_failure(getattr(app_module, source.name)))
    return proxy


def _crash_is_failure(handler: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        except Crash as crash:
            raise WorkerCrashed(str(crash)) from None

    return invoke


@dataclass
class _Redelivery:
    event: dict[str, Any]  # a stream batch, or one SQS record
    attempts: int = 0


class ChaoticPump(EventPump):
    """Every message twice, in shuffled batches and queue order; every stream batch twice."""

    MAX_REDELIVERIES = 5  # a duplicate that keeps failing is given up (and counted)

    def __init__(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queue_urls: dict[str, str],
        stream_arn: str,
        *,
        seed: int = 0,
        retry_delay_seconds: int = 0,
    ) -> None:
        super().__init__(
            surviving_crashes(app_module),
            session,
            queue_urls,
            stream_arn,
            retry_delay_seconds=retry_delay_seconds,
        )
        self._random = random.Random(seed)
        self._duplicated: set[str] = set()
        self._pending: dict[str, list[_Redelivery]] = {c.name: [] for c in self._consumers}
        self._stream_replays: list[_Redelivery] = []
        self.duplicates_delivered = 0
        self.stream_batches_replayed = 0
        self.given_up: list[str] = []
        if self._publisher is not None:
            self._publish_once = self._publisher
            self._publisher = self._publish_and_remember

    def drain(self, max_rounds: int = 300) -> int:
        return super().drain(max_rounds)

    def pump_once(self) -> int:
        moved = self.pump_stream()
        consumers = list(self._consumers)
        self._random.shuffle(consumers)
        return moved + sum(self.pump_queue(consumer) for consumer in consumers)

    # --- the stream: every batch handed over twice --------------------------------------------

    def _publish_and_remember(self, event: dict[str, Any], context: Any) -> Any:
        result = self._publish_once(event, context) or {}
        if not result.get("batchItemFailures"):
            self._stream_replays.append(_Redelivery(copy.deepcopy(event)))
        return result

    def pump_stream(self) -> int:
        replays, self._stream_replays = self._stream_replays, []
        moved = 0
        for replay in replays:
            moved += len(replay.event["Records"])
            try:
                result = self._publish_once(copy.deepcopy(replay.event), self._context()) or {}
                failed = bool(result.get("batchItemFailures"))
            except Exception:
                failed = True
            if failed:
                self._again(replay, self._stream_replays, "stream batch")
            else:
                self.stream_batches_replayed += 1
        return moved + super().pump_stream()

    # --- the queues: shuffled batches, every message a second time later ---------------------

    def pump_queue(self, consumer: _Consumer) -> int:
        limit = min(consumer.batch_size, 10)
        answer = self._sqs.receive_message(
            QueueUrl=consumer.queue_url,
            MaxNumberOfMessages=limit,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        pending = self._pending[consumer.name]
        room = max(0, consumer.batch_size - len(messages))
        duplicates, self._pending[consumer.name] = pending[:room], pending[room:]
        if not messages and not duplicates:
            return 0
        fresh = [self._sqs_record(message, consumer.queue_arn) for message in messages]
        records = fresh + [duplicate.event for duplicate in duplicates]
        self._random.shuffle(records)
        try:
            result = consumer.handler({"Records": records}, LambdaContext(consumer.name)) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as Lambda would see it
            _log.info("%s failed on a batch of %d messages", consumer.name, len(records))
            failed = {record["messageId"] for record in records}
        self._settle(consumer, messages, failed)
        for duplicate in duplicates:
            if duplicate.event["messageId"] in failed:
                self._again(duplicate, self._pending[consumer.name], consumer.name)
            else:
                self.duplicates_delivered += 1
        for record in fresh:
            if record["messageId"] not in failed and record["messageId"] not in self._duplicated:
                self._duplicated.add(record["messageId"])
                twin = copy.deepcopy(record)
                twin["receiptHandle"] = f"duplicate-{uuid.uuid4()}"
                self._pending[consumer.name].append(_Redelivery(twin))
        return len(records)

    def _settle(
        self, consumer: _Consumer, messages: Sequence[Mapping[str, Any]], failed: set[str]
    ) -> None:
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=consumer.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=consumer.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay,
                )

    def _again(self, redelivery: _Redelivery, pending: list[_Redelivery], where: str) -> None:
        redelivery.attempts += 1
        if redelivery.attempts < self.MAX_REDELIVERIES:
            pending.append(redelivery)
        else:
            self.given_up.append(where)

    def _context(self) -> LambdaContext:
        return LambdaContext("publish_events")

    @property
    def quiet(self) -> bool:
        return not self._stream_replays and not any(self._pending.values())


# --- the scenario -------------------------------------------------------------------------------

ISSUED = date(2026, 11, 2)
CUSTOMER = "cus_acme"
PURCHASE_ORDER = "PO-FAULTS-1"
STRIPE_EVENT = "evt_1FaultsPaid0001"
STRIPE_INTENT = "pi_3FaultsPaid0001"
CHEQUE = "0001042"


class ScenarioFailed(RuntimeError):
    """A step did not get the answer it needs (the run cannot go on)."""


@dataclass
class Run:
    """One scenario run: its digest, and what the harness saw."""

    digest: dict[str, Any]
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    reached: Counter[Site] = field(default_factory=Counter)
    injected: Counter[Site] = field(default_factory=Counter)
    duplicates_delivered: int = 0
    stream_batches_replayed: int = 0
    given_up: list[str] = field(default_factory=list)


class _Partner:
    """Every request as a partner or gateway makes it: a 5xx or an injected crash is retried."""

    def __init__(self, client: Any, injector: FaultInjector, retries: int) -> None:
        self.client, self.injector, self.retries = client, injector, retries
        self.requests = self.retried = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        signed: Callable[[], dict[str, str]] | None = None,
    ) -> tuple[int, Any]:
        """``signed``: headers made afresh for every attempt (a gateway signs each delivery)."""
        from infra.local.offline import ADMIN_KEY

        sent = {"Content-Type": "application/json", "X-Api-Key": ADMIN_KEY} | (headers or {})
        raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        for attempt in range(self.retries + 1):
            if signed is not None:
                sent |= signed()
            self.requests += 1
            self.retried += attempt > 0
            try:
                response = getattr(self.client.http, method.lower())(path, headers=sent, body=raw)
            except BaseException as error:
                if attempt < self.retries and self.injector.request_failed(error):
                    continue
                raise
            if response.status_code >= 500 and attempt < self.retries:
                continue
            return response.status_code, json.loads(response.body) if response.body else None
        raise AssertionError("unreachable")

    def expect(self, status: int, method: str, path: str, **kwargs: Any) -> Any:
        got, body = self.request(method, path, **kwargs)
        if got != status:
            raise ScenarioFailed(f"{method} {path} answered {got}, not {status}: {body}")
        return body

    def scheduled(self, run: Callable[[], Any]) -> Any:
        """A scheduled invocation: the scheduler fires it again when it fails."""
        for attempt in range(self.retries + 1):
            try:
                return run()
            except BaseException as error:
                if attempt < self.retries and self.injector.request_failed(error):
                    continue
                raise
        raise AssertionError("unreachable")


def run_scenario(injector: FaultInjector | None = None, *, retries: int = 30) -> Run:
    """``retries``: how often a request or scheduled run is repeated (each of its sites fails once).

    Order -> two partial shipments -> two invoices e-mailed -> one paid by Stripe webhook; the
    other partly credited (a credit note) and partly paid by cheque -> collection runs for its
    rest (a friendly reminder, then a second notice with fee and interest). Every request
    through a retrying partner; every worker through the pump."""
    from bench.aws_calls import offline_aws, quiet_moto

    injector = injector or FaultInjector()
    started = time.perf_counter()
    with offline_aws(), _quiet_logs():
        from chalice.test import Client

        import app as app_module
        from infra.local import stack
        from infra.local.offline import deploy_and_seed, reset_process_state
        from shared import clock

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's: never faulted
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        reset_process_state()
        injector.attach()
        pump = injector.make_pump(
            app_module, infra, deployment.queues, deployment.outputs["TableStreamArn"]
        )
        try:
            with Client(app_module.app, stage_name="dev", project_dir=str(REPO_ROOT)) as client:
                partner = _Partner(client, injector, retries)
                _steps(partner, pump, infra, deployment.outputs["TableName"])
                with injector.paused():
                    digest = business_digest(
                        infra, deployment.outputs["TableName"], deployment.queues
                    )
        finally:
            clock.set_clock(None)
            injector.detach()
    run = Run(
        digest=digest,
        requests=partner.requests,
        retries=partner.retried,
        seconds=time.perf_counter() - started,
        reached=Counter(injector.reached),
        injected=Counter(injector.injected),
    )
    if isinstance(pump, ChaoticPump):
        run.duplicates_delivered = pump.duplicates_delivered
        run.stream_batches_replayed = pump.stream_batches_replayed
        run.given_up = list(pump.given_up)
    return run


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """Without the app's INFO lines and the pump's notes on failed batches (hundreds per run)."""
    loggers = [logging.getLogger(name) for name in ("otc", "infra.local.pump", __name__)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)  # injected faults log errors by the hundred
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # single metrics print their EMF lines
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _at(day: date) -> None:
    from shared import clock

    moment = datetime.combine(day, dt.time(6), UTC)
    clock.set_clock(lambda: moment)


def _steps(partner: _Partner, pump: EventPump, infra: boto3.session.Session, table: str) -> None:
    from functions.collections.run import start_run
    from tests.functional.payment_intake import payment_intent, stripe_event, stripe_signature

    _at(ISSUED)
    order_body = {
        "customer_id": CUSTOMER,
        "currency": "EUR",
        "purchase_order": PURCHASE_ORDER,
        "lines": [
            {"sku": "WIDGET-1", "quantity": 3, "unit_price": "19.99"},
            {"sku": "GADGET-2", "quantity": 1, "unit_price": "0.125"},
        ],
    }
    order = partner.expect(
        201, "POST", "/orders", body=order_body, headers={"Idempotency-Key": "faults-order-1"}
    )
    pump.drain()
    for n, lines in enumerate(([(1, 2)], [(1, 1), (2, 1)]), start=1):
        shipment = {
            "carrier": "DHL",
            "tracking_number": f"JD000000{n}",
            "lines": [{"line_no": line, "quantity": quantity} for line, quantity in lines],
        }
        partner.expect(
            201,
            "POST",
            f"/orders/{order['id']}/shipments",
            body=shipment,
            headers={"Idempotency-Key": f"faults-ship-{n}"},
        )
        pump.drain()
    first, second = _invoices(infra, table)
    metadata = {"invoice_number": first["number"], "customer_id": CUSTOMER}
    cents = int(Decimal(first["total"]["amount"]) * 100)
    intent = payment_intent(intent_id=STRIPE_INTENT, amount=cents, metadata=metadata)
    body = stripe_event("payment_intent.succeeded", intent, event_id=STRIPE_EVENT)
    from shared import clock

    def signed() -> dict[str, str]:  # Stripe signs every delivery attempt when it sends it
        return {"Stripe-Signature": stripe_signature(body, timestamp=int(clock.now().timestamp()))}

    partner.expect(
        200,
        "POST",
        "/webhooks/stripe",
        body=body,
        headers={"User-Agent": "Stripe/1.0"},
        signed=signed,
    )
    pump.drain()
    # The second invoice: its gadget credited, then a cheque pays part of the rest
    [gadget] = [line for line in second["lines"] if line["sku"] == "GADGET-2"]
    partner.expect(
        201,
        "POST",
        f"/invoices/{second['id']}/credit-notes",
        body={
            "reason": "gadget damaged",
            "lines": [{"line_no": gadget["line_no"], "quantity": "1"}],
        },
        headers={"Idempotency-Key": "faults-credit-1"},
    )
    pump.drain()
    cheque = {
        "amount": "10.00",
        "currency": "EUR",
        "method": "cheque",
        "received_on": ISSUED.isoformat(),
        "payer_name": "ACME Retail GmbH",
        "reference": CHEQUE,
        "remittance": second["number"],
        "customer_id": CUSTOMER,
    }
    partner.expect(
        201, "POST", "/payments", body=cheque, headers={"Idempotency-Key": "faults-cheque-1"}
    )
    pump.drain()
    due = date.fromisoformat(second["due_on"])
    for offset in (-5, 14):
        day = due + timedelta(days=offset)
        _at(day)
        partner.scheduled(lambda day=day: start_run(day))  # type: ignore[misc]
        pump.drain()


def _scan(infra: boto3.session.Session, table: str) -> list[dict[str, Any]]:
    from shared.store.table import from_dynamo

    pages = infra.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [from_dynamo(item) for page in pages for item in page["Items"]]


def _invoices(infra: boto3.session.Session, table: str) -> list[dict[str, Any]]:
    """The scenario's invoices (wire form), in the order they were issued."""
    found = [
        json.loads(item["document"])
        for item in _scan(infra, table)
        if item.get("entity") == "Invoice" and "document" in item and item.get("kind") == "invoice"
    ]
    if len(found) != 2:
        raise ScenarioFailed(f"expected two invoices, found {len(found)}")
    return sorted(found, key=lambda invoice: invoice["number"])


# --- the digest ----------------------------------------------------------------------------------


def business_digest(
    infra: boto3.session.Session, table: str, queues: dict[str, str]
) -> dict[str, Any]:
    """The final business state by business references (never by generated ids)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from shared.domain import ledger as ledger_domain
    from shared.store import ledger as ledger_store

    items = _scan(infra, table)
    digest_orders: dict[str, list[dict[str, Any]]] = {}  # a purchase order placed twice: two
    for item in sorted(
        (item for item in items if item.get("entity") == "Order"), key=lambda i: i["created_at"]
    ):
        digest_orders.setdefault(item["purchase_order"], []).append(
            {
                "status": item["status"],
                "shipped": {str(line["line_no"]): int(line["shipped"]) for line in item["lines"]},
            }
        )
    documents = sorted(
        (
            json.loads(item["document"])
            for item in items
            if item.get("entity") == "Invoice" and "document" in item
        ),
        key=lambda document: document["number"],
    )
    refs: dict[str, str] = {}  # generated id or number -> business reference
    ordinals: Counter[str] = Counter()
    digest_invoices = {}
    for document in documents:
        order_ref = f"{document.get('purchase_order')}/{document['kind']}"
        ordinals[order_ref] += 1
        ref = f"{order_ref}#{ordinals[order_ref]}"
        refs[document["id"]] = refs[document["number"]] = ref
        digest_invoices[ref] = {
            "number": document["number"],
            "status": document["status"],
            "total": document["total"]["amount"],
            "amount_due": (document.get("amount_due") or {}).get("amount"),
        }
    payments = [
        json.loads(item["document"])
        for item in items
        if item.get("entity") == "Payment" and "document" in item
    ]
    digest_payments = {}
    for payment in payments:
        ref = str(payment.get("external_id") or payment.get("reference") or payment["id"])
        refs[payment["id"]] = ref
        digest_payments[ref] = {
            "status": payment["status"],
            "amount": payment["amount"]["amount"],
            "unapplied": (payment.get("unapplied") or {}).get("amount"),
        }
    entries = ledger_store.entries_for(CUSTOMER)
    balances = {
        str(account): str(amount) for account, amount in ledger_domain.balances(entries).items()
    }
    entry_kinds = Counter(f"{entry.kind}:{_business(entry.source_id, refs)}" for entry in entries)
    sent: Counter[str] = Counter()
    for message in ses_backends[DEFAULT_ACCOUNT_ID][stack_region()].sent_messages:
        sent[_mail(message, refs)] += 1
    depths = {name: _depth(infra, url) for name, url in sorted(queues.items())}
    return {
        "orders": digest_orders,
        "invoices": digest_invoices,
        "payments": digest_payments,
        "ledger": {"balances": balances, "entries": dict(sorted(entry_kinds.items()))},
        "emails": dict(sorted(sent.items())),
        "queues": {name: depth for name, depth in depths.items() if depth},
    }


def stack_region() -> str:
    from infra.local import stack

    return stack.REGION


_GENERATED = re.compile(r"\b([a-z]{2,4})_[0-9A-Za-z]{20,}\b")


def _business(text: str, refs: dict[str, str]) -> str:
    """``text`` with generated ids and numbers replaced by business references (or a kind)."""
    for generated, ref in refs.items():
        text = text.replace(generated, ref)
    return _GENERATED.sub(lambda match: f"{match.group(1)}_*", text)


def _mail(message: Any, refs: dict[str, str]) -> str:
    import email

    if hasattr(message, "raw_data"):
        parsed = email.message_from_string(message.raw_data)
        recipient, subject = str(parsed["To"]), str(parsed["Subject"])
    else:
        recipient, subject = ",".join(message.destinations["ToAddresses"]), message.subject
    return f"{recipient}|{_business(subject, refs)}"


def _depth(infra: boto3.session.Session, url: str) -> int:
    attributes = infra.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeResult:
    mode: str
    sites: int  # the denominator: sites of the fault-free run this mode faults
    injected: int  # faults raised (error-path sites included)
    survived: int  # of the denominator's sites, faulted with the final state unchanged
    error_paths: list[str]  # sites only this run reached (error paths, replays)
    excluded: dict[str, list[str]]  # reason -> sites left out
    differences: list[str]  # parts of the digest that differ from the fault-free run
    retries: int
    duplicates_delivered: int
    stream_batches_replayed: int
    seconds: float

    @property
    def equal(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Report:
    baseline_sites: int
    baseline_seconds: float
    modes: tuple[ModeResult, ...]


def measure(modes: tuple[str, ...] = MODES, *, times: int = 1, seed: int = 0) -> Report:
    """The fault-free run, then one run per mode with every site faulted in turn (ChaoticPump)."""
    baseline = run_scenario(FaultInjector(None, chaotic=False))  # plain pump, no fault
    results = []
    for mode in (None, *modes):  # None: duplicates and shuffling alone
        injector = FaultInjector(mode, times=times, seed=seed)
        run = run_scenario(injector)
        excluded: dict[str, list[str]] = {}
        for site in sorted(baseline.reached):
            if reason := injector.excluded(site):
                excluded.setdefault(reason, []).append(describe(site))
        denominator = {
            site for site in baseline.reached if mode is not None and not injector.excluded(site)
        }
        differences = [
            part for part in baseline.digest if baseline.digest[part] != run.digest.get(part)
        ]
        faulted = {site for site in denominator if run.injected[site]}
        results.append(
            ModeResult(
                mode=mode or "duplicate + shuffle only",
                sites=len(denominator),
                injected=sum(run.injected.values()),
                survived=0 if differences else len(faulted),
                error_paths=[describe(s) for s in sorted(set(run.reached) - set(baseline.reached))],
                excluded=excluded,
                differences=differences,
                retries=run.retries,
                duplicates_delivered=run.duplicates_delivered,
                stream_batches_replayed=run.stream_batches_replayed,
                seconds=run.seconds,
            )
        )
    return Report(len(baseline.reached), baseline.seconds, tuple(results))


def table(report: Report) -> str:
    """Markdown: faults injected and survived per mode, then every exclusion and its reason."""
    lines = [
        "| Mode | Sites | Faults injected | Survived | Error-path sites | Retries "
        "| Duplicate deliveries | Stream batches replayed | Final state | Seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for mode in report.modes:
        state = "equal" if mode.equal else "differs: " + ", ".join(mode.differences)
        lines.append(
            f"| {mode.mode} | {mode.sites} | {mode.injected} | {mode.survived}/{mode.sites} "
            f"| {len(mode.error_paths)} | {mode.retries} | {mode.duplicates_delivered} "
            f"| {mode.stream_batches_replayed} | {state} | {mode.seconds:.1f} |"
        )
    lines.append("")
    lines.append(
        f"Fault-free run: {report.baseline_sites} call sites (service.operation, innermost "
        f"shared/ or functions/ frame, use case's frame), {report.baseline_seconds:.1f} s."
    )
    for mode in report.modes:
        for reason, sites in mode.excluded.items():
            lines.append(f"Excluded from {mode.mode}: {', '.join(sites)} - {reason}.")
        if mode.error_paths:
            lines.append(
                f"Reached in the {mode.mode} run only (error paths and replays; faulted "
                f"like any site unless excluded, not in the denominator): "
                f"{', '.join(mode.error_paths)}."
            )
    return "\n".join(lines)


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
