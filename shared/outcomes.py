"""Business outcome metrics (Powertools Metrics, EMF), counted in one place: committed events.

``outbox.commit`` calls ``count`` after its transaction succeeds, so each outcome is counted once
for what really happened, whichever use case caused it (and a retried commit is not counted twice).
Counts go into the invocation's metrics (flushed by the handler middleware); amounts are money in
one currency each, so they are emitted at once with ``currency`` as a dimension.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain.events import DomainEvent

COUNTED: dict[str, str] = {
    "OrderReceived": "OrdersReceived",
    "OrderConfirmed": "OrdersConfirmed",
    "OrderHeld": "OrdersHeld",
    "OrderRejected": "OrdersRejected",
    "OrderCancelled": "OrdersCancelled",
    "OrderShipped": "OrdersShipped",
    "InvoiceIssued": "InvoicesIssued",
    "CreditNoteIssued": "CreditNotesIssued",
    "PaymentReceived": "PaymentsReceived",
    "PaymentApplied": "PaymentsApplied",
    "PaymentUnapplied": "PaymentsUnapplied",
    "PaymentUnmatched": "PaymentsUnmatched",
    "ReminderRecorded": "RemindersRecorded",
    "ReminderSent": "RemindersSent",
    "PromiseBroken": "PromisesBroken",
}
AMOUNTS: dict[str, str] = {"InvoiceIssued": "AmountInvoiced"}


@dataclass(frozen=True)
class Measure:
    name: str
    value: Decimal
    currency: str | None = None  # amounts only


def measures(events: Iterable[DomainEvent]) -> list[Measure]:
    """What the events count for: one per counted event, plus the amounts they carry."""
    found: list[Measure] = []
    for event in events:
        if name := COUNTED.get(event.detail_type):
            found.append(Measure(name, Decimal(1)))
        if (name := AMOUNTS.get(event.detail_type)) and (money := _total(event.data)):
            found.append(Measure(name, *money))
    return found


def _total(data: dict[str, Any]) -> tuple[Decimal, str] | None:
    total = data.get("total")
    if not isinstance(total, dict):
        return None
    try:
        return Decimal(str(total["amount"])), str(total["currency"])
    except (KeyError, InvalidOperation):
        return None


def count(events: Iterable[DomainEvent]) -> None:
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from shared.observability import metrics

    for measure in measures(events):
        if measure.currency is None:
            metrics.add_metric(name=measure.name, unit=MetricUnit.Count, value=float(measure.value))
            continue
        with single_metric(
            name=measure.name,
            unit=MetricUnit.NoUnit,
            value=float(measure.value),
            namespace=metrics.namespace,
            default_dimensions={"service": "otc", "currency": measure.currency},
        ):
            pass
