"""Invoices per second through the invoicing workers, and the AWS calls each invoice costs.

The whole flow runs in-process under moto: the stack from infra/resources.yaml, the Chalice app
through ``chalice.test.Client`` and the event pump. ``count`` orders are placed, confirmed and
shipped over the API; the pump then carries every ``OrderShipped`` through ``issue_invoices``
(gap-free number, invoice, ledger entry and credit exposure in one transaction) and every
``InvoiceIssued`` through ``deliver_invoices`` (PDF and UBL rendered and stored, one e-mail).

Time is the wall time spent inside each worker's handler, in one process on one core, summed
over its invocations; the pump's own polling and the rest of the flow are not counted. moto's
transactions run with ``lean_transactions`` (moto otherwise copies the whole table for each
transaction, a cost of moto's that grows with the table and would swamp the workers' own). Calls are
counted like ``bench.aws_calls`` (the app's session only), divided by the invoices handled.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

from bench.aws_calls import (
    CallLog,
    Operation,
    Phase,
    counting_module,
    offline_aws,
    quiet_moto,
)
from bench.cold_import import REPO_ROOT
from infra.local import offline, stack
from infra.local.moto_transactions import lean_transactions
from infra.local.offline import deploy_and_seed, reset_process_state
from infra.local.pump import EventPump
from shared.adapters import aws
from tests.functional.conftest import order_body, post_order

DEFAULT_COUNT = 200
WORKERS = ("issue_invoices", "deliver_invoices")


@dataclass(frozen=True)
class WorkerFigures:
    """One worker's invocations over the run: how many, how long, which AWS calls."""

    name: str
    invocations: int
    records: int
    seconds: float
    calls: Counter[Operation]

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def ms_per_record(self) -> float:
        return 1000 * self.seconds / self.records if self.records else 0.0

    def calls_per_record(self) -> dict[str, float]:
        return {
            f"{service}.{operation}": n / self.records
            for (service, operation), n in sorted(self.calls.items())
        }

    @property
    def total_calls_per_record(self) -> float:
        return sum(self.calls.values()) / self.records if self.records else 0.0


def measure(count: int = DEFAULT_COUNT) -> list[WorkerFigures]:
    """Place, confirm and ship ``count`` orders, let the workers invoice them, and report."""
    with offline_aws(), lean_transactions():
        from chalice.test import Client  # after the environment is set: the logger reads it

        import app as app_module

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's, never counted
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        reset_process_state()
        log = CallLog()
        log.attach(aws.session())
        pump = EventPump(
            counting_module(app_module, log),
            infra,
            deployment.queues,
            deployment.outputs["TableStreamArn"],
        )
        with Client(app_module.app, stage_name="dev", project_dir=str(REPO_ROOT)) as client:
            order_ids = [_place(client) for _ in range(count)]
            pump.drain()
            for order_id in order_ids:
                _ship(client, order_id)
            pump.drain()
            _expect_invoiced(client, order_ids)
    return [_figures(name, log.phases) for name in WORKERS]


def _place(client: Any) -> str:
    answer = post_order(client, order_body())
    _expect(answer.status_code == 201, f"POST /orders answered {answer.status_code}")
    return str(json.loads(answer.body)["id"])


def _ship(client: Any, order_id: str) -> None:
    headers = {"X-Api-Key": offline.PARTNER_KEY}
    order = json.loads(client.http.get(f"/orders/{order_id}", headers=headers).body)
    lines = [
        {"line_no": line["line_no"], "quantity": line["reserved"]}
        for line in order["lines"]
        if line["reserved"]
    ]
    _expect(bool(lines), f"order {order_id} has nothing reserved: {order['status']}")
    answer = client.http.post(
        f"/orders/{order_id}/shipments",
        headers={
            **headers,
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
        body=json.dumps({"carrier": "DHL", "tracking_number": order_id[-10:], "lines": lines}),
    )
    _expect(answer.status_code == 201, f"shipping {order_id} answered {answer.status_code}")


def _expect_invoiced(client: Any, order_ids: list[str]) -> None:
    """Every shipment was invoiced exactly once: a count of a broken flow is no figure."""
    headers = {"X-Api-Key": offline.ADMIN_KEY}
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = "customer_id=cus_acme&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = json.loads(client.http.get(f"/invoices?{query}", headers=headers).body)
        found += page["invoices"]
        if not (cursor := page.get("next_cursor")):
            break
    billed = sorted(invoice["order_id"] for invoice in found)
    _expect(billed == sorted(order_ids), f"{len(found)} invoices for {len(order_ids)} shipments")


def _figures(name: str, phases: list[Phase]) -> WorkerFigures:
    mine = [phase for phase in phases if phase.name.startswith(f"{name} #")]
    calls: Counter[Operation] = Counter()
    for phase in mine:
        calls.update(phase.calls)
    return WorkerFigures(
        name=name,
        invocations=len(mine),
        records=sum(phase.records for phase in mine),
        seconds=sum(phase.seconds for phase in mine),
        calls=calls,
    )


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


# --- output -------------------------------------------------------------------------------------


def table(figures: list[WorkerFigures]) -> str:
    """Markdown: per worker, invoices handled, time, rate, and AWS calls per invoice."""
    lines = [
        "| Worker | Invocations | Invoices | Handler time (s) | Invoices/s | ms/invoice "
        "| AWS calls/invoice | By service.operation (per invoice) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for worker in figures:
        breakdown = ", ".join(f"{op} {n:g}" for op, n in worker.calls_per_record().items())
        lines.append(
            f"| {worker.name} | {worker.invocations} | {worker.records} | {worker.seconds:.2f} "
            f"| {worker.per_second:.1f} | {worker.ms_per_record:.1f} "
            f"| {worker.total_calls_per_record:g} | {breakdown or '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
