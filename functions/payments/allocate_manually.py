"""A clerk applies a payment to invoices and charges (POST /payments/{payment_id}/allocations).

The worklist holds payments the matcher would not apply alone; a clerk says which invoices
they pay (and, for a payer not identified yet, whose money it is). The allocation is written
exactly like an automatic one - ONE transaction of the payment, the invoices, the journal
entries, the credit figures, ``PaymentApplied`` and ``InvoicePaid`` (see ``settlement``) - with
the clerk as ``applied_by`` and the evidence "allocated by <clerk>".

The same transaction remembers the correction: every payer key of the payment (its account,
its normalised name) becomes an alias of the customer, so the matcher identifies the payer's
next payment on its own.

A line names an invoice (``invoice_id``) or a fee or interest charge (``charge_id``, its
ledger entry id, as ``GET /customers/{id}/charges`` lists it): exactly one of them.

Refused with 422 and a pointer per failing field: an unknown customer or one billed in another
currency, a line naming both an invoice and a charge or neither, an invoice or charge that is not
the customer's or not open, an amount beyond what is due or beyond what the payment has
unapplied, a discount on a charge. 409 when the payment cannot take allocations (refunded,
disputed, another customer's) or changed twice while this was being written.

Each allocation's id is derived from the request (its Idempotency-Key) and the invoice: a retry
whose first attempt allocated, then died before its answer was saved, finds those allocations on
the payment it reads and answers the payment instead of allocating a second time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from functions.payments.settlement import CashMove, open_charge, payment_event
from functions.payments.worklist import with_decision
from shared import clock, errors, ids, request_scope
from shared.domain import credits as credits_domain
from shared.domain import remittance
from shared.domain.access import Principal
from shared.domain.charges import Charge
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.money import DecimalString, minor_units
from shared.domain.omittable import Omittable
from shared.domain.payment import Payment, PaymentStatus
from shared.model import Model
from shared.store import aliases, credit, invoices, payments
from shared.store.outbox import StaleStateError

ATTEMPTS = 2  # the first read, and one more after a concurrent write
MAX_ALLOCATIONS = 50

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class AllocationLine(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    invoice_id: Omittable[Identifier] = None
    charge_id: Omittable[Identifier] = None  # a fee or interest charge instead of an invoice
    amount: DecimalString
    discount: Omittable[DecimalString] = None  # an early-payment discount the clerk grants

    @property
    def item_id(self) -> str:
        """The open item the line pays (its invoice or charge)."""
        return self.charge_id or self.invoice_id or ""


class AllocationRequest(Model):
    """Which invoices the payment pays, and (for an unidentified payer) whose payment it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    customer_id: Omittable[Identifier] = None
    allocations: list[AllocationLine] = Field(min_length=1, max_length=MAX_ALLOCATIONS)

    @field_validator("allocations")
    @classmethod
    def _one_entry_per_invoice(cls, lines: list[AllocationLine]) -> list[AllocationLine]:
        ids = [line.item_id for line in lines if line.item_id]
        if len(set(ids)) != len(ids):
            raise ValueError("name each invoice and charge once")
        return lines


def allocate_manually(
    payment_id: str, request: AllocationRequest, principal: Principal
) -> dict[str, Any]:
    """The payment after the allocations (with its latest matcher decision)."""
    allocation_ids = _allocation_ids(request)
    for attempt in range(ATTEMPTS):
        payment = _found(payment_id)
        if any(a.allocation_id in allocation_ids.values() for a in payment.allocations):
            # A retry whose first attempt allocated, then died before its answer was saved
            return with_decision(payment)
        _require_allocatable(payment)
        try:
            move = _planned(payment, request, principal, allocation_ids)
        except errors.Unprocessable:
            if _changed(payment) and attempt < ATTEMPTS - 1:
                continue  # judged against a payment another write moved: judge it afresh
            raise
        try:
            move.commit(
                [
                    payment_event(
                        "PaymentApplied",
                        move.payment,
                        move.at,
                        allocated=[
                            allocation.to_wire(payment.currency)
                            for allocation in move.payment.allocations
                            if allocation not in payment.allocations
                        ],
                        decision={"basis": "manual", "allocated_by": principal.principal_id},
                    ),
                    *move.invoice_events(payment_id=payment.payment_id),
                ]
            )
        except StaleStateError:
            if attempt == ATTEMPTS - 1:
                raise errors.Conflict(
                    "concurrent-modification",
                    "the payment or an invoice changed meanwhile; read them again and retry",
                ) from None
            continue
        return with_decision(move.payment)
    raise AssertionError("unreachable")


