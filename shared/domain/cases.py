"""Customer cases: questions, requests and disputes, their owner, due time and dispute amounts.

Pure: no clock and no AWS. A case is opened by a partner system, by staff or from the portal;
the rule table ``OWNERS`` names the role that owns it, ``DUE_BUSINESS_DAYS`` when it is due by
priority (business days: Saturday and Sunday do not count). A dispute names an invoice, a reason
code and a disputed amount (the whole invoice's, or per line); the amount is what dunning leaves
alone while the case is open (``disputed_holds``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.domain.access import Role
from shared.domain.invoice import Invoice
from shared.domain.money import quantize

ZERO = Decimal(0)


class CaseKind(StrEnum):
    QUESTION = "question"
    REQUEST = "request"
    DISPUTE = "dispute"


class RequestType(StrEnum):
    INVOICE_COPY = "invoice_copy"
    STATEMENT = "statement"
    PAYMENT_CONFIRMATION = "payment_confirmation"


class DisputeReason(StrEnum):
    PRICE = "price"
    QUANTITY = "quantity"
    DAMAGED = "damaged"
    NOT_RECEIVED = "not_received"
    TAX = "tax"
    DUPLICATE = "duplicate"


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class CaseStatus(StrEnum):
    OPEN = "open"  # waiting for an answer
    ANSWERED = "answered"  # staff answered; the customer may write again
    RESOLVING = "resolving"  # a resolution is being carried out (a credit note being issued)
    CLOSED = "closed"  # resolved, or answered itself


class Outcome(StrEnum):
    CREDIT_NOTE = "credit_note"  # a credit note for the disputed amount
    REJECTED = "rejected"  # the dispute is refused, with a reason
    CORRECTED = "corrected"  # a correction note (no money moves)
    ANSWERED = "answered"  # a question or request answered


OPEN_STATUSES = frozenset({CaseStatus.OPEN, CaseStatus.ANSWERED})

# Who owns a new case, by kind (a customer may name its own case owner: ``owner_for``).
OWNERS: dict[CaseKind, Role] = {
    CaseKind.DISPUTE: Role.CREDIT_MANAGER,
    CaseKind.REQUEST: Role.AR_CLERK,
    CaseKind.QUESTION: Role.AR_CLERK,
}


DUE_BUSINESS_DAYS: dict[Priority, int] = {Priority.HIGH: 1, Priority.NORMAL: 3, Priority.LOW: 5}

# Requests answered at once, without anyone (the case closes itself).
SELF_ANSWERED = frozenset({RequestType.INVOICE_COPY, RequestType.STATEMENT})


def owner_for(kind: CaseKind, customer_owner: str | None = None) -> str:
    """The owner role of a new case of ``kind``: the customer's case owner, else the rule."""
    return customer_owner or OWNERS[kind].value


def due_at(opened_at: datetime, priority: Priority) -> datetime:
    """``opened_at`` plus the priority's business days (weekend days are skipped)."""
    return add_business_days(opened_at, DUE_BUSINESS_DAYS[priority])


def add_business_days(opened_at: datetime, days: int) -> datetime:
    moment = opened_at
    left = days
    while left:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def case_number(year: int, sequence: int) -> str:
    """``CASE-2026-000042``: gap-free per year, like invoice numbers."""
    return f"CASE-{year}-{sequence:06d}"


class DisputeError(ValueError):
    """The disputed amounts do not fit the invoice; ``pointer`` names the field."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.detail = detail


@dataclass(frozen=True)
class DisputedLine:
    line_no: int
    amount: Decimal


def line_gross(invoice: Invoice, line_no: int) -> Decimal | None:
    """A line's amount with its tax (what the customer was asked to pay for it)."""
    for line in invoice.lines:
        if line.line_no == line_no:
            gross = line.net_amount * (1 + line.tax_rate / 100)
            return quantize(gross, invoice.currency)
    return None


def disputed_amount(
    invoice: Invoice,
    amount: Decimal | None,
    lines: Sequence[DisputedLine],
    already_disputed: Decimal = ZERO,
) -> Decimal:
    """The amount a dispute holds: the lines' sum, or ``amount``; refused (``DisputeError``)
    above a line's amount, above what is due less what open disputes hold already, at or below
    zero, or finer than the currency's minor unit."""
    for index, line in enumerate(lines):
        gross = line_gross(invoice, line.line_no)
        pointer = f"#/lines/{index}"
        if gross is None:
            raise DisputeError(f"{pointer}/line_no", f"invoice has no line {line.line_no}")
        _check_money(line.amount, invoice.currency, f"{pointer}/amount")
        if line.amount > gross:
            raise DisputeError(f"{pointer}/amount", f"must not exceed the line's {gross}")
    total = sum((line.amount for line in lines), ZERO) if lines else amount
    if total is None:
        raise DisputeError("#/amount", "a dispute names an amount or lines")
    if lines and amount is not None and amount != total:
        raise DisputeError("#/amount", f"must equal the lines' sum, {total}")
    _check_money(total, invoice.currency, "#/amount")
    room = invoice.amount_due - already_disputed
    if total > room:
        raise DisputeError("#/amount", f"must not exceed the amount due not yet disputed, {room}")
    return total


def _check_money(amount: Decimal, currency: str, pointer: str) -> None:
    if amount <= 0:
        raise DisputeError(pointer, "must be above 0")
    if amount != quantize(amount, currency):
        raise DisputeError(pointer, f"too many decimals for {currency}")


