"""Dunning: which reminder each open invoice of a customer is due today, with its fee and interest.

A policy is a ladder of levels, each reached a number of days from the due date. The daily run
sends, per invoice, the highest level reached that was not sent before: a run that was missed
for a few days catches up by sending the level the customer would have reached, not every level
in between, and a level once sent is never sent again (nor a lower one), so a re-run of the same
day or an overlapping run adds nothing. The pre-due friendly reminder only makes sense before the
money is late, so it is never sent once the due date has passed.

Invoices the customer disputes are left alone until the dispute is resolved, and so are invoices
with an open promise to pay: chasing a customer who said when they will pay only annoys them. A
promise kept lets dunning carry on for whatever is still due; a promise broken moves straight to
the next level even before its day, because the customer's word has already cost the wait.

Interest is simple interest, actual/365, day by day on the principal still due from the day
after the due date. The principal is the invoice total less credit notes (nothing billed in error
ever bore interest) less the money applied to it from the day it was applied, and again from the
day an application was reversed. The interest is always computed cumulatively from the due date
and rounded once; each run charges the difference to what was charged before, so charging often
or rarely adds up to the same cent.

A level's consequences are the customer's whatever day the invoice reaches it: an invoice that
jumps levels (the first run after a data migration, a strict policy's escalation reached before any
run saw its final notice) brings the credit hold and the statement of every level it passed.

Dunning never chases money the customer's own credit covers (unapplied cash, a credit note beyond
what its invoice had open): the credit is set against the open invoices oldest first, an invoice
it covers whole is left alone, and one it covers in part is chased (and charged a percentage fee)
for the rest only. Open fee and interest charges are open items too: the credit covers them in
their turn by due day (a charge is due the day it was charged, after an invoice due the same
day), as the credit policy would apply it; a settled charge takes nothing. Interest still runs on
the invoice's principal: the credit is not applied until a clerk or the credit policy applies it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from itertools import pairwise
from typing import Any, Literal

from pydantic import ConfigDict, model_validator

from shared import clock
from shared.domain import charges as charges_domain
from shared.domain.charges import Charge
from shared.domain.money import quantize
from shared.model import Model

ZERO = Decimal(0)
_FROZEN = ConfigDict(frozen=True)
_SETTLED_STATUSES = frozenset({"paid", "credited"})

SkipReason = Literal[
    "disputed", "promised", "settled", "not_due", "level_recorded", "last_level", "covered"
]


# --- policies -----------------------------------------------------------------------------------


class Fee(Model):
    model_config = _FROZEN

    fixed: Decimal = ZERO  # in the invoice's currency
    percent: Decimal = ZERO  # of the invoice's amount due when the level is reached

    def amount_for(self, amount_due: Decimal, currency: str) -> Decimal:
        return quantize(self.fixed + amount_due * self.percent / 100, currency)


class Level(Model):
    model_config = _FROZEN

    number: int  # 0 = friendly pre-due reminder; 1.. by days overdue; ascending
    name: str  # friendly_reminder | reminder | second_notice | final_notice | escalation
    days: int  # relative to the due date: -5 = five days before due, 14 = fourteen days overdue
    template: str  # e-mail template name
    fee: Fee | None = None
    credit_hold: bool = False  # reaching it puts the customer on credit hold
    attach_statement: bool = False  # the e-mail carries the statement of account PDF


class Policy(Model):
    model_config = _FROZEN

    name: str
    levels: tuple[Level, ...]
    annual_interest_percent: Decimal = ZERO

    @model_validator(mode="after")
    def _ascending(self) -> Policy:
        for lower, higher in pairwise(self.levels):
            if lower.number >= higher.number or lower.days >= higher.days:
                raise ValueError(f"{self.name}: levels ascend in number and days")
        return self

    def level(self, number: int) -> Level:
        return next(level for level in self.levels if level.number == number)


def _ladder(days: tuple[int, ...], fees: tuple[Fee | None, ...]) -> tuple[Level, ...]:
    """The five levels every policy has, on its own days and with its own fees."""
    friendly, reminder, second, final, escalation = days
    second_fee, final_fee, escalation_fee = fees
    return (
        Level(number=0, name="friendly_reminder", days=friendly, template="friendly_reminder"),
        Level(number=1, name="reminder", days=reminder, template="reminder"),
        Level(
            number=2, name="second_notice", days=second, template="second_notice", fee=second_fee
        ),
        Level(
            number=3,
            name="final_notice",
            days=final,
            template="final_notice",
            fee=final_fee,
            credit_hold=True,
            attach_statement=True,
        ),
        Level(
            number=4, name="escalation", days=escalation, template="escalation", fee=escalation_fee
        ),
    )


POLICIES: dict[str, Policy] = {
    "default": Policy(
        name="default",
        levels=_ladder(
            (-5, 3, 14, 30, 45),
            (Fee(fixed=Decimal("5.00")), Fee(fixed=Decimal("10.00")), Fee(percent=Decimal(1))),
        ),
        annual_interest_percent=Decimal(8),
    ),
    "strict": Policy(
        name="strict",
        levels=_ladder(
            (-3, 1, 7, 21, 30),
            (Fee(fixed=Decimal("10.00")), Fee(fixed=Decimal("20.00")), Fee(percent=Decimal(2))),
        ),
        annual_interest_percent=Decimal(10),
    ),
    "gentle": Policy(name="gentle", levels=_ladder((-7, 7, 21, 45, 60), (None, None, None))),
}

# How far ahead of the due date any policy reminds: the run looks at invoices due up to then.
MAX_LEAD_DAYS: int = max(
    (-level.days for policy in POLICIES.values() for level in policy.levels if level.days < 0),
    default=0,
)


def policy_named(name: str) -> Policy:
    """The named policy; an unknown name (a typo, a retired policy) dunns by the default."""
    return POLICIES.get(name, POLICIES["default"])


# --- promises to pay ----------------------------------------------------------------------------


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class Promise(Model):
    model_config = _FROZEN

    promise_id: str
    invoice_id: str
    customer_id: str
    promised_on: date  # pay by this date (inclusive)
    amount: Decimal
    due_when_made: Decimal  # the invoice's amount due when the promise was recorded
    recorded_by: str
    recorded_at: datetime

    @model_validator(mode="after")
    def _positive(self) -> Promise:
        if self.amount <= 0:
            raise ValueError("a promise to pay is for an amount above 0")
        return self

    def status_on(self, today: date, amount_due: Decimal) -> PromiseStatus:
        """Kept once at least the promised amount was paid since; broken after its day."""
        if amount_due <= self.due_when_made - self.amount:
            return PromiseStatus.KEPT
        return PromiseStatus.OPEN if today <= self.promised_on else PromiseStatus.BROKEN

    def to_wire(self) -> dict[str, Any]:
        return {
            "promise_id": self.promise_id,
            "invoice_id": self.invoice_id,
            "customer_id": self.customer_id,
            "promised_on": self.promised_on.isoformat(),
            "amount": str(self.amount),
            "due_when_made": str(self.due_when_made),
            "recorded_by": self.recorded_by,
            "recorded_at": clock.iso(self.recorded_at),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Promise:
        return cls(
            promise_id=data["promise_id"],
            invoice_id=data["invoice_id"],
            customer_id=data["customer_id"],
            promised_on=date.fromisoformat(data["promised_on"]),
            amount=Decimal(str(data["amount"])),
            due_when_made=Decimal(str(data["due_when_made"])),
            recorded_by=data["recorded_by"],
            recorded_at=clock.parse(data["recorded_at"]),
        )


# --- interest -----------------------------------------------------------------------------------


class AllocationSpan(Model):
    """Money applied to the invoice (amount + discount settled), and when it was taken back."""

    model_config = _FROZEN

    applied_on: date
    amount: Decimal
    reversed_on: date | None = None

    def counts_on(self, day: date) -> bool:
        return self.applied_on <= day and (self.reversed_on is None or day < self.reversed_on)


def accrued_interest(  # noqa: PLR0917 (the spec's positional contract)
    start_amount: Decimal,
    allocations: Sequence[AllocationSpan],
    due_on: date,
    through: date,
    annual_percent: Decimal,
    currency: str,
) -> Decimal:
    """Interest on each day after ``due_on`` through ``through`` on what was still due that day.

    The principal only changes on the days money is applied or taken back, so the days are
    summed in spans of equal principal; the sum is exact and rounded once, half-up.
    """
    first = due_on + timedelta(days=1)
    if through < first or annual_percent <= 0:
        return quantize(ZERO, currency)
    changes = {first, through + timedelta(days=1)}
    for span in allocations:
        changes.update(
            day for day in (span.applied_on, span.reversed_on) if day and first < day <= through
        )
    bounds = sorted(changes)
    principal_days = ZERO
    for start, end in pairwise(bounds):
        applied = sum((span.amount for span in allocations if span.counts_on(start)), ZERO)
        principal_days += max(start_amount - applied, ZERO) * (end - start).days
    with localcontext() as exact:
        exact.prec = 60
        interest = principal_days * annual_percent / 36500
    return quantize(interest, currency)


# --- per-invoice state and the plan ----------------------------------------------------------


class InvoiceDunning(Model):
    """Per-invoice collection state (the store keeps one item per invoice)."""

    model_config = _FROZEN

    invoice_id: str
    last_level: int | None = None
    interest_charged: Decimal = ZERO  # interest posted so far on this invoice
    promise: Promise | None = None  # the latest open promise
    broken_promise: bool = False  # a promise broke; flagged on the worklist
    version: int = 0  # 0 = no item yet


class DueInvoice(Model):
    """What the planner (and the worklist) need of one open invoice.

    A legacy invoice, imported with no document of ours, is known only by what was still open
    when it was imported: that is its total, and nothing was credited on it.
    """

    model_config = _FROZEN

    invoice_id: str
    number: str
    customer_id: str
    currency: str
    issued_on: date
    due_on: date
    total: Decimal
    amount_credited: Decimal
    amount_due: Decimal
    status: str  # InvoiceStatus value: open | partially_paid | disputed | paid | credited
    allocations: tuple[AllocationSpan, ...] = ()
    legacy: bool = False  # imported from the legacy system
    disputed: Decimal = ZERO  # what the customer's open dispute cases hold: never chased

    @property
    def undisputed(self) -> Decimal:
        """What dunning may chase: the amount due less the open disputes' amounts."""
        return max(self.amount_due - self.disputed, ZERO)

    def days_overdue(self, as_of: date) -> int:
        """Days past the due date on ``as_of``; zero or less while not overdue."""
        return (as_of - self.due_on).days


