"""A month of business, end to end, with the invariants that must hold at the end of it.

``plan`` (bench/simulation_plan.py) draws a month from a seed; ``simulate`` plays it against a
fresh moto world deployed from infra/resources.yaml, as the tests build theirs: every customer,
order, shipment, credit note, promise and payment goes through the HTTP API (the Chalice test
client, driven by bench/simulation_driver.py) and every worker runs from the event pump.

A ``Harness`` plugs faults into a run (``bench.faults.FaultInjector``): it hooks the app's AWS
session, makes the pump, tells the driver's one retrying ``request`` which errors it injected and
how many attempts a request may need, and says how much time its faults have cost (the simulated
clock adds it). ``NoFaults`` is the plain run.

The ``Outcome`` holds a digest of the final business state keyed by business references only
(bench/simulation_state.py), so two runs of one plan - one fault-free, one with faults injected -
compare equal when the system survived the faults; the counts; and the invariants that did not
hold.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from types import ModuleType
from typing import Any, Protocol

import boto3

from bench.aws_calls import CallLog, counting_module, offline_aws, quiet_moto
from bench.simulation_driver import Driver, SimulatedClock
from bench.simulation_lake import LakeCheck, lake_days, lake_differences, take_snapshot
from bench.simulation_plan import Plan, plan
from bench.simulation_state import State, queue_violations
from infra.local import stack
from infra.local.moto_firehose import partitioned_deliveries
from infra.local.moto_transactions import lean_transactions
from infra.local.offline import deploy_and_seed, reset_process_state
from infra.local.pump import EventPump, _Consumer
from shared import clock
from shared.adapters import aws
from shared.observability import logger

__all__ = ["Harness", "NoFaults", "Outcome", "Report", "measure", "plan", "simulate", "table"]

ATTEMPTS = 5  # tries of one request before the caller gives up, when nothing is injected
# Bench defaults: a month, twenty customers, 150 orders. Under moto, in process, an order with
# its shipments, invoices, credit notes, promises, payments and dunning costs about 1.1 s of CPU
# (150 orders: 160 s CPU, 195 s wall on a quiet machine, 230 s on two busy cores); a busy
# machine runs twice as slow, so a larger month would not keep within ten minutes.
# A month of about 500 orders: moto answers a call in ~13 ms in process, so a thousand orders
# take about 20 minutes here (`--orders-per-day 34` for that).
SEED, CUSTOMERS, DAYS, ORDERS_PER_DAY = 8, 30, 30, 17


class Harness(Protocol):
    """What a fault injector plugs into a run (``bench.faults.FaultInjector``)."""

    attempts: int  # how often the driver sends one request before it gives up

    def attach(self, *, clock_from_caller: bool = False) -> None:
        """Called after ``reset_process_state()`` and before the app makes any client.

        ``clock_from_caller``: the caller sets ``shared.clock`` and adds ``elapsed()`` to it."""

    def detach(self) -> None:
        """Undo ``attach`` (called before the final state is read)."""

    def elapsed(self) -> timedelta:
        """The time the faults so far cost: a retry comes after a lease or a timeout."""

    def paused(self) -> AbstractContextManager[None]:
        """No fault meanwhile (reading the final state)."""

    def make_pump(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queues: dict[str, str],
        stream_arn: str,
    ) -> EventPump: ...

    def request_failed(self, error: BaseException) -> bool:
        """True when ``error`` was injected: the caller sends the request again."""


class NoFaults:
    """The fault-free harness: the plain pump, and no error is ever an injected one."""

    attempts = ATTEMPTS

    def attach(self, *, clock_from_caller: bool = False) -> None:
        return None

    def detach(self) -> None:
        return None

    def elapsed(self) -> timedelta:
        return timedelta(0)

    def paused(self) -> AbstractContextManager[None]:
        return nullcontext()

    def make_pump(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queues: dict[str, str],
        stream_arn: str,
    ) -> EventPump:
        return LeanPump(app_module, session, queues, stream_arn)

    def request_failed(self, error: BaseException) -> bool:
        return False


class LeanPump(EventPump):
    """The event pump, without a ReceiveMessage on a queue that holds no visible message."""

    def pump_queue(self, consumer: _Consumer) -> int:
        if not has_visible_messages(consumer.queue_url):
            return 0
        return super().pump_queue(consumer)


def has_visible_messages(queue_url: str) -> bool:
    """Whether ReceiveMessage on moto's queue would return a message, read in process (the pump
    polls every queue every round, and most are empty); True when the queue is not found."""
    from moto.sqs.models import sqs_backends

    try:
        _, _, host, account, name = queue_url.split("/")[:5]
        queue = sqs_backends[account][host.split(".")[1]].queues[name]
    except (KeyError, IndexError, ValueError):
        return True
    return bool(queue.messages)


@contextmanager
def lean_moto() -> Iterator[None]:
    """moto's EventBridge parses the same JSONPath input paths for every event and target (a
    parser built each time, a tenth of a run): the parsed paths cached, the same answers."""
    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(parse)
    try:
        yield
    finally:
        jsonpath_ng.ext.parse = parse


@dataclass(frozen=True)
class Reconciled:
    """One customer's views at the end of the run, and where they disagreed."""

    customer: str  # the plan's reference
    closing_balance: str  # the statement's
    aging_balance: str  # the customer's row of the aging report
    exposure_owed: str  # the credit figures' open receivables less unapplied cash
    invoices: int  # invoices whose amount due was checked against the aging
    differences: tuple[str, ...]


