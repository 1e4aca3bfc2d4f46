"""Fault injection: every AWS call site fails in turn, and the final state must not change.

A call SITE is (service.operation, the innermost frame in shared/ or functions/ that made the
call, the use case: the outermost frame in functions/ outside the entry modules or, for what a
route does before its use case, the route's frame: its handler in functions/<context>/routes.py
(or a trigger's in triggers.py, or app.py), else the route wrapper's in shared/http/routing.py),
each frame as file:line. Every transaction goes through one
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
same Idempotency-Key and body (the simulation's one retrying ``request``). After a crash the
idempotency record stays INPROGRESS until the Lambda's timeout has passed; the injector moves the
clock Powertools reads past it, as the wait would on AWS. What a failed attempt left (an e-mail
claim and its lease) meets a retry that comes after the queue's visibility timeout: every fault
costs that much time, which ``elapsed()`` reports; the simulation adds it to the moment of the
day it sets ``shared.clock`` to, and a caller that does not own the clock lets the injector shift
``shared.clock.now`` itself.

:class:`ChaoticPump` (bench/fault_pump.py) delivers every SQS message twice (the second time in a
later batch), shuffles batches and queue order (seeded), and hands every stream batch to the
publisher twice (so every EventBridge event is published twice).

``measure()`` plays a seeded plan of business (bench/simulation_plan.py) fault-free with
``bench.simulation.simulate``, then once more per mode with every site faulted in turn and the
chaotic pump, and compares each run's business-state digest with the fault-free one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType, ModuleType, SimpleNamespace
from typing import Any

import boto3
from botocore.exceptions import ClientError, ReadTimeoutError

from bench.fault_pump import ChaoticPump, Crash, surviving_crashes
from bench.simulation import ATTEMPTS, Outcome, plan, simulate
from bench.simulation_state import differences
from infra.local.pump import EventPump

__all__ = ["MODES", "ChaoticPump", "Crash", "FaultInjector", "ModeResult", "measure", "table"]

REPO_ROOT = Path(__file__).resolve().parents[1]
_APP_DIRS = tuple(str(REPO_ROOT / name) + os.sep for name in ("shared", "functions"))
_USE_CASES = str(REPO_ROOT / "functions") + os.sep
_ROUTES = str(REPO_ROOT / "app.py")
_ENTRY_MODULES = ("routes.py", "triggers.py")  # functions/<context>/: handlers, not use cases
_ROUTING = str(REPO_ROOT / "shared" / "http" / "routing.py")  # the wrapper every route runs in


def _is_handler(filename: str) -> bool:
    """app.py, or a context's routes or triggers: the frames of handlers, not of use cases."""
    in_functions = filename.startswith(_USE_CASES)
    return filename == _ROUTES or (in_functions and os.path.basename(filename) in _ENTRY_MODULES)