def _allocation_ids(request: AllocationRequest) -> dict[str, str]:
    """Invoice or charge id -> the id of its allocation, the same on every retry of this
    request (none outside a request: the allocations get new ids)."""
    scope = request_scope.request_scoped_id("alc")
    if scope is None:
        return {}
    return {
        line.item_id: ids.derived_id("alc", f"{scope}#{line.item_id}")
        for line in request.allocations
    }


def _found(payment_id: str) -> Payment:
    payment = payments.get(payment_id)
    if payment is None:
        raise errors.NotFound(f"payment {payment_id}")
    return payment


def _changed(payment: Payment) -> bool:
    """Whether the payment moved on since it was read (its invoices may have with it)."""
    now = payments.get(payment.payment_id)
    return now is None or now.version != payment.version


def _require_allocatable(payment: Payment) -> None:
    payment_id = payment.payment_id
    if payment.status is PaymentStatus.REFUNDED or payment.disputed:
        state = "refunded" if payment.status is PaymentStatus.REFUNDED else "disputed"
        raise errors.Conflict(
            "not-allocatable", f"payment {payment_id} is {state}", current_version=payment.version
        )
    if credits_domain.available(payment) <= 0:
        raise errors.Conflict(
            "not-allocatable",
            f"payment {payment_id} has nothing left to apply",
            current_version=payment.version,
        )


def _planned(
    payment: Payment,
    request: AllocationRequest,
    principal: Principal,
    allocation_ids: dict[str, str],
) -> CashMove:
    """The allocations as one move, or 409/422 naming what does not fit."""
    failures: list[dict[str, str]] = []
    customer_id = _customer(payment, request, failures)
    found: list[tuple[Invoice | Charge, Decimal, Decimal]] = []
    for index, line in enumerate(request.allocations):
        pointer = f"#/allocations/{index}"
        item = _item(line, customer_id, payment, pointer, failures)
        amount = _amount(line.amount, payment, f"{pointer}/amount", failures)
        discount = _amount(line.discount or "0", payment, f"{pointer}/discount", failures)
        if item is None or amount is None or discount is None:
            continue
        due, label = _due(item)
        if isinstance(item, Charge) and discount:
            failures.append(
                {"pointer": f"{pointer}/discount", "detail": "a charge has no discount"}
            )
        elif amount + discount <= 0:
            failures.append({"pointer": f"{pointer}/amount", "detail": "must be above 0"})
        elif amount + discount > due:
            failures.append(
                {
                    "pointer": f"{pointer}/amount",
                    "detail": f"{amount + discount} exceeds the {due} {payment.currency} due on "
                    f"{label}",
                }
            )
        else:
            found.append((item, amount, discount))
    total = sum((amount for _, amount, _ in found), Decimal(0))
    available = credits_domain.available(payment)  # less refunds pending at the gateway
    if total > available:
        failures.append(
            {
                "pointer": "#/allocations",
                "detail": f"{total} {payment.currency} exceeds the {available} "
                f"{payment.currency} the payment has unapplied",
            }
        )
    if failures or customer_id is None:
        raise errors.Unprocessable(
            "allocation-refused",
            failures[0]["detail"] if failures else "no customer",
            errors=failures,
        )
    move = CashMove(payment, clock.now())
    move.identify(customer_id)
    by, evidence = principal.principal_id, (f"allocated by {principal.principal_id}",)
    for item, amount, discount in found:
        if isinstance(item, Charge):
            move.allocate_to_charge(
                item,
                amount,
                by=by,
                evidence=evidence,
                confidence=Decimal(1),
                allocation_id=allocation_ids.get(item.charge_id),
            )
            continue
        move.allocate(
            item,
            amount,
            discount,
            by=by,
            evidence=evidence,
            confidence=Decimal(1),
            allocation_id=allocation_ids.get(item.invoice_id),
        )
    payer_keys = remittance.payer_key(payment.payer_name, payment.payer_account)
    move.extra += aliases.remember(
        payer_keys, customer_id, by=principal.principal_id, payment_id=payment.payment_id
    )
    return move


