"""Pay a customer credit back (POST /customers/{customer_id}/credits/refunds).

- **Recorded refund** (bank transfer or cheque the seller sent; a credit note's credit, or a
  payment received by bank, cheque or a clerk's entry): ONE transaction of the credit's next
  version (a credit note credit's refund move, or the payment's refunded total), the refund's
  journal entry (DR unapplied cash, CR cash), the credit figures (unapplied cash down) and
  ``CreditRefunded`` (a payment's also ``PaymentRefunded``). 201, ``status: completed``.
- **Card money** (a payment whose source is Stripe): a refund request to Stripe
  (``stripe.Refund.create`` for the payment's charge or payment intent, the amount in minor
  units, our idempotency key). The payment remembers the requested refund by Stripe's id
  (metadata ``refund_requested:<re_...>``), which holds that amount back from the credit; the
  money moves in the books when Stripe's ``charge.refunded`` webhook reports it (its cumulative
  ``amount_refunded`` counts the refund once, see record_gateway_event). 202,
  ``status: pending``.

The refund's id comes from the request (its Idempotency-Key): a retry whose first attempt wrote
the refund, then died before its answer was saved, answers it again; Stripe's own idempotency
key makes a retried request one refund at Stripe.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict

from functions.credits.application import CreditSource
from functions.payments.settlement import CashMove, payment_event
from shared import clock, errors, ids, request_scope
from shared.adapters import stripe_refunds
from shared.domain import credits as credits_domain
from shared.domain import ledger as ledger_domain
from shared.domain.access import Principal
from shared.domain.credits import CreditKind, CreditMove, CustomerCredit
from shared.domain.money import DecimalString, Money, minor_units
from shared.domain.omittable import Omittable
from shared.domain.payment import STRIPE, Payment
from shared.domain.text import SingleLine
from shared.model import Model
from shared.store import credit, customer_credits, outbox, payments
from shared.store import ledger as ledger_store
from shared.store.outbox import StaleStateError

ATTEMPTS = 2

Reference = Annotated[str, SingleLine(max_length=120)]


class RefundMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"


class CreditRefundRequest(Model):
    """Which credit, how much, and (money sent by the seller) how it was sent."""

    model_config = ConfigDict(extra="forbid", strict=True)

    source: CreditSource
    amount: DecimalString
    method: Omittable[RefundMethod] = None  # recorded refunds: how the money was sent
    reference: Omittable[Reference] = None  # recorded refunds: the transfer's or cheque's id


def refund_credit(
    customer_id: str, request: CreditRefundRequest, principal: Principal
) -> dict[str, Any]:
    """``{"status": 201|202, "body": refund}``; 404 unknown, 409 contended, 422 refused."""
    figures = credit.get_exposure(customer_id) if len(customer_id) <= 64 else None
    if figures is None:
        raise errors.NotFound(f"customer {customer_id}")
    amount = _amount(request.amount, figures.currency)
    refund_id = request_scope.request_scoped_id("rfd") or ids.new_id("rfd")
    for attempt in range(ATTEMPTS):
        try:
            if request.source.kind is CreditKind.CREDIT_NOTE:
                return _refund_credit_note(customer_id, request, amount, refund_id, principal)
            return _refund_payment(customer_id, request, amount, refund_id, principal)
        except StaleStateError:
            if attempt == ATTEMPTS - 1:
                raise errors.Conflict(
                    "concurrent-modification",
                    "the credit changed meanwhile; read it again and retry",
                ) from None
    raise AssertionError("unreachable")


def _refund_credit_note(
    customer_id: str,
    request: CreditRefundRequest,
    amount: Decimal,
    refund_id: str,
    principal: Principal,
) -> dict[str, Any]:
    before = customer_credits.get_credit_note_credit(customer_id, request.source.id)
    if before is None:
        raise errors.NotFound(f"credit {request.source.id} of customer {customer_id}")
    if any(move.move_id == refund_id for move in before.moves):  # a retry that refunded
        return _answer(
            201, refund_id, "completed", amount, request, credits_domain.of_credit_note(before)
        )
    method, reference = _recorded(request)
    _require_within(
        amount,
        before.remaining,
        before.currency,
        f"credit note {before.credit_note_number}'s credit",
    )
    at = clock.now()
    after = before.moved(
        CreditMove(
            move_id=refund_id,
            kind="refund",
            amount=amount,
            at=at,
            by=principal.principal_id,
            method=method,
            reference=reference,
        )
    )
    entry = ledger_domain.for_refund(customer_id, before.currency, amount, refund_id, at)
    view = credits_domain.of_credit_note(after)
    state = [
        customer_credits.replacing(after, before),
        *ledger_store.post(entry),
        credit.release_unapplied_cash(customer_id, amount),
    ]
    _commit(state, [_refunded_event(view, at, refund_id, amount, method, reference)])
    return _answer(201, refund_id, "completed", amount, request, view)


def _refund_payment(
    customer_id: str,
    request: CreditRefundRequest,
    amount: Decimal,
    refund_id: str,
    principal: Principal,
) -> dict[str, Any]:
    payment = payments.get(request.source.id)
    if payment is None or payment.customer_id != customer_id:
        raise errors.NotFound(f"credit {request.source.id} of customer {customer_id}")
    if payment.source == STRIPE:
        return _request_card_refund(payment, request, amount, refund_id)
    if ledger_store.is_posted(ledger_domain.entry_id("refund", refund_id)):  # a retry
        return _answer(
            201, refund_id, "completed", amount, request, credits_domain.of_payment(payment)
        )
    method, reference = _recorded(request)
    _require_open(payment)
    _require_within(
        amount, credits_domain.available(payment), payment.currency, f"payment {payment.payment_id}"
    )
    move = CashMove(payment, clock.now())
    move.refund(amount, refund_id)
    view = credits_domain.of_payment(move.payment)
    move.commit(
        [
            payment_event(
                "PaymentRefunded",
                move.payment,
                move.at,
                refund=payment.money(amount),
                unapplied_allocations=[],
                reason=f"credit refunded by {principal.principal_id}",
            ),
            _refunded_event(view, move.at, refund_id, amount, method, reference),
        ]
    )
    return _answer(201, refund_id, "completed", amount, request, view)


def _request_card_refund(
    payment: Payment, request: CreditRefundRequest, amount: Decimal, refund_id: str
) -> dict[str, Any]:
    """Ask Stripe for the refund, then remember it on the payment (pending its webhook)."""
    if request.method is not None or request.reference is not None:
        raise errors.Unprocessable(
            "refund-refused",
            "card money goes back through the gateway: send no method or reference",
            errors=[{"pointer": "#/method", "detail": "not for card money"}],
        )
    _require_open(payment)
    _require_within(
        amount, credits_domain.available(payment), payment.currency, f"payment {payment.payment_id}"
    )
    try:
        requested = stripe_refunds.request_refund(
            payment.external_id,
            amount,
            payment.currency,
            idempotency_key=refund_id,
            metadata={"customer_id": payment.customer_id or "", "payment_id": payment.payment_id},
        )
    except stripe_refunds.RefundRefusedError as refused:
        raise errors.Unprocessable(
            "refund-refused", f"Stripe refused the refund: {refused}"
        ) from None
    except stripe_refunds.GatewayUnavailableError:
        raise errors.busy() from None
    if requested.amount != amount or requested.currency != payment.currency:
        raise errors.Unprocessable(
            "refund-refused",
            f"Stripe answered a refund of {requested.amount} {requested.currency}, "
            f"not {amount} {payment.currency}",
        )
    key = f"{credits_domain.PENDING_REFUND_PREFIX}{requested.refund_id}"
    if key not in payment.metadata:
        after = credits_domain.with_requested_refund(payment, requested.refund_id, amount)
        view = credits_domain.of_payment(after)
        at = clock.now()
        event = credits_domain.credit_event(
            "CreditRefundRequested",
            view,
            at,
            refund_id=requested.refund_id,
            amount=payment.money(amount),
            gateway_status=requested.status,
        )
        _commit([payments.replacing(after, payment)], [event])
    else:
        view = credits_domain.of_payment(payment)
    return _answer(202, requested.refund_id, "pending", amount, request, view)


# --- helpers ---------------------------------------------------------------------------------


def _commit(state: list[Any], events: list[Any]) -> None:
    """Commit; a failed guard on the credit (index 0) is stale, any other a conflict."""
    try:
        outbox.commit(state, events)
    except StaleStateError as stale:
        if 0 in stale.failed or not stale.failed:
            raise
        raise errors.Conflict(
            "credit-figures-changed", "the customer's credit figures do not cover the refund"
        ) from None


def _recorded(request: CreditRefundRequest) -> tuple[str, str]:
    """The method and reference a recorded refund needs (422 naming what is missing)."""
    failures = [
        {"pointer": f"#/{name}", "detail": "required for a refund the seller sent"}
        for name in ("method", "reference")
        if getattr(request, name) is None
    ]
    if failures or request.method is None or request.reference is None:
        raise errors.Unprocessable("refund-refused", failures[0]["detail"], errors=failures)
    return request.method.value, request.reference


def _require_open(payment: Payment) -> None:
    if not credits_domain.is_usable(payment):
        raise errors.Conflict(
            "credit-not-open",
            f"payment {payment.payment_id} is refunded or disputed: no credit to pay back",
            current_version=payment.version,
        )


def _require_within(amount: Decimal, left: Decimal, currency: str, label: str) -> None:
    if amount > left:
        detail = f"{amount} {currency} exceeds the {left} {currency} left of {label}"
        raise errors.Unprocessable(
            "over-refund", detail, errors=[{"pointer": "#/amount", "detail": detail}]
        )


def _amount(text: str, currency: str) -> Decimal:
    amount = Decimal(text)
    places = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)) or amount <= 0:
        detail = f"an amount above 0 with at most {places} decimal places ({currency})"
        raise errors.Unprocessable(
            "refund-refused", detail, errors=[{"pointer": "#/amount", "detail": detail}]
        )
    return amount


def _refunded_event(  # noqa: PLR0917
    view: CustomerCredit,
    at: Any,
    refund_id: str,
    amount: Decimal,
    method: str,
    reference: str,
) -> Any:
    return credits_domain.credit_event(
        "CreditRefunded",
        view,
        at,
        refund_id=refund_id,
        amount=Money(amount=amount, currency=view.currency).to_wire(),
        method=method,
        reference=reference,
    )


def _answer(  # noqa: PLR0917
    status: int,
    refund_id: str,
    state: str,
    amount: Decimal,
    request: CreditRefundRequest,
    view: CustomerCredit,
) -> dict[str, Any]:
    return {
        "status": status,
        "body": {
            "id": refund_id,
            "status": state,
            "amount": Money(amount=amount, currency=view.currency).to_wire(),
            "method": request.method.value if request.method else "card",
            "reference": request.reference,
            "credit": view.to_wire(),
        },
    }