class ReminderLine(Model):
    model_config = _FROZEN

    invoice_id: str
    number: str
    currency: str
    due_on: date
    days_overdue: int  # negative before due
    level: int
    level_name: str
    amount_due: Decimal  # what is chased: the invoice's amount due less the credit covering it
    fee: Decimal
    interest: Decimal
    interest_through: date | None = None
    covered_by_credit: Decimal = ZERO  # the customer's own credit set against the invoice

    def to_wire(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "number": self.number,
            "currency": self.currency,
            "due_on": self.due_on.isoformat(),
            "days_overdue": self.days_overdue,
            "level": self.level,
            "level_name": self.level_name,
            "amount_due": str(self.amount_due),
            "fee": str(self.fee),
            "interest": str(self.interest),
            "interest_through": self.interest_through.isoformat()
            if self.interest_through
            else None,
            "covered_by_credit": str(self.covered_by_credit),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ReminderLine:
        through = data.get("interest_through")
        return cls(
            invoice_id=data["invoice_id"],
            number=data["number"],
            currency=data["currency"],
            due_on=date.fromisoformat(data["due_on"]),
            days_overdue=int(data["days_overdue"]),
            level=int(data["level"]),
            level_name=data["level_name"],
            amount_due=Decimal(str(data["amount_due"])),
            fee=Decimal(str(data["fee"])),
            interest=Decimal(str(data["interest"])),
            interest_through=date.fromisoformat(through) if through else None,
            covered_by_credit=Decimal(str(data.get("covered_by_credit", "0"))),
        )


class Skip(Model):
    model_config = _FROZEN

    invoice_id: str
    number: str
    reason: SkipReason


class PromiseChange(Model):
    model_config = _FROZEN

    invoice_id: str
    promise_id: str
    status: PromiseStatus  # KEPT or BROKEN as of the run


class ReminderPlan(Model):
    """One customer's reminder of the day: the lines to send and what was left out, and why."""

    model_config = _FROZEN

    customer_id: str
    as_of: date
    policy: str
    lines: tuple[ReminderLine, ...]
    skipped: tuple[Skip, ...]
    promises: tuple[PromiseChange, ...]
    credit_hold: bool  # a line reached or passed a credit_hold level
    attach_statement: bool  # a line reached or passed a level that attaches the statement
    template: str  # the template of the highest level among the lines ("" when no lines)

    def totals(self) -> dict[str, dict[str, Decimal]]:
        """Per currency: the amount due, the fees and interest charged now, and their sum."""
        totals: dict[str, dict[str, Decimal]] = {}
        for line in self.lines:
            sums = totals.setdefault(
                line.currency, {"amount_due": ZERO, "fees": ZERO, "interest": ZERO, "total": ZERO}
            )
            sums["amount_due"] += line.amount_due
            sums["fees"] += line.fee
            sums["interest"] += line.interest
            sums["total"] += line.amount_due + line.fee + line.interest
        return totals

    def states_after(self, states: Mapping[str, InvoiceDunning]) -> dict[str, InvoiceDunning]:
        """The new state of every invoice the plan changes (each one version up)."""
        changes: dict[str, dict[str, Any]] = {}
        for change in self.promises:
            update = changes.setdefault(change.invoice_id, {})
            update["promise"] = None
            if change.status is PromiseStatus.BROKEN:
                update["broken_promise"] = True
        for skip in self.skipped:
            state = states.get(skip.invoice_id)
            if skip.reason == "settled" and state and (state.broken_promise or state.promise):
                changes.setdefault(skip.invoice_id, {}).update(promise=None, broken_promise=False)
        for line in self.lines:
            before = states.get(line.invoice_id) or InvoiceDunning(invoice_id=line.invoice_id)
            changes.setdefault(line.invoice_id, {}).update(
                last_level=line.level, interest_charged=before.interest_charged + line.interest
            )
        after: dict[str, InvoiceDunning] = {}
        for invoice_id, update in changes.items():
            before = states.get(invoice_id) or InvoiceDunning(invoice_id=invoice_id)
            after[invoice_id] = before.model_copy(update={**update, "version": before.version + 1})
        return after

    def to_wire(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "policy": self.policy,
            "lines": [line.to_wire() for line in self.lines],
            "skipped": [skip.model_dump(mode="json") for skip in self.skipped],
            "promises": [change.model_dump(mode="json") for change in self.promises],
            "credit_hold": self.credit_hold,
            "attach_statement": self.attach_statement,
            "template": self.template,
            "totals": {
                currency: {name: str(amount) for name, amount in sums.items()}
                for currency, sums in self.totals().items()
            },
        }


def plan(
    customer_id: str,
    policy: Policy,
    invoices: Sequence[DueInvoice],
    states: Mapping[str, InvoiceDunning],
    as_of: date,
    *,
    credit: Mapping[str, Decimal] | None = None,
    charges: Sequence[Charge] = (),
) -> ReminderPlan:
    """The reminder ``customer_id`` is due on ``as_of`` under ``policy``, given the states.

    ``credit`` is what the customer holds per currency (its own credit, set against the open
    invoices and ``charges`` oldest due first before anything is chased).
    """
    lines: list[ReminderLine] = []
    levels: list[Level] = []  # the levels reached, and every level passed on the way
    skipped: list[Skip] = []
    promises: list[PromiseChange] = []
    unclaimed = {currency: max(amount, ZERO) for currency, amount in (credit or {}).items()}
    waiting = charges_domain.oldest_first(list(charges))
    for invoice in sorted(invoices, key=lambda inv: (inv.due_on, inv.number)):
        while waiting and waiting[0].charged_on < invoice.due_on:
            _claim(unclaimed, waiting.pop(0))
        state = states.get(invoice.invoice_id) or InvoiceDunning(invoice_id=invoice.invoice_id)

        def skip(reason: SkipReason, inv: DueInvoice = invoice) -> None:
            skipped.append(Skip(invoice_id=inv.invoice_id, number=inv.number, reason=reason))

        if invoice.amount_due <= 0 or invoice.status in _SETTLED_STATUSES:
            promised = state.promise
            if promised and promised.status_on(as_of, invoice.amount_due) is PromiseStatus.KEPT:
                promises.append(_change(invoice, promised, PromiseStatus.KEPT))
            skip("settled")  # states_after clears its promise and broken-promise flag
            continue
        if invoice.status == "disputed" or invoice.undisputed <= 0:
            skip("disputed")
            continue
        covered = min(unclaimed.get(invoice.currency, ZERO), invoice.undisputed)
        if covered > 0:
            unclaimed[invoice.currency] -= covered
        if covered >= invoice.undisputed:
            skip("covered")
            continue
        broken = False
        if state.promise is not None:
            status = state.promise.status_on(as_of, invoice.amount_due)
            if status is PromiseStatus.OPEN:
                skip("promised")
                continue
            promises.append(_change(invoice, state.promise, status))
            broken = status is PromiseStatus.BROKEN

        level = _level_due(policy, invoice, state, as_of, broken=broken)
        if not isinstance(level, Level):
            skip(level)
            continue
        lines.append(_line(invoice, level, policy, state, as_of, covered))
        levels += _passed(policy, state.last_level, level)

    highest = max((line.level for line in lines), default=None)
    return ReminderPlan(
        customer_id=customer_id,
        as_of=as_of,
        policy=policy.name,
        lines=tuple(lines),
        skipped=tuple(skipped),
        promises=tuple(promises),
        credit_hold=any(level.credit_hold for level in levels),
        attach_statement=any(level.attach_statement for level in levels),
        template=policy.level(highest).template if highest is not None else "",
    )


def part_of(
    plan: ReminderPlan, invoice_ids: Collection[str], states: Mapping[str, InvoiceDunning]
) -> ReminderPlan:
    """The part of ``plan`` about ``invoice_ids`` (as read in ``states``): their lines, skips and
    promise changes, and what the levels of those lines call for (a reminder recorded in parts
    is ``joined`` from them)."""
    policy = policy_named(plan.policy)
    lines = tuple(line for line in plan.lines if line.invoice_id in invoice_ids)
    levels = [
        passed
        for line in lines
        for passed in _passed(
            policy,
            (states.get(line.invoice_id) or InvoiceDunning(invoice_id=line.invoice_id)).last_level,
            policy.level(line.level),
        )
    ]
    return plan.model_copy(
        update={
            "lines": lines,
            "skipped": tuple(skip for skip in plan.skipped if skip.invoice_id in invoice_ids),
            "promises": tuple(p for p in plan.promises if p.invoice_id in invoice_ids),
            "credit_hold": any(level.credit_hold for level in levels),
            "attach_statement": any(level.attach_statement for level in levels),
            "template": policy.level(max(line.level for line in lines)).template if lines else "",
        }
    )


def _highest(plan: ReminderPlan) -> int:
    return max(line.level for line in plan.lines)


def joined(parts: Sequence[ReminderPlan]) -> ReminderPlan:
    """One reminder of the parts recorded for it, the last planned last: every invoice's line
    once (the first recorded), in the plan's order, every promise change, what any part's levels
    call for, the template of the highest level and the skips of the last plan (less the
    invoices a part has a line for)."""
    last = parts[-1]
    lines: dict[str, ReminderLine] = {}
    promises: dict[str, PromiseChange] = {}
    for part in parts:
        for line in part.lines:
            lines.setdefault(line.invoice_id, line)
        for change in part.promises:
            promises.setdefault(change.promise_id, change)
    with_lines = [part for part in parts if part.lines]
    top = max(with_lines, key=_highest, default=None)
    return last.model_copy(
        update={
            "lines": tuple(sorted(lines.values(), key=lambda line: (line.due_on, line.number))),
            "skipped": tuple(skip for skip in last.skipped if skip.invoice_id not in lines),
            "promises": tuple(promises.values()),
            "credit_hold": any(part.credit_hold for part in parts),
            "attach_statement": any(part.attach_statement for part in parts),
            "template": top.template if top else "",
        }
    )


def _claim(unclaimed: dict[str, Decimal], charge: Charge) -> None:
    """The customer's credit covers an open charge due before the next invoice."""
    if charge.currency in unclaimed:
        unclaimed[charge.currency] -= min(unclaimed[charge.currency], charge.amount_due)


def _level_due(
    policy: Policy, invoice: DueInvoice, state: InvoiceDunning, as_of: date, *, broken: bool
) -> Level | SkipReason:
    """The level to send the invoice now, or why none: after a broken promise the next one at
    once (or the level reached, if higher); else the highest reached, if not sent before."""
    reached = _reached(policy, invoice.due_on, as_of)
    if broken:
        following = _following(policy, state.last_level, invoice.due_on, as_of)
        if following is None:
            return "last_level"
        if reached is None or following.number >= reached.number:
            return following
        return reached
    if reached is None:
        return "not_due"
    if state.last_level is not None and reached.number <= state.last_level:
        return "level_recorded"
    return reached


def _change(invoice: DueInvoice, promise: Promise, status: PromiseStatus) -> PromiseChange:
    return PromiseChange(
        invoice_id=invoice.invoice_id, promise_id=promise.promise_id, status=status
    )


def _reached(policy: Policy, due_on: date, as_of: date) -> Level | None:
    """The highest level whose day has come (a pre-due level only until the due date)."""
    overdue = (as_of - due_on).days
    reached = [
        level
        for level in policy.levels
        if level.days <= overdue and (level.days >= 0 or as_of <= due_on)
    ]
    return reached[-1] if reached else None


def _passed(policy: Policy, last_level: int | None, reached: Level) -> list[Level]:
    """Every level after the last one sent up to ``reached``: what the invoice went through."""
    return [
        level
        for level in policy.levels
        if (last_level is None or level.number > last_level) and level.number <= reached.number
    ]


def _following(policy: Policy, last_level: int | None, due_on: date, as_of: date) -> Level | None:
    """The level after the last one sent, whatever its day (a pre-due one only until due)."""
    for level in policy.levels:
        if last_level is not None and level.number <= last_level:
            continue
        if level.days < 0 and as_of > due_on:
            continue
        return level
    return None


def _line(  # noqa: PLR0917 (the plan's own helper)
    invoice: DueInvoice,
    level: Level,
    policy: Policy,
    state: InvoiceDunning,
    as_of: date,
    covered: Decimal = ZERO,
) -> ReminderLine:
    nothing = quantize(ZERO, invoice.currency)
    chased = invoice.undisputed - covered
    fee = level.fee.amount_for(chased, invoice.currency) if level.fee else nothing
    interest = nothing
    through: date | None = None
    if as_of > invoice.due_on and policy.annual_interest_percent > 0:
        accrued = accrued_interest(
            invoice.total - invoice.amount_credited - invoice.disputed,
            invoice.allocations,
            invoice.due_on,
            as_of,
            policy.annual_interest_percent,
            invoice.currency,
        )
        interest = max(accrued - state.interest_charged, ZERO)
        through = as_of
    return ReminderLine(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        currency=invoice.currency,
        due_on=invoice.due_on,
        days_overdue=invoice.days_overdue(as_of),
        level=level.number,
        level_name=level.name,
        amount_due=chased,
        fee=fee,
        interest=interest,
        interest_through=through,
        covered_by_credit=quantize(covered, invoice.currency),
    )