OUTSIDE = "(outside shared/ and functions/)"
MODES = ("throttle", "timeout-after-write", "crash")
# The bench's plan: small, but every channel, credit notes, promises, disputes and dunning.
SEED, CUSTOMERS, DAYS, ORDERS_PER_DAY = 8, 8, 12, 4
LAMBDA_TIMEOUT = timedelta(minutes=15, seconds=1)  # the longest a Lambda runs, and a second
# A crashed message comes back after the queue's visibility timeout (infra: 360 s), and a second.
REDELIVERY_DELAY = timedelta(minutes=6, seconds=1)
# Tries of one request when every site it reaches fails once (error paths and replays included).
REQUEST_ATTEMPTS = 60

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
        self.attempts = ATTEMPTS if mode is None else REQUEST_ATTEMPTS * times
        self.pump: EventPump | None = None
        self.reached: Counter[Site] = Counter()
        self.injected: Counter[Site] = Counter()
        self.enabled = True
        self._faults: list[BaseException] = []
        self._clock_offset = timedelta(0)  # Powertools' clock (real time)
        self.app_clock_offset = timedelta(0)  # shared.clock's, moved on every fault
        self._restore: list[tuple[Any, str, Any]] = []

    # --- the harness ------------------------------------------------------------------------

    def attach(self, *, clock_from_caller: bool = False) -> None:
        """Register on ``shared.adapters.aws.session()``: call before the app creates a client.

        ``clock_from_caller``: the caller sets ``shared.clock`` and adds ``elapsed()`` to it (the
        simulation does, per action); otherwise the injector shifts ``shared.clock.now``."""
        from shared.adapters import aws

        events = aws.session().events
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        self._shift_idempotency_clock()
        if not clock_from_caller:
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
            self.pump = EventPump(surviving_crashes(app_module), session, queues, stream_arn)
        else:
            self.pump = ChaoticPump(app_module, session, queues, stream_arn, seed=self.seed)
        return self.pump

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

    def elapsed(self) -> timedelta:
        """The time the faults so far cost the app's clock (a visibility timeout each)."""
        return self.app_clock_offset

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
    innermost = use_case = route = wrapper = None
    in_routes = False  # in the innermost run of handler frames: the route's, then its helpers'
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        handler = _is_handler(filename)
        if innermost is None and filename.startswith(_APP_DIRS) and not handler:
            innermost = frame
        if handler and (in_routes or route is None):
            route, in_routes = frame, True  # the route's frame, for calls before its use case
        elif filename == _ROUTING:
            wrapper = wrapper or frame  # the route's check of its caller runs before the handler
        elif filename.startswith(_USE_CASES) and not handler:
            use_case = frame  # the last one met is the outermost
        else:
            in_routes = False
        frame = frame.f_back
    if innermost is None:
        return operation, OUTSIDE, OUTSIDE
    return operation, _where(innermost), _where(use_case or route or wrapper or innermost)


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


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeResult:
    mode: str
    sites: int  # the denominator: sites of the fault-free run this mode faults
    reached: int  # sites this run reached
    injected: int  # faults raised (error-path sites included)
    survived: int  # of the denominator's sites, faulted with the final state unchanged
    error_paths: list[str]  # sites only this run reached (error paths, replays)
    excluded: dict[str, list[str]]  # reason -> sites left out
    differences: list[str]  # the first places where the digest differs from the fault-free one
    violations: list[str]  # invariants that did not hold in this run
    retries: int
    duplicates_delivered: int
    stream_batches_replayed: int
    given_up: list[str]
    seconds: float

    @property
    def equal(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Report:
    seed: int
    customers: int
    days: int
    orders_per_day: int
    baseline: Outcome
    baseline_sites: int
    modes: tuple[ModeResult, ...]


def measure(
    seed: int = SEED,
    *,
    customers: int = CUSTOMERS,
    days: int = DAYS,
    orders_per_day: int = ORDERS_PER_DAY,
    modes: tuple[str | None, ...] = (None, *MODES),
    times: int = 1,
) -> Report:
    """The plan fault-free, then once per mode (None: duplicates and shuffling alone) with every
    site faulted in turn and the chaotic pump; each final state compared with the fault-free."""
    month = plan(seed, customers=customers, days=days, orders_per_day=orders_per_day)
    recorder = FaultInjector(None, chaotic=False)  # the plain pump, no fault: sites recorded
    with _quiet_logs():
        baseline = simulate(month, harness=recorder)
    results = []
    for mode in modes:
        injector = FaultInjector(mode, times=times, seed=seed)
        with _quiet_logs():
            outcome = simulate(month, harness=injector)
        results.append(compare(recorder, baseline, injector, outcome))
    return Report(
        seed, customers, days, orders_per_day, baseline, len(recorder.reached), tuple(results)
    )


def compare(
    recorder: FaultInjector, baseline: Outcome, injector: FaultInjector, outcome: Outcome
) -> ModeResult:
    """One faulted run against the fault-free one."""
    excluded: dict[str, list[str]] = {}
    for site in sorted(recorder.reached):
        if reason := injector.excluded(site):
            excluded.setdefault(reason, []).append(describe(site))
    denominator = {
        site
        for site in recorder.reached
        if injector.mode is not None and not injector.excluded(site)
    }
    found = differences(baseline.digest, outcome.digest)
    faulted = {site for site in denominator if injector.injected[site]}
    pump = injector.pump
    chaotic = pump if isinstance(pump, ChaoticPump) else None
    return ModeResult(
        mode=injector.mode or "duplicate + shuffle only",
        sites=len(denominator),
        reached=len(injector.reached),
        injected=injector.faults_injected,
        survived=0 if found or outcome.violations else len(faulted),
        error_paths=[describe(s) for s in sorted(set(injector.reached) - set(recorder.reached))],
        excluded=excluded,
        differences=found,
        violations=list(outcome.violations),
        retries=int(outcome.counts.get("retries", 0)),
        duplicates_delivered=chaotic.duplicates_delivered if chaotic else 0,
        stream_batches_replayed=chaotic.stream_batches_replayed if chaotic else 0,
        given_up=list(chaotic.given_up) if chaotic else [],
        seconds=outcome.seconds,
    )


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """Without the app's error lines and the pump's notes on failed batches (hundreds per run)."""
    loggers = [logging.getLogger(name) for name in ("otc", "infra.local.pump", "bench.fault_pump")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)  # injected faults log errors by the hundred
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def table(report: Report) -> str:
    """Markdown: faults injected and survived per mode, then every exclusion and its reason."""
    baseline = report.baseline
    counts = baseline.counts
    lines = [
        f"Plan: seed {report.seed}, {report.customers} customers, {report.days} days, "
        f"{report.orders_per_day} orders a day (orders {counts.get('orders', 0)}, shipments "
        f"{counts.get('shipments', 0)}, invoices {counts.get('state.invoices', 0)}, payments "
        f"{counts.get('state.payments', 0)}, disputes {counts.get('disputes.opened', 0)}, "
        f"credit notes {counts.get('credit_notes', 0)}, promises {counts.get('promises', 0)}, "
        f"reminders {counts.get('state.reminders', 0)}). Fault-free run: "
        f"{report.baseline_sites} call sites (service.operation, innermost shared/ or "
        f"functions/ frame, use case's frame), {baseline.seconds:.1f} s, "
        f"{len(baseline.violations)} invariants violated.",
        "",
        "| Mode | Sites | Reached | Faults injected | Survived | Error-path sites | Retries "
        "| Duplicate deliveries | Stream batches replayed | Final state | Seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for mode in report.modes:
        state = "equal" if mode.equal else f"differs ({len(mode.differences)}+)"
        if mode.violations:
            state += f", {len(mode.violations)} invariants violated"
        lines.append(
            f"| {mode.mode} | {mode.sites} | {mode.reached} | {mode.injected} "
            f"| {mode.survived}/{mode.sites} | {len(mode.error_paths)} | {mode.retries} "
            f"| {mode.duplicates_delivered} | {mode.stream_batches_replayed} | {state} "
            f"| {mode.seconds:.1f} |"
        )
    lines.append("")
    for mode in report.modes:
        for reason, sites in mode.excluded.items():
            lines.append(f"Excluded from {mode.mode}: {', '.join(sites)} - {reason}.")
        if mode.error_paths:
            lines.append(
                f"Reached in the {mode.mode} run only (error paths and replays; faulted like "
                f"any site unless excluded, not in the denominator): {len(mode.error_paths)}."
            )
        if mode.differences:
            lines.append(f"First differences in the {mode.mode} run:")
            lines += [f"- {difference}" for difference in mode.differences]
        if mode.violations:
            lines.append(f"Invariants violated in the {mode.mode} run:")
            lines += [f"- {violation}" for violation in mode.violations[:10]]
        if mode.given_up:
            lines.append(f"Duplicates given up in the {mode.mode} run: {mode.given_up}.")
    return "\n".join(lines)


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