def credit_quantities(invoice: Invoice, lines: Sequence[DisputedLine]) -> dict[int, Decimal]:
    """The quantities a credit note credits for disputed lines: each line's quantity in the
    proportion of its disputed amount (exact to 6 decimals, else ``DisputeError``)."""
    quantities: dict[int, Decimal] = {}
    by_no = {line.line_no: line for line in invoice.lines}
    for line in lines:
        gross = line_gross(invoice, line.line_no)
        billed = by_no[line.line_no]
        if not gross:
            raise DisputeError("#/lines", f"line {line.line_no} has no amount to credit")
        quantity = billed.quantity * line.amount / gross
        if quantity != quantity.quantize(Decimal("0.000001")):
            raise DisputeError(
                "#/lines", f"line {line.line_no}'s disputed amount is no whole quantity"
            )
        quantities[line.line_no] = quantity.normalize()
    return quantities


def to_wire_lines(lines: Sequence[DisputedLine]) -> list[dict[str, Any]]:
    return [{"line_no": line.line_no, "amount": str(line.amount)} for line in lines]


# --- service figures ----------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.5: the median); ``None`` without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))  # ceil(share x n), at least 1
    return ordered[rank - 1]


def hours_between(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


@dataclass(frozen=True)
class Timing:
    """One case's moments and what it was about, as the service figures need them."""

    opened_at: datetime
    due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    priority: Priority = Priority.NORMAL
    kind: CaseKind = CaseKind.QUESTION
    reason: str | None = None  # a dispute's reason code, a request's type
    outcome: str | None = None  # how it was resolved
    disputed_amount: Decimal | None = None
    currency: str | None = None

    @property
    def resolution_due_at(self) -> datetime:
        return resolution_due_at(self.opened_at, self.priority)


# How long resolving a case may take, by priority (business days): the resolution-time target.
RESOLUTION_BUSINESS_DAYS: dict[Priority, int] = {
    Priority.HIGH: 5,
    Priority.NORMAL: 10,
    Priority.LOW: 20,
}
SATISFIED_SCORES = frozenset({4, 5})  # CSAT: the share of answers scoring 4 or 5


def resolution_due_at(opened_at: datetime, priority: Priority) -> datetime:
    return add_business_days(opened_at, RESOLUTION_BUSINESS_DAYS[priority])


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    return {"median": percentile(values, 0.5), "p90": percentile(values, 0.9)}


def _counts(keys: Sequence[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    return dict(sorted(counted.items()))


def service_figures(
    opened: Sequence[Timing], closed: Sequence[Timing], scores: Sequence[int]
) -> dict[str, Any]:
    """How cases were handled in a period: cases opened and closed; the hours to the first
    response (of the cases opened, against their due time) and to resolution (of the cases
    closed, against ``RESOLUTION_BUSINESS_DAYS``), each as median, p90 and the share within
    target; cases opened by reason (a dispute's reason code, a request's type, ``question``)
    and closed by outcome; the disputed amounts opened per currency and the days disputes took
    to resolve; the survey answers (average, count, CSAT: the share scoring 4 or 5)."""
    answered = [case for case in opened if case.first_response_at]
    responses = [hours_between(case.opened_at, case.first_response_at) for case in answered]  # type: ignore[arg-type]
    resolved = [case for case in closed if case.resolved_at]
    resolutions = [hours_between(case.opened_at, case.resolved_at) for case in resolved]  # type: ignore[arg-type]
    in_time = [case for case in answered if case.first_response_at <= case.due_at]  # type: ignore[operator]
    resolved_in_time = [case for case in resolved if case.resolved_at <= case.resolution_due_at]  # type: ignore[operator]
    within_due = _share(len(in_time), len(answered))
    return {
        "opened": len(opened),
        "closed": len(closed),
        "first_response_hours": {**_spread(responses), "within_target": within_due},
        "resolution_hours": {
            **_spread(resolutions),
            "within_target": _share(len(resolved_in_time), len(resolved)),
        },
        "answered_within_due": within_due,
        "by_reason": _counts([case.reason or case.kind.value for case in opened]),
        "by_outcome": _counts([case.outcome for case in closed if case.outcome]),
        "disputes": _dispute_figures(opened, resolved),
        "satisfaction": {
            "average": round(sum(scores) / len(scores), 2) if scores else None,
            "responses": len(scores),
            "csat": _share(len([s for s in scores if s in SATISFIED_SCORES]), len(scores)),
        },
    }


def _dispute_figures(opened: Sequence[Timing], resolved: Sequence[Timing]) -> dict[str, Any]:
    amounts: dict[str, Decimal] = {}
    disputes = [case for case in opened if case.kind is CaseKind.DISPUTE]
    for case in disputes:
        if case.disputed_amount is not None and case.currency:
            amounts[case.currency] = amounts.get(case.currency, ZERO) + case.disputed_amount
    days = [
        round(hours_between(case.opened_at, case.resolved_at) / 24, 2)  # type: ignore[arg-type]
        for case in resolved
        if case.kind is CaseKind.DISPUTE
    ]
    return {
        "opened": len(disputes),
        "amount": {currency: str(total) for currency, total in sorted(amounts.items())},
        "resolved": len(days),
        "days_to_resolve": _spread(days),
    }