@dataclass
class Outcome:
    digest: dict[str, Any]
    counts: dict[str, Any]
    violations: list[str]
    seconds: float = 0.0
    reconciled: tuple[Reconciled, ...] = ()
    trial_balance: dict[str, Any] | None = None  # GET /ledger/trial-balance at the end


@dataclass(frozen=True)
class Report:
    """What ``measure`` ran and what came of it."""

    seed: int
    customers: int
    days: int
    orders_per_day: int
    outcome: Outcome


# --- the run --------------------------------------------------------------------------------------


def simulate(month: Plan, *, harness: Harness | None = None) -> Outcome:
    """Play the month in a fresh moto world; the outcome's digest names business references only."""
    harness = harness or NoFaults()
    started = time.perf_counter()
    with offline_aws(), partitioned_deliveries(), lean_transactions(), lean_moto(), _quiet():
        from chalice.test import Client  # after the environment is set: the logger reads it

        import app as app_module
        from shared.domain.reconciliation import books_differences
        from tests.functional.books_machine import read_books

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's and the checks'
        at = SimulatedClock(harness)
        at.at(month.days[0].on, 0)
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        reset_process_state()
        harness.attach(clock_from_caller=True)
        try:
            log = CallLog()
            log.attach(aws.session())
            pump = harness.make_pump(
                counting_module(app_module, log),
                infra,
                deployment.queues,
                deployment.outputs["TableStreamArn"],
            )
            with Client(app_module.app, stage_name="dev") as client:
                driver = Driver(client, pump, harness, log, at)
                driver.run(month)
                with harness.paused():  # read as a partner would: again after a failure
                    get = partial(driver.request, "GET")
                    reconciled = reconcile(get, driver.books.customers)
                    books = read_books(get)
                    lake = _read_the_lake(get, month.days[0].on, clock.now().date())
            overruns = at.close()
            with harness.paused():  # the final state, read without faults
                state = State.read(infra, deployment.outputs, driver.books)
                queues = queue_violations(infra, deployment.queues)
        finally:
            harness.detach()
            reset_process_state()
        digest = state.digest()
        differences = [found for customer in reconciled for found in customer.differences]
        differences += books_differences(*books) + lake.differences
        violations = driver.violations + overruns + state.violations() + queues + differences
        counts = dict(sorted(driver.counts.items())) | state.counts() | _calls(log)
        counts |= lake.counts()
    return Outcome(digest, counts, violations, time.perf_counter() - started, reconciled, books[1])


def reconcile(get: Any, customers: dict[str, str]) -> tuple[Reconciled, ...]:
    """Every customer's views read over the API and checked against each other (today's)."""
    from shared.domain.reconciliation import amount, customer_differences
    from tests.functional.books_machine import read_views

    found = []
    for ref, customer_id in sorted(customers.items()):
        views = read_views(get, customer_id)
        credit = views.credit or {}
        owed = amount(credit.get("open_receivables", "0")) - amount(
            credit.get("unapplied_cash", "0")
        )
        found.append(
            Reconciled(
                customer=ref,
                closing_balance=views.statement["closing_balance"]["amount"],
                aging_balance=(views.aging_row or {}).get("balance", "0.00"),
                exposure_owed=str(owed),
                invoices=sum(1 for i in views.invoices if i.get("kind") == "invoice"),
                differences=tuple(
                    text.replace(customer_id, ref) for text in customer_differences(views)
                ),
            )
        )
    return tuple(found)


