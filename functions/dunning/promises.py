"""Record a customer's promise to pay an invoice (POST /invoices/{invoice_id}/promises).

A collector who reached the customer records what was promised: pay ``amount`` by
``promised_on``. ONE transaction writes the promise item, the invoice's dunning state with the
promise set (guarded by the state's version, so a dunning run that wrote the state meanwhile
makes this answer 409) and ``PromiseToPayRecorded``. While the promise is open the runs send
the invoice no reminder; a run after ``promised_on`` finds it kept or broken.

A new promise replaces the invoice's open one (the older stays in the history, superseded) and
clears the broken-promise flag: the collector has followed the broken promise up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict

from shared import clock, errors, ids, request_scope
from shared.domain import dunning as dunning_domain
from shared.domain.access import Principal
from shared.domain.dates import BusinessDate
from shared.domain.events import DomainEvent
from shared.domain.invoice import DocumentKind, Invoice, InvoiceStatus
from shared.domain.money import DecimalString, quantize
from shared.model import Model
from shared.store import dunning, invoices, outbox
from shared.store.outbox import StaleStateError

SOURCE = "otc.collections"
SETTLED = frozenset({InvoiceStatus.PAID, InvoiceStatus.CREDITED})


class PromiseRequest(Model):
    """Pay ``amount`` (a decimal string in the invoice's currency) by ``promised_on``."""

    model_config = ConfigDict(extra="forbid")

    promised_on: BusinessDate  # an ISO date string: bodies are validated strictly, as JSON
    amount: DecimalString


def record_promise(
    invoice_id: str, request: PromiseRequest, principal: Principal
) -> dict[str, Any]:
    """The promise as written, with its status; problems: 404, 409 (settled, race), 422."""
    invoice = _promisable(invoice_id)
    amount = _checked(request, invoice)
    promise_id = request_scope.request_scoped_id("ptp")  # the same on a retry of this request
    before = dunning.states([invoice.invoice_id])[invoice.invoice_id]
    if before.promise is not None and before.promise.promise_id == promise_id:
        # A retry whose first attempt recorded the promise, then died before answering
        return wire(before.promise, invoice.amount_due, today())
    promise = dunning_domain.Promise(
        promise_id=promise_id or ids.new_id("ptp"),
        invoice_id=invoice.invoice_id,
        customer_id=invoice.customer_id,
        promised_on=request.promised_on,
        amount=amount,
        due_when_made=invoice.amount_due,
        recorded_by=principal.principal_id,
        recorded_at=clock.now(),
    )
    after = before.model_copy(
        update={"promise": promise, "broken_promise": False, "version": before.version + 1}
    )
    event = DomainEvent(
        detail_type="PromiseToPayRecorded",
        source=SOURCE,
        aggregate_id=invoice.invoice_id,
        occurred_at=promise.recorded_at,
        data={
            **promise.to_wire(),
            "customer_id": invoice.customer_id,
            "actor": principal.principal_id,
        },
    )
    try:
        outbox.commit(
            [
                dunning.promise_put(promise),
                dunning.state_write(before, after, invoice.customer_id),
            ],
            [event],
        )
    except StaleStateError:
        raise errors.Conflict(
            "version-mismatch",
            f"the collection state of invoice {invoice.number} changed meanwhile; retry",
        ) from None
    return wire(promise, invoice.amount_due, today())


def wire(
    promise: dunning_domain.Promise, amount_due: Decimal, on: date, *, superseded: bool = False
) -> dict[str, Any]:
    """A promise as the API shows it: its wire form and its status on ``on``."""
    status = "superseded" if superseded else promise.status_on(on, amount_due).value
    return {**promise.to_wire(), "status": status}


def today() -> date:
    return clock.now().date()


def _promisable(invoice_id: str) -> Invoice:
    item = invoices.get_item(invoice_id)
    if item is None:
        raise errors.NotFound(f"invoice {invoice_id}")
    if invoices.is_legacy(item) and not invoices.is_booked_legacy(item):
        raise errors.Conflict(
            "not-promisable",
            f"{item.get('invoice_number', invoice_id)} was imported from the legacy system; "
            "collections do not track it",
        )
    invoice = (
        invoices.legacy_receivable(item) if invoices.is_legacy(item) else invoices.from_item(item)
    )
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        raise errors.Conflict(
            "not-promisable", f"{invoice.number} is a credit note; nothing is due on it"
        )
    if invoice.status in SETTLED or invoice.amount_due <= 0:
        raise errors.Conflict(
            "not-promisable", f"invoice {invoice.number} is {invoice.status.value}; nothing is due"
        )
    return invoice


def _checked(request: PromiseRequest, invoice: Invoice) -> Decimal:
    """The amount, refused (422) when not above 0, above what is due or finer than the
    currency's minor unit, or when the date has passed."""
    amount = Decimal(request.amount)
    failures: list[dict[str, str]] = []
    if request.promised_on < today():
        failures.append({"pointer": "#/promised_on", "detail": "must be today or later"})
    if amount <= 0:
        failures.append({"pointer": "#/amount", "detail": "must be above 0"})
    elif amount > invoice.amount_due:
        due = f"{invoice.amount_due} {invoice.currency}"
        failures.append({"pointer": "#/amount", "detail": f"must not exceed the amount due, {due}"})
    elif amount != quantize(amount, invoice.currency):
        failures.append(
            {"pointer": "#/amount", "detail": f"too many decimals for {invoice.currency}"}
        )
    if failures:
        raise errors.Unprocessable(
            "invalid-promise", f"the promise for {invoice.number} is refused", errors=failures
        )
    return amount
