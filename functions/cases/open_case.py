"""Open a case (POST /cases, and the portal's form): a question, a request or a dispute.

ONE transaction writes the next case number of the year (gap-free, like invoice numbers: the
counter and the case together), the case with its owner (``shared.domain.cases.OWNERS``) and due
time (by priority, in business days), its first message, a dispute's hold on the invoice's amount
(what dunning then leaves alone) and ``CaseOpened``. The acknowledgement e-mail then goes to the
contact once per case (the claim protocol of the customer e-mails, keyed on the event).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from functions.cases.common import email_once, event
from shared import clock, errors, ids, request_scope
from shared.config import seller as configured_seller
from shared.domain import cases as domain
from shared.domain.access import Principal
from shared.domain.cases import (
    CaseKind,
    CaseStatus,
    DisputedLine,
    DisputeReason,
    Priority,
    RequestType,
)
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.money import DecimalString
from shared.domain.text import MultiLine, SingleLine
from shared.model import Model
from shared.store import cases as store
from shared.store import customers, invoices, outbox, series
from shared.store.table import Update

MAX_LINES = 200


class DisputedLineRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    line_no: int = Field(ge=1, le=100_000)
    amount: DecimalString


class CaseRequest(Model):
    """The body of POST /cases (the portal's form fills the same model)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: CaseKind = Field(strict=False)
    subject: Annotated[str, SingleLine(max_length=200)]
    message: Annotated[str, MultiLine(max_length=4000)]
    priority: Priority = Field(default=Priority.NORMAL, strict=False)
    request_type: RequestType | None = Field(default=None, strict=False)
    invoice_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    reason: DisputeReason | None = Field(default=None, strict=False)
    amount: DecimalString | None = None
    lines: list[DisputedLineRequest] = Field(default_factory=list, max_length=MAX_LINES)


def open_case(
    request: CaseRequest, principal: Principal, *, channel: str = "api", contact: str | None = None
) -> dict[str, Any]:
    """The case as written; problems: 404 (customer, invoice), 422 (what does not fit)."""
    if not principal.may_act_for(request.customer_id):
        raise errors.NotFound(f"customer {request.customer_id}")
    customer = customers.get(request.customer_id)
    if customer is None:
        raise errors.NotFound(f"customer {request.customer_id}")
    _require_fields(request)
    case_id = request_scope.request_scoped_id("case") or ids.new_id("case")
    if (made := store.get(case_id)) is not None:  # a retry whose first attempt wrote the case
        return store.public(_acknowledged(made))
    invoice = _invoice(request) if request.invoice_id else None
    now = clock.now()
    at = clock.iso(now)
    case: dict[str, Any] = {
        "case_id": case_id,
        "customer_id": request.customer_id,
        "kind": request.kind.value,
        "subject": request.subject,
        "priority": request.priority.value,
        "status": CaseStatus.OPEN.value,
        "owner": domain.owner_for(request.kind, customer.case_owner),
        "opened_at": at,
        "updated_at": at,
        "due_at": clock.iso(domain.due_at(now, request.priority)),
        "opened_by": principal.principal_id,
        "channel": channel,
        "contact": contact or customer.notification_email,
        "version": 1,
    }
    if request.request_type:
        case["request_type"] = request.request_type.value
    holds = []
    if invoice is not None:
        case |= {"invoice_id": invoice.invoice_id, "invoice_number": invoice.number}
    if request.kind is CaseKind.DISPUTE:
        assert invoice is not None and request.reason is not None
        lines = [DisputedLine(line.line_no, Decimal(line.amount)) for line in request.lines]
        amount = _disputed(invoice, request, lines)
        case |= {
            "reason": request.reason.value,
            "disputed_amount": str(amount),
            "currency": invoice.currency,
            "lines": domain.to_wire_lines(lines),
        }
        holds.append(store.hold_put(invoice.invoice_id, case_id, invoice.customer_id, amount))
    message = {
        "message_id": ids.new_id("msg"),
        "at": at,
        "author": principal.principal_id,
        "from": "customer",
        "text": request.message,
    }
    seller = configured_seller()

    def write(number: int, counter: Update) -> dict[str, Any]:
        numbered = {**case, "number": domain.case_number(now.year, number)}
        outbox.commit(
            [counter, store.new_case(numbered), store.message_put(case_id, 1, message), *holds],
            [event("CaseOpened", numbered)],
        )
        return numbered

    return store.public(_acknowledged(series.issue(seller.entity, f"CASE-{now.year}", write)))


def _acknowledged(case: dict[str, Any]) -> dict[str, Any]:
    """The case after its acknowledgement went to the contact (once per case, whichever
    attempt of the request sends it) and, a standard request, its answer."""
    from functions.cases.auto_answer import answer_itself

    email_once(
        f"{case['case_id']}#acknowledgement",
        case["contact"],
        f"We received your {case['kind']}: {case['number']}",
        f"Thank you. Your case {case['number']} ({case['subject']}) is with us; "
        f"we answer by {case['due_at']}.",
    )
    return answer_itself(case)


def _require_fields(request: CaseRequest) -> None:
    failures = []
    if request.kind is CaseKind.DISPUTE:
        if request.invoice_id is None:
            failures.append({"pointer": "#/invoice_id", "detail": "a dispute names an invoice"})
        if request.reason is None:
            failures.append({"pointer": "#/reason", "detail": "a dispute gives a reason code"})
    elif request.reason or request.amount or request.lines:
        failures.append({"pointer": "#/kind", "detail": "only a dispute has a reason and amounts"})
    if request.request_type is RequestType.INVOICE_COPY and request.invoice_id is None:
        failures.append({"pointer": "#/invoice_id", "detail": "a copy names its invoice"})
    if (request.kind is CaseKind.REQUEST) != (request.request_type is not None):
        failures.append({"pointer": "#/request_type", "detail": "a request (only) names its type"})
    if failures:
        raise errors.Unprocessable("invalid-case", "the case is refused", errors=failures)


def _invoice(request: CaseRequest) -> Invoice:
    assert request.invoice_id is not None
    invoice = invoices.receivable(request.invoice_id)
    if invoice is None or invoice.customer_id != request.customer_id:
        raise errors.NotFound(f"invoice {request.invoice_id}")
    if invoice.kind is not DocumentKind.INVOICE:
        raise errors.Unprocessable(
            "invalid-case",
            f"{invoice.number} is not an invoice",
            errors=[{"pointer": "#/invoice_id", "detail": "name an invoice"}],
        )
    return invoice


def _disputed(invoice: Invoice, request: CaseRequest, lines: list[DisputedLine]) -> Decimal:
    held = store.disputed(invoice.customer_id, invoice.invoice_id)
    amount = Decimal(request.amount) if request.amount is not None else None
    try:
        return domain.disputed_amount(invoice, amount, lines, held)
    except domain.DisputeError as error:
        raise errors.Unprocessable(
            "invalid-dispute",
            error.detail,
            errors=[{"pointer": error.pointer, "detail": error.detail}],
        ) from None
