"""Customer credits: money the seller holds for, or owes to, a customer, open to apply or pay back.

One kind of thing from two sources:

- **payment**: the part of a received payment not applied to invoices (an unapplied payment,
  or what an overpayment left). The payment itself keeps the figures (``Payment.unapplied``);
  a card refund requested at the gateway and not yet confirmed by its webhook is held back
  (``pending_refunds``) so it cannot be paid back or applied twice.
- **credit_note**: what a credit note took off beyond what its invoice still had open (the
  invoice was partly or fully paid). It is its own record (``CreditNoteCredit``), written in the
  credit note's transaction and moved by applications and refunds.

The ledger holds both on the unapplied cash account (a liability), so the sum of a customer's
open credits is the credit balance of that account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, field_validator, model_validator

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.money import Money
from shared.domain.payment import STRIPE, Payment, PaymentStatus
from shared.model import Model

SOURCE = "otc.credits"
ZERO = Decimal(0)
PENDING_REFUND_PREFIX = "refund_requested:"  # payment metadata: gateway refund id -> amount


class CreditKind(StrEnum):
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


class CreditError(ValueError):
    """A move the credit does not allow (more than it has left)."""


class CreditMove(Model):
    """An application to an invoice, or a refund, of part of a credit note's credit."""

    model_config = ConfigDict(frozen=True)

    move_id: str
    kind: Literal["application", "refund"]
    amount: Decimal
    at: datetime
    by: str
    invoice_id: str | None = None
    method: str | None = None
    reference: str | None = None

    @field_validator("at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        return _utc_millis(moment)

    def to_wire(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.move_id,
            "kind": self.kind,
            "amount": Money(amount=self.amount, currency=currency).to_wire(),
            "at": clock.iso(self.at),
            "by": self.by,
            "invoice_id": self.invoice_id,
            "method": self.method,
            "reference": self.reference,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> CreditMove:
        return cls(
            move_id=data["id"],
            kind=data["kind"],
            amount=Decimal(data["amount"]["amount"]),
            at=clock.parse(data["at"]),
            by=data["by"],
            invoice_id=data.get("invoice_id"),
            method=data.get("method"),
            reference=data.get("reference"),
        )


class CreditNoteCredit(Model):
    """What a credit note owes the customer beyond its invoice's amount due, and its moves."""

    model_config = ConfigDict(frozen=True)

    credit_note_id: str
    credit_note_number: str
    invoice_id: str  # the invoice the note credits
    customer_id: str
    currency: str
    original: Decimal
    arose_at: datetime
    moves: tuple[CreditMove, ...] = ()
    version: int = 1

    @field_validator("arose_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        return _utc_millis(moment)

    @model_validator(mode="after")
    def _not_overdrawn(self) -> CreditNoteCredit:
        if self.original <= 0:
            raise ValueError("a credit note's credit is above 0")
        if self.remaining < 0:
            raise CreditError(
                f"credit note {self.credit_note_number}: moves of {self.original - self.remaining}"
                f" exceed its credit of {self.original} {self.currency}"
            )
        return self

    @property
    def remaining(self) -> Decimal:
        return self.original - sum((move.amount for move in self.moves), ZERO)

    def moved(self, move: CreditMove) -> CreditNoteCredit:
        """The credit after ``move`` (raises ``CreditError`` beyond what is left)."""
        if move.amount <= 0:
            raise CreditError("a credit moves an amount above 0")
        if move.amount > self.remaining:
            raise CreditError(
                f"{move.amount} {self.currency} exceeds the {self.remaining} {self.currency} "
                f"left of credit note {self.credit_note_number}'s credit"
            )
        return self.model_copy(update={"moves": (*self.moves, move), "version": self.version + 1})

    def to_data(self) -> dict[str, Any]:
        return {
            "credit_note_id": self.credit_note_id,
            "credit_note_number": self.credit_note_number,
            "invoice_id": self.invoice_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "original": str(self.original),
            "arose_at": clock.iso(self.arose_at),
            "moves": [move.to_wire(self.currency) for move in self.moves],
            "version": self.version,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CreditNoteCredit:
        return cls(
            credit_note_id=data["credit_note_id"],
            credit_note_number=data["credit_note_number"],
            invoice_id=data["invoice_id"],
            customer_id=data["customer_id"],
            currency=data["currency"],
            original=Decimal(str(data["original"])),
            arose_at=clock.parse(data["arose_at"]),
            moves=tuple(CreditMove.from_wire(move) for move in data.get("moves", ())),
            version=int(data["version"]),
        )


class CustomerCredit(Model):
    """The one view of a credit, whatever its source (the API's and the policy's)."""

    model_config = ConfigDict(frozen=True)

    kind: CreditKind
    source_id: str
    customer_id: str
    currency: str
    original: Decimal
    remaining: Decimal
    arose_at: datetime
    reference: str | None = None  # the credit note's number, the payment's external id
    card: bool = False  # card money: paid back through the gateway
    version: int = 1

    def to_wire(self) -> dict[str, Any]:
        return {
            "source": {"kind": self.kind.value, "id": self.source_id},
            "reference": self.reference,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "original_amount": Money(amount=self.original, currency=self.currency).to_wire(),
            "remaining": Money(amount=self.remaining, currency=self.currency).to_wire(),
            "date": clock.iso(self.arose_at),
            "refund_channel": "gateway" if self.card else "recorded",
            "version": self.version,
        }


def of_credit_note(credit: CreditNoteCredit) -> CustomerCredit:
    return CustomerCredit(
        kind=CreditKind.CREDIT_NOTE,
        source_id=credit.credit_note_id,
        customer_id=credit.customer_id,
        currency=credit.currency,
        original=credit.original,
        remaining=credit.remaining,
        arose_at=credit.arose_at,
        reference=credit.credit_note_number,
        version=credit.version,
    )


def of_payment(payment: Payment) -> CustomerCredit:
    """The payment's credit: its unapplied part less refunds requested and not yet confirmed."""
    if payment.customer_id is None:
        raise ValueError(f"payment {payment.payment_id} is not identified: no customer's credit")
    return CustomerCredit(
        kind=CreditKind.PAYMENT,
        source_id=payment.payment_id,
        customer_id=payment.customer_id,
        currency=payment.currency,
        original=payment.amount,
        remaining=available(payment),
        arose_at=payment.received_at,
        reference=payment.external_id,
        card=payment.source == STRIPE,
        version=payment.version,
    )


def is_usable(payment: Payment) -> bool:
    """May the payment's money be applied or paid back (identified, not disputed, not refunded)?"""
    return (
        payment.customer_id is not None
        and not payment.disputed
        and payment.status is not PaymentStatus.REFUNDED
    )


def is_open_payment_credit(payment: Payment) -> bool:
    """Does the payment hold money the customer can use?"""
    return is_usable(payment) and available(payment) > 0


def pending_refunds(payment: Payment) -> Decimal:
    """Refunds requested at the gateway that its webhooks have not confirmed yet.

    The gateway reports refunds as a cumulative total (``Payment.refunded`` follows it), so what
    was requested beyond what the payment shows refunded is still on its way.
    """
    requested = sum(
        (
            Decimal(value)
            for key, value in payment.metadata.items()
            if key.startswith(PENDING_REFUND_PREFIX)
        ),
        ZERO,
    )
    return max(ZERO, requested - payment.refunded)


def available(payment: Payment) -> Decimal:
    return max(ZERO, payment.unapplied - pending_refunds(payment))


def with_requested_refund(payment: Payment, refund_id: str, amount: Decimal) -> Payment:
    """The payment remembering a gateway refund requested (by the gateway's refund id)."""
    metadata = {**payment.metadata, f"{PENDING_REFUND_PREFIX}{refund_id}": str(amount)}
    return payment.model_copy(update={"metadata": metadata, "version": payment.version + 1})


def credit_event(
    detail_type: str, credit: CustomerCredit, at: datetime, **data: Any
) -> DomainEvent:
    """``CreditApplied`` / ``CreditRefunded`` / ``CreditRefundRequested``: the credit after."""
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=credit.source_id,
        occurred_at=at,
        data={**credit.to_wire(), "credit_id": credit.source_id, **data},
    )


def oldest_first(credits: list[CustomerCredit]) -> list[CustomerCredit]:
    return sorted(credits, key=lambda credit: (credit.arose_at, credit.source_id))


def _utc_millis(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