def _read_the_lake(get: Any, first: date, today: date) -> LakeCheck:
    """The month's reports from the lake against the books': from the whole lake, then as
    answered by default once the nightly snapshot of a week ago is taken."""
    days = lake_days(first, today)
    snapshot_day = take_snapshot(first, today)
    current = [day for day in days if day >= snapshot_day]
    return lake_differences(get, days, (first, today), current_days=current)


@contextmanager
def _quiet() -> Iterator[None]:
    """No log line per order nor metrics between the figures; the real clock back afterwards."""
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # offline_aws() restores the environment
    level = logger.log_level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with open(os.devnull, "w") as sink, redirect_stdout(sink), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            yield
    finally:
        logger.setLevel(level)
        clock.set_clock(None)


def _calls(log: CallLog) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    invocations = 0
    for phase in log.phases:
        if " #" in phase.name:
            invocations += 1
        calls.update(phase.breakdown())
    return {
        "lambda_invocations": invocations,
        "aws_calls": sum(calls.values()),
        "aws_calls_by_operation": dict(sorted(calls.items())),
    }


# --- bench output ---------------------------------------------------------------------------------


def measure(
    seed: int = SEED,
    *,
    customers: int = CUSTOMERS,
    days: int = DAYS,
    orders_per_day: int = ORDERS_PER_DAY,
    harness: Harness | None = None,
) -> Report:
    month = plan(seed, customers=customers, days=days, orders_per_day=orders_per_day)
    return Report(seed, customers, days, orders_per_day, simulate(month, harness=harness))


def table(report: Report) -> str:
    outcome = report.outcome
    lines = [
        f"Month simulated: seed {report.seed}, {report.customers} customers, {report.days} days, "
        f"{report.orders_per_day} orders a day; {outcome.seconds:.1f} s wall time "
        "(moto, in process).",
        "",
        "| Count | Value |",
        "|---|---:|",
    ]
    for name, value in outcome.counts.items():
        if not isinstance(value, dict):
            lines.append(f"| {name} | {value:,} |")
    calls = outcome.counts.get("aws_calls_by_operation", {})
    lines += ["", "| AWS calls by operation | Calls |", "|---|---:|"]
    lines += [f"| {operation} | {n:,} |" for operation, n in calls.items()]
    lines += [
        "",
        "Every view of each customer's money at the end of the month, read over the API "
        "(shared/domain/reconciliation.py):",
        "",
        "| Customer | Statement closing | Aging report balance | Credit figures owed "
        "| Invoices checked | Differences |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {row.customer} | {row.closing_balance} | {row.aging_balance} "
            f"| {row.exposure_owed} | {row.invoices} | {len(row.differences)} |"
            for row in outcome.reconciled
        ),
        "",
    ]
    lines += _trial_balance(outcome.trial_balance or {})
    lake = [violation for violation in outcome.violations if violation.startswith("lake ")]
    lines += [
        "Reports read from the lake and from the books (aging and open items of each Sunday and "
        "the last day from the whole lake and, after the snapshot of a week before the last day, "
        "as answered by default; the month's KPIs; bench/simulation_lake.py): "
        f"{outcome.counts.get('lake.comparisons', 0)} compared, {len(lake)} differences.",
        "",
    ]
    if outcome.violations:
        lines.append(f"invariants: {len(outcome.violations)} violated")
        lines += [f"- {violation}" for violation in outcome.violations[:50]]
    else:
        lines.append("invariants: all held")
    return "\n".join(lines)


def _trial_balance(trial_balance: dict[str, Any]) -> list[str]:
    """The journal's trial balance at the end of the month, per currency and account code."""
    lines = ["The journal's trial balance at the end of the month (GET /ledger/trial-balance):", ""]
    lines += [
        "| Currency | Code | Account | Debits | Credits | Balance |",
        "|---|---|---|---:|---:|---:|",
    ]
    for group in trial_balance.get("currencies", []):
        currency = group["currency"]
        for line in group["accounts"]:
            lines.append(
                f"| {currency} | {line['code']} | {line['name']} | {line['debits']} "
                f"| {line['credits']} | {line['balance']} |"
            )
        totals = group["totals"]
        lines.append(
            f"| {currency} | | **total** | {totals['debits']} | {totals['credits']} "
            f"| {totals['balance']} |"
        )
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulation", description=__doc__)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--orders-per-day", type=int, default=ORDERS_PER_DAY)
    args = parser.parse_args(argv)
    report = measure(
        args.seed, customers=args.customers, days=args.days, orders_per_day=args.orders_per_day
    )
    print(table(report))


if __name__ == "__main__":
    main()
