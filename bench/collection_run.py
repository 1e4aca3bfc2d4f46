"""Collection-run scaling: what the daily run reads grows with what is due, not with the table.

For each table size (1,000, 10,000 and 100,000 invoices by default) a fresh stack is deployed
into moto and seeded with that many invoices, of which ``due`` (1,000) are open and due on the
run's day; the rest are paid (they leave the sparse ``open_by_due`` index) or open and due
later (in the index, past the run's horizon). The run is then started for that day and the
reminder worker drains the fan-out queue.

Counted per size, like ``bench.aws_calls`` (the app's boto3 session only):

- *run*: the API requests of ``start_run`` (Query pages of the index, SendMessageBatch calls),
  the index items it read, and its wall time;
- *workers*: invocations of ``remind_customers``, its requests, and its wall time.

DynamoDB bills a Query by the items it reads, so the request and item counts are the figures
that travel. moto finds the items of an index partition by walking the whole table, so its wall
time grows with the table where DynamoDB's does not; the table says so next to the times.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3

from bench.aws_calls import CallLog, Operation, Phase, counting_module, offline_aws, quiet_moto
from infra.local import stack
from infra.local.moto_transactions import lean_transactions
from infra.local.offline import deploy_and_seed, reset_process_state
from infra.local.pump import EventPump
from shared.adapters import aws
from shared.domain.customer import Address, Customer
from shared.domain.invoice import Invoice, InvoiceStatus
from shared.observability import logger
from shared.store import customers
from shared.store import invoices as invoice_store
from shared.store.table import to_dynamo
from tests.unit.invoice_samples import buyer, domestic_invoice

SIZES = (1_000, 10_000, 100_000)
DUE = 1_000
CUSTOMERS = 100
AS_OF = date(2026, 6, 1)
OPEN_LATER_SHARE = Decimal("0.2")  # of the invoices not due: open, due after the run's horizon
BATCH = 25  # BatchWriteItem's limit
# A run over 1,000 invoices moves thousands of records (events, e-mails, webhooks) through the
# pump, a batch per queue a round: far more rounds than a test's default allows.
DRAIN_ROUNDS = 2000


@dataclass(frozen=True)
class RunFigures:
    table_invoices: int
    due: int
    customers: int
    run: Phase
    index_items_read: int
    workers: Phase
    worker_invocations: int
    emails: int

    def run_calls(self) -> str:
        return ", ".join(f"{op} {n}" for op, n in self.run.breakdown().items())


def measure(sizes: Sequence[int] = SIZES, due: int = DUE) -> list[RunFigures]:
    return [_measure_one(size, due) for size in sizes]


def _measure_one(size: int, due: int) -> RunFigures:
    with offline_aws(), lean_transactions():
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # no EMF lines between the figures
        import app as app_module
        from functions.dunning.run import start_run

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's, never counted
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        reset_process_state()
        _seed(infra, deployment.outputs["TableName"], size, due)
        reset_process_state()  # clients made while seeding would escape the count
        logger.setLevel("WARNING")  # a line per customer would drown the figures
        log = CallLog()
        log.attach(aws.session())
        with log.phase("run") as run:
            started = time.perf_counter()
            answer = start_run(AS_OF)
            run.seconds = time.perf_counter() - started
        pump = EventPump(
            counting_module(app_module, log),
            infra,
            deployment.queues,
            deployment.outputs["TableStreamArn"],
        )
        pump.drain(max_rounds=DRAIN_ROUNDS)
        workers = _summed("remind_customers", log.phases)
        emails = _emails_sent(infra)
    return RunFigures(
        table_invoices=size,
        due=due,
        customers=int(answer["customers"]),
        run=run,
        index_items_read=int(answer["index_items_read"]),
        workers=workers,
        worker_invocations=sum(1 for p in log.phases if p.name.startswith("remind_customers #")),
        emails=emails,
    )


def _seed(infra: boto3.session.Session, table_name: str, size: int, due: int) -> None:
    """``size`` invoices over ``CUSTOMERS`` customers; ``due`` of them due on the run's day."""
    for n in range(CUSTOMERS):
        customers.create(_customer(n))
    client = infra.client("dynamodb")
    items = (to_dynamo(invoice_store.to_item(invoice)) for invoice in _invoices(size, due))
    for chunk in _chunks(items, BATCH):
        request: dict[str, Any] = {table_name: [{"PutRequest": {"Item": item}} for item in chunk]}
        while request:
            answer = client.batch_write_item(RequestItems=request)
            request = answer.get("UnprocessedItems") or {}