def _customer(
    payment: Payment, request: AllocationRequest, failures: list[dict[str, str]]
) -> str | None:
    """Whose payment it is: the payment's customer, or the one the clerk names."""
    named = request.customer_id
    if payment.customer_id and named and named != payment.customer_id:
        raise errors.Conflict(
            "not-allocatable", f"payment {payment.payment_id} is {payment.customer_id}'s"
        )
    customer_id = payment.customer_id or named
    if customer_id is None:
        failures.append(
            {"pointer": "#/customer_id", "detail": "required: the payer is not identified yet"}
        )
        return None
    figures = credit.get_exposure(customer_id)
    if figures is None:
        failures.append({"pointer": "#/customer_id", "detail": f"no customer {customer_id}"})
        return None
    if figures.currency != payment.currency:
        failures.append(
            {
                "pointer": "#/customer_id",
                "detail": f"{customer_id} is billed in {figures.currency}, the payment is in "
                f"{payment.currency}",
            }
        )
        return None
    return customer_id


def _item(
    line: AllocationLine,
    customer_id: str | None,
    payment: Payment,
    pointer: str,
    failures: list[dict[str, str]],
) -> Invoice | Charge | None:
    """The invoice or the charge the line names (exactly one), or None with the problem."""
    if (line.invoice_id is None) == (line.charge_id is None):
        failures.append({"pointer": pointer, "detail": "name either an invoice_id or a charge_id"})
        return None
    if line.charge_id is not None:
        return _charge(line.charge_id, customer_id, payment, f"{pointer}/charge_id", failures)
    assert line.invoice_id is not None
    return _invoice(line.invoice_id, customer_id, payment, f"{pointer}/invoice_id", failures)


def _due(item: Invoice | Charge) -> tuple[Decimal, str]:
    """What is due on the item, and how a problem names it."""
    if isinstance(item, Charge):
        return item.amount_due, f"charge {item.charge_id}"
    return item.amount_due, item.number


def _charge(
    charge_id: str,
    customer_id: str | None,
    payment: Payment,
    pointer: str,
    failures: list[dict[str, str]],
) -> Charge | None:
    if customer_id is None:
        return None
    charge, problem = open_charge(charge_id, customer_id, payment.currency)
    if problem:
        failures.append({"pointer": pointer, "detail": problem})
    return charge


def _invoice(
    invoice_id: str,
    customer_id: str | None,
    payment: Payment,
    pointer: str,
    failures: list[dict[str, str]],
) -> Invoice | None:
    invoice = invoices.receivable(invoice_id)
    problem = None
    if invoice is None or invoice.kind is not DocumentKind.INVOICE:
        problem = f"no invoice {invoice_id} that cash can be applied to"
    elif customer_id is not None and invoice.customer_id != customer_id:
        problem = f"invoice {invoice.number} is not {customer_id}'s"
    elif invoice.currency != payment.currency:
        problem = f"invoice {invoice.number} is in {invoice.currency}, not {payment.currency}"
    elif invoice.amount_due <= 0:
        problem = f"invoice {invoice.number} has nothing due ({invoice.status.value})"
    if problem:
        failures.append({"pointer": pointer, "detail": problem})
        return None
    return invoice


def _amount(
    text: str, payment: Payment, pointer: str, failures: list[dict[str, str]]
) -> Decimal | None:
    amount = Decimal(text)
    places = minor_units(payment.currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        failures.append(
            {"pointer": pointer, "detail": f"{payment.currency} has {places} decimal places"}
        )
        return None
    return amount
