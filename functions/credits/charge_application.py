"""Apply a customer credit to a fee or interest charge (the ``charge_id`` form of
POST /customers/{customer_id}/credits/applications, and the oldest-first policy).

The same ONE transaction as an application to an invoice (see ``apply_credit``), with the charge
in the invoice's place, guarded by the version read:

- **payment**: ``settlement.CashMove.allocate_to_charge`` (the payment, the charge, the
  allocation's entry naming the charge, the credit figures, ``PaymentApplied``);
- **credit note**: the credit's next version, the charge's, the ``credit_application`` entry
  naming the charge, the credit figures (receivables and unapplied cash both down).

Both end with ``CreditApplied`` naming the charge. A retry of a request that applied finds its
application (by its id) and answers it again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from functions.credits.application import (
    Applied,
    CreditApplicationRequest,
    commit_application,
    commit_payment_application,
    credit_note_credit,
    credit_note_writes,
    customer_payment,
    earlier_application,
    require_usable,
    require_within,
    retried,
    with_application,
)
from functions.payments.settlement import CashMove, open_charge
from shared import clock, errors
from shared.domain import charges as charge_domain
from shared.domain import credits as credits_domain
from shared.domain import ledger as ledger_domain
from shared.domain.access import Principal
from shared.domain.charges import Charge
from shared.domain.credits import CreditKind, CustomerCredit
from shared.store import charges as charge_store


def apply_credit_to_charge(  # noqa: PLR0917 (apply_credit's own figures, passed on)
    customer_id: str,
    request: CreditApplicationRequest,
    charge_id: str,
    amount: Decimal,
    currency: str,
    principal: Principal,
    application_id: str,
) -> dict[str, Any]:
    """The application to the charge; 404 unknown credit, 409 contended, 422 refused."""
    if earlier := _applied_before(customer_id, request, charge_id, application_id):
        return earlier.to_wire()

    def attempt() -> Applied:
        charge, problem = open_charge(charge_id, customer_id, currency)
        if charge is None:
            detail = problem or charge_id
            raise errors.Unprocessable(
                "credit-application-refused",
                detail,
                errors=[{"pointer": "#/charge_id", "detail": detail}],
            )
        return apply_to_charge(
            customer_id,
            request.source.kind,
            request.source.id,
            charge,
            amount,
            by=principal.principal_id,
            application_id=application_id,
        )

    return retried(attempt, "charge").to_wire()


def apply_to_charge(
    customer_id: str,
    kind: CreditKind,
    source_id: str,
    charge: Charge,
    amount: Decimal,
    *,
    by: str,
    application_id: str,
) -> Applied:
    """Apply ``amount`` of the credit to ``charge`` as read; raises ``StaleStateError`` when the
    credit or the charge changed since, problems when it does not fit."""
    if kind is CreditKind.PAYMENT:
        return _apply_payment(customer_id, source_id, charge, amount, by, application_id)
    return _apply_credit_note(customer_id, source_id, charge, amount, by, application_id)


def _apply_payment(  # noqa: PLR0917
    customer_id: str,
    payment_id: str,
    charge: Charge,
    amount: Decimal,
    by: str,
    application_id: str,
) -> Applied:
    payment = customer_payment(customer_id, payment_id)
    require_usable(payment)
    _within(amount, credits_domain.available(payment), charge, f"payment {payment_id}")
    move = CashMove(payment, clock.now())
    allocation = move.allocate_to_charge(
        charge,
        amount,
        by=by,
        evidence=("customer credit",),
        confidence=Decimal(1),
        allocation_id=application_id,
    )
    view = credits_domain.of_payment(move.payment)
    applied = _applied_event(view, move.at, application_id, charge, amount)
    after = move.charges_after[charge.charge_id]
    return commit_payment_application(move, allocation, after, amount, applied, by=by)


def _apply_credit_note(  # noqa: PLR0917
    customer_id: str,
    credit_note_id: str,
    charge: Charge,
    amount: Decimal,
    by: str,
    application_id: str,
) -> Applied:
    before = credit_note_credit(customer_id, credit_note_id)
    _within(amount, before.remaining, charge, f"credit note {before.credit_note_number}'s credit")
    at = clock.now()
    after = with_application(before, application_id, amount, at, by, charge.charge_id)
    settled = charge_domain.settle(charge, amount)
    entry = ledger_domain.for_credit_application(
        customer_id,
        charge.currency,
        charge.invoice_id or charge.charge_id,
        amount,
        application_id,
        at,
        before.credit_note_number,
        charge_id=charge.charge_id,
    )
    state = credit_note_writes(
        before, after, charge_store.replacing(settled, charge), entry, amount
    )
    view = credits_domain.of_credit_note(after)
    commit_application(state, [_applied_event(view, at, application_id, charge, amount)])
    return Applied(
        application_id, view, settled.model_copy(update={"version": charge.version + 1}), amount
    )


def _within(amount: Decimal, left: Decimal, charge: Charge, label: str) -> None:
    require_within(
        amount, left, charge.amount_due, charge.currency, f"charge {charge.charge_id}", label
    )


def _applied_event(
    view: CustomerCredit, at: Any, application_id: str, charge: Charge, amount: Decimal
) -> Any:
    return credits_domain.credit_event(
        "CreditApplied",
        view,
        at,
        application_id=application_id,
        charge_id=charge.charge_id,
        invoice_id=charge.invoice_id,
        amount=charge.money(amount),
    )


def _applied_before(
    customer_id: str, request: CreditApplicationRequest, charge_id: str, application_id: str
) -> Applied | None:
    """The application a first attempt of this request made (then died before answering)."""
    charge = charge_store.get(customer_id, charge_id) if len(charge_id) <= 200 else None
    earlier = earlier_application(customer_id, request.source, application_id)
    if charge is None or earlier is None:
        return None
    return Applied(application_id, earlier[0], charge, earlier[1])