def _customer(n: int) -> Customer:
    return Customer(
        customer_id=_customer_id(n),
        legal_name=f"Customer {n:03d} GmbH",
        billing_email=f"ap{n:03d}@customers.example",
        currency="EUR",
        billing_address=Address(
            line1="Hauptstrasse 1", city="Berlin", postal_code="10115", country="DE"
        ),
        credit_limit=Decimal("100000.00"),
    )


def _customer_id(n: int) -> str:
    return f"cus_bench{n:03d}"


def _invoices(size: int, due: int) -> Iterator[Invoice]:
    """The first ``due`` fall due over the 30 days up to the run; the rest are paid or due later."""
    template = domestic_invoice()
    open_later = int((size - due) * OPEN_LATER_SHARE)
    for n in range(size):
        customer_id = _customer_id(n % CUSTOMERS)
        number = f"INV-2026-{n + 1:06d}"
        if n < due:
            due_on, status, amount_due = AS_OF - timedelta(days=n % 31), None, template.total
        elif n < due + open_later:
            due_on, status, amount_due = AS_OF + timedelta(days=30 + n % 60), None, template.total
        else:
            due_on = AS_OF - timedelta(days=60 + n % 300)
            status, amount_due = InvoiceStatus.PAID, Decimal(0)
        yield template.model_copy(
            update={
                "invoice_id": f"inv_bench_{n:06d}",
                "number": number,
                "customer_id": customer_id,
                "buyer": buyer().model_copy(update={"party_id": customer_id}),
                "issued_on": due_on - timedelta(days=30),
                "due_on": due_on,
                "amount_due": amount_due,
                "amount_paid": template.total - amount_due,
                "status": status or InvoiceStatus.OPEN,
            }
        )


def _chunks(items: Iterator[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    chunk: list[dict[str, object]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _summed(name: str, phases: list[Phase]) -> Phase:
    total = Phase(name)
    for phase in phases:
        if phase.name.startswith(f"{name} #"):
            total.calls.update(phase.calls)
            total.records += phase.records
            total.seconds += phase.seconds
    return total


def _emails_sent(infra: boto3.session.Session) -> int:
    """Reminders SES accepted (moto keeps them; its SES v2 shares the v1 backend)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    return len(ses_backends[DEFAULT_ACCOUNT_ID][infra.region_name].sent_messages)


# --- output -------------------------------------------------------------------------------------


def table(figures: list[RunFigures]) -> str:
    """Markdown: per table size, the run's requests and reads, then the workers'."""
    lines = [
        "| Invoices in table | Due | Customers | Run requests | Index items read "
        "| Run time (ms, moto) | Worker invocations | Worker requests | Requests/customer "
        "| Worker time (s) | Reminders e-mailed |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        per_customer = f.workers.total / f.customers if f.customers else 0.0
        lines.append(
            f"| {f.table_invoices:,} | {f.due:,} | {f.customers} | {f.run.total} "
            f"({f.run_calls()}) | {f.index_items_read:,} | {1000 * f.run.seconds:.0f} "
            f"| {f.worker_invocations} | {f.workers.total} | {per_customer:.1f} "
            f"| {f.workers.seconds:.2f} | {f.emails} |"
        )
    return "\n".join(lines)


def worker_breakdown(figures: list[RunFigures]) -> str:
    """The reminder workers' calls by service and operation, for the largest table."""
    calls: Counter[Operation] = figures[-1].workers.calls
    return ", ".join(f"{service}.{op} {n}" for (service, op), n in sorted(calls.items()))


def main() -> None:
    figures = measure()
    print(table(figures))
    print(f"Worker calls at {figures[-1].table_invoices:,} invoices: {worker_breakdown(figures)}")


if __name__ == "__main__":
    main()
