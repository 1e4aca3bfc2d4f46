"""Payments: money received from a customer, and how much of it is applied to invoices.

A payment arrives through one channel - a payment gateway's webhook (``stripe`` or a generic
provider's name), a bank statement entry (``bank``) or a clerk's entry (``manual``) - and is
named there by an external id: the gateway's payment intent or charge id, the bank's entry
reference (AcctSvcrRef), the cheque number or wire reference. The pair (source, reference) is
what makes one real payment one Payment, however often the channel reports it.

A payment starts ``unapplied``; cash application allocates parts of it to invoices
(``allocate``), may take an allocation back (``unapply``), and money may go back to the payer
(``refund``) or be contested at the gateway (``dispute``). Every move returns a new, immutable
Payment with the next version; nothing here touches storage.

Money going back moves exactly its amount: a partial refund or chargeback takes back only the
part of an allocation it needs (``take_back_part``: the allocation stays in force for the rest),
and a gateway's chargeback (``withdraw``) is held apart until its dispute is won (``reinstate``).

    unapplied = amount - applied (active allocations, less parts taken back) - refunded - withdrawn
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator

from shared import clock, ids
from shared.domain.events import DomainEvent
from shared.domain.money import Money, minor_units
from shared.model import Model

SOURCE = "otc.payments"
ZERO = Decimal(0)

STRIPE = "stripe"
BANK = "bank"
MANUAL = "manual"
PROVIDER_NAME = re.compile(r"^[a-z0-9-]{2,40}$")  # a generic gateway's name is its source
MAX_REFERENCE_LENGTH = 200
DISPUTE_PREFIX = "dispute:"  # metadata keys recording each gateway dispute's state
ENTRY_KEY = "entry_key"  # metadata of a bank payment: its statement account and entry reference


class PaymentMethod(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"
    WIRE = "wire"
    GATEWAY = "gateway"  # a gateway payment whose instrument the gateway does not tell


class PaymentStatus(StrEnum):
    UNAPPLIED = "unapplied"  # nothing applied yet (the cash-application worklist)
    PARTIALLY_APPLIED = "partially_applied"  # some applied, some still to apply (worklist too)
    APPLIED = "applied"  # all of it applied (what was not refunded)
    REFUNDED = "refunded"  # all of it paid back (refunds, and chargebacks not won)
    REVERSED = "reversed"  # the bank took it back (a reversal or return of the credit)


WORKLIST_STATUSES = (PaymentStatus.UNAPPLIED, PaymentStatus.PARTIALLY_APPLIED)


class PaymentError(ValueError):
    """A move the payment's state does not allow."""


class OverAllocationError(PaymentError):
    """An allocation larger than what the payment still has unapplied."""


class NotReversibleError(PaymentError):
    """A bank reversal that does not undo exactly this payment as it stands."""


class RefundExceedsUnappliedError(PaymentError):
    """A refund larger than the unapplied part: allocations must be taken back first."""

    def __init__(self, payment: Payment, amount: Decimal) -> None:
        super().__init__(
            f"payment {payment.payment_id}: a refund of {amount} {payment.currency} exceeds the "
            f"unapplied {payment.unapplied} {payment.currency}; {payment.applied} "
            f"{payment.currency} is applied to invoices - unapply it before refunding"
        )
        self.amount = amount
        self.applied = payment.applied
        self.unapplied = payment.unapplied


def _utc_millis(moment: datetime) -> datetime:
    """UTC at millisecond precision, as stored, so a payment reads back equal."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _check_amount(amount: Decimal, currency: str, *, name: str, positive: bool) -> Decimal:
    """``amount`` is finite, not negative (above 0 when ``positive``), in the minor unit."""
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite decimal")
    if amount < 0 or (positive and amount == 0):
        raise ValueError(f"{name} must be {'above' if positive else 'at least'} 0, got {amount}")
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{name} {amount} has more decimals than {currency} allows ({places})")
    return amount


class TakenBack(Model):
    """Cash taken back off an allocation that otherwise stays in force (a partial refund or
    chargeback), with when and what took it (``reference``: the refund or the dispute)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    at: datetime
    reference: str

    @field_validator("at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        return _utc_millis(moment)

    def to_wire(self, currency: str) -> dict[str, Any]:
        return {
            "amount": Money(amount=self.amount, currency=currency).to_wire(),
            "at": clock.iso(self.at),
            "reference": self.reference,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> TakenBack:
        return cls(
            amount=Decimal(data["amount"]["amount"]),
            at=clock.parse(data["at"]),
            reference=data["reference"],
        )


class Allocation(Model):
    """A part of a payment applied to one invoice (with any early-payment discount taken), or
    to one fee or interest charge: then ``charge_id`` names the charge, ``invoice_id`` is that
    same id (the open item paid) and ``invoice_number`` the number of the invoice it was charged
    on. Readers that move invoices skip charge allocations (``is_charge``)."""

    model_config = ConfigDict(frozen=True)

    allocation_id: str
    invoice_id: str
    invoice_number: str
    amount: Decimal  # cash applied
    discount: Decimal = ZERO  # early-payment discount granted on top (not cash)
    applied_at: datetime
    applied_by: str  # a principal id, or the automatic matcher's name
    evidence: tuple[str, ...] = ()  # why it matched: "reference", "amount", "payer", ...
    confidence: Decimal = Decimal(1)  # 0..1; manual allocations are 1
    reversed_at: datetime | None = None
    taken_back: tuple[TakenBack, ...] = ()  # parts taken back while the rest stays applied
    charge_id: str | None = None  # a fee or interest charge paid (see the class notes)

    @property
    def is_charge(self) -> bool:
        return self.charge_id is not None

    @field_validator("applied_at", "reversed_at")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        return _utc_millis(moment) if moment else None

    @property
    def active(self) -> bool:
        return self.reversed_at is None

    @property
    def applied(self) -> Decimal:
        """The cash still applied: the amount less the parts taken back."""
        return self.amount - sum((part.amount for part in self.taken_back), ZERO)

    def to_wire(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.allocation_id,
            "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number,
            "amount": Money(amount=self.amount, currency=currency).to_wire(),
            "discount": Money(amount=self.discount, currency=currency).to_wire(),
            "applied_at": clock.iso(self.applied_at),
            "applied_by": self.applied_by,
            "evidence": list(self.evidence),
            "confidence": str(self.confidence),
            "reversed_at": clock.iso(self.reversed_at) if self.reversed_at else None,
            "taken_back": [part.to_wire(currency) for part in self.taken_back],
            "charge_id": self.charge_id,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Allocation:
        reversed_at = data.get("reversed_at")
        return cls(
            allocation_id=data["id"],
            invoice_id=data["invoice_id"],
            invoice_number=data["invoice_number"],
            amount=Decimal(data["amount"]["amount"]),
            discount=Decimal(data["discount"]["amount"]),
            applied_at=clock.parse(data["applied_at"]),
            applied_by=data["applied_by"],
            evidence=tuple(data.get("evidence", ())),
            confidence=Decimal(data.get("confidence", "1")),
            reversed_at=clock.parse(reversed_at) if reversed_at else None,
            taken_back=tuple(TakenBack.from_wire(part) for part in data.get("taken_back", ())),
            charge_id=data.get("charge_id"),
        )


class Reopened(Model):
    """Cash a chargeback took off one invoice, or one charge (``charge_id``, as in
    ``Allocation``), given back to it when the dispute is won."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    invoice_number: str
    amount: Decimal
    charge_id: str | None = None


class Chargeback(Model):
    """Money the gateway withdrew for a dispute: held apart until the dispute is won."""

    model_config = ConfigDict(frozen=True)

    dispute_id: str
    amount: Decimal
    withdrawn_at: datetime
    reopened: tuple[Reopened, ...] = ()  # what covering it took off invoices
    reinstated_at: datetime | None = None  # the dispute was won: the money came back

    @field_validator("withdrawn_at", "reinstated_at")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        return _utc_millis(moment) if moment else None

    @property
    def held(self) -> bool:
        return self.reinstated_at is None

    def to_wire(self, currency: str) -> dict[str, Any]:
        return {
            "dispute_id": self.dispute_id,
            "amount": Money(amount=self.amount, currency=currency).to_wire(),
            "withdrawn_at": clock.iso(self.withdrawn_at),
            "reopened": [
                {
                    "invoice_id": part.invoice_id,
                    "invoice_number": part.invoice_number,
                    "amount": Money(amount=part.amount, currency=currency).to_wire(),
                    **({"charge_id": part.charge_id} if part.charge_id else {}),
                }
                for part in self.reopened
            ],
            "reinstated_at": clock.iso(self.reinstated_at) if self.reinstated_at else None,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Chargeback:
        reinstated_at = data.get("reinstated_at")
        return cls(
            dispute_id=data["dispute_id"],
            amount=Decimal(data["amount"]["amount"]),
            withdrawn_at=clock.parse(data["withdrawn_at"]),
            reopened=tuple(
                Reopened(
                    invoice_id=part["invoice_id"],
                    invoice_number=part["invoice_number"],
                    amount=Decimal(part["amount"]["amount"]),
                    charge_id=part.get("charge_id"),
                )
                for part in data.get("reopened", ())
            ),
            reinstated_at=clock.parse(reinstated_at) if reinstated_at else None,
        )


class Payment(Model):
    """Money received once, from one channel, and what became of it."""

    model_config = ConfigDict(frozen=True)

    payment_id: str
    source: str  # stripe | bank | manual | a generic provider's name
    external_id: str  # the channel's own id of this payment
    method: PaymentMethod
    amount: Decimal
    currency: str
    received_at: datetime
    payer_name: str | None = None
    payer_account: str | None = None  # IBAN, when the channel tells it
    remittance: str | None = None  # what the payer wrote (invoice numbers, with luck)
    metadata: dict[str, str] = {}
    customer_id: str | None = None  # when the channel knows it; else cash application finds it
    allocations: tuple[Allocation, ...] = ()
    refunded: Decimal = ZERO
    disputed: bool = False
    chargebacks: tuple[Chargeback, ...] = ()
    status: PaymentStatus = PaymentStatus.UNAPPLIED
    version: int = 1
    reversed: Decimal = ZERO  # what the bank took back (a reversal or return of the credit)

    @field_validator("received_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        return _utc_millis(moment)

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in (STRIPE, BANK, MANUAL) and not PROVIDER_NAME.fullmatch(source):
            raise ValueError(f"unknown payment source '{source}'")
        return source

    @field_validator("external_id")
    @classmethod
    def _reference(cls, external_id: str) -> str:
        if not external_id or len(external_id) > MAX_REFERENCE_LENGTH:
            raise ValueError(f"an external id has 1 to {MAX_REFERENCE_LENGTH} characters")
        return external_id

    @model_validator(mode="after")
    def _consistent(self) -> Payment:
        minor_units(self.currency)
        _check_amount(self.amount, self.currency, name="amount", positive=True)
        _check_amount(self.refunded, self.currency, name="refunded", positive=False)
        _check_amount(self.reversed, self.currency, name="reversed", positive=False)
        for allocation in self.allocations:
            _check_amount(allocation.amount, self.currency, name="allocation", positive=False)
            _check_amount(allocation.discount, self.currency, name="discount", positive=False)
            if allocation.applied < 0:
                raise ValueError(
                    f"allocation {allocation.allocation_id}: more taken back than applied"
                )
        for chargeback in self.chargebacks:
            _check_amount(chargeback.amount, self.currency, name="chargeback", positive=True)
        if self.unapplied < 0:
            raise ValueError(
                f"payment {self.payment_id}: applied {self.applied}, refunded {self.refunded} "
                f"and withdrawn {self.withdrawn} exceed the amount {self.amount}"
            )
        return self

    @property
    def active_allocations(self) -> tuple[Allocation, ...]:
        return tuple(allocation for allocation in self.allocations if allocation.active)

    @property
    def applied(self) -> Decimal:
        """Cash applied to invoices by the allocations still in force."""
        return sum((allocation.applied for allocation in self.active_allocations), ZERO)

    @property
    def withdrawn(self) -> Decimal:
        """What the gateway holds back for disputes not won (open or lost)."""
        return sum((c.amount for c in self.chargebacks if c.held), ZERO)

    @property
    def unapplied(self) -> Decimal:
        """What is left to apply (or refund)."""
        return self.amount - self.applied - self.refunded - self.withdrawn - self.reversed

    def chargeback(self, dispute_id: str) -> Chargeback | None:
        """The money withdrawn for ``dispute_id``, if any was."""
        return next((c for c in self.chargebacks if c.dispute_id == dispute_id), None)

    @property
    def source_reference(self) -> str:
        """What the source guard holds for this payment within its source.

        Gateways name a payment by one id. A bank's entry reference is unique per account only,
        so a bank payment is guarded by its ``entry_key`` (account and reference, see
        shared/domain/camt053.py) when it has one. A clerk's reference is unique per method
        only (cheque 1042 and wire 1042 are two payments), so manual payments add the method.
        """
        if self.source == BANK and (key := self.metadata.get(ENTRY_KEY)):
            return key
        return source_reference(self.source, self.external_id, self.method)

    def money(self, amount: Decimal) -> dict[str, str]:
        return Money(amount=amount, currency=self.currency).to_wire()

    def to_wire(self) -> dict[str, Any]:
        """The API's view (GET /payments/{id}), also the data of every payment event."""
        return {
            "id": self.payment_id,
            "source": self.source,
            "external_id": self.external_id,
            "method": self.method.value,
            "amount": self.money(self.amount),
            "currency": self.currency,
            "received_at": clock.iso(self.received_at),
            "payer_name": self.payer_name,
            "payer_account": self.payer_account,
            "remittance": self.remittance,
            "metadata": dict(self.metadata),
            "customer_id": self.customer_id,
            "allocations": [allocation.to_wire(self.currency) for allocation in self.allocations],
            "applied": self.money(self.applied),
            "unapplied": self.money(self.unapplied),
            "refunded": self.money(self.refunded),
            "disputed": self.disputed,
            "withdrawn": self.money(self.withdrawn),
            "chargebacks": [chargeback.to_wire(self.currency) for chargeback in self.chargebacks],
            "status": self.status.value,
            "version": self.version,
            "reversed": self.money(self.reversed),
        }


def source_reference(source: str, external_id: str, method: PaymentMethod | str) -> str:
    """See ``Payment.source_reference``: the reference a (source, external id) is guarded by."""
    return f"{PaymentMethod(method).value}:{external_id}" if source == MANUAL else external_id


def from_wire(data: Mapping[str, Any]) -> Payment:
    """Read back what ``Payment.to_wire`` wrote (the store and consumers use it)."""
    return Payment(
        payment_id=data["id"],
        source=data["source"],
        external_id=data["external_id"],
        method=PaymentMethod(data["method"]),
        amount=Decimal(data["amount"]["amount"]),
        currency=data["currency"],
        received_at=clock.parse(data["received_at"]),
        payer_name=data.get("payer_name"),
        payer_account=data.get("payer_account"),
        remittance=data.get("remittance"),
        metadata=dict(data.get("metadata") or {}),
        customer_id=data.get("customer_id"),
        allocations=tuple(Allocation.from_wire(item) for item in data.get("allocations", ())),
        refunded=Decimal(data["refunded"]["amount"]),
        disputed=bool(data.get("disputed", False)),
        chargebacks=tuple(Chargeback.from_wire(item) for item in data.get("chargebacks", ())),
        status=PaymentStatus(data["status"]),
        version=int(data["version"]),
        reversed=Decimal(data["reversed"]["amount"]) if data.get("reversed") else ZERO,
    )


# --- moves ----------------------------------------------------------------------------------------


def receive(
    *,
    source: str,
    external_id: str,
    method: PaymentMethod | str,
    amount: Decimal,
    currency: str,
    received_at: datetime,
    payer_name: str | None = None,
    payer_account: str | None = None,
    remittance: str | None = None,
    metadata: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    payment_id: str | None = None,
) -> Payment:
    """A new, unapplied payment (raises ``ValueError`` for an amount or source it refuses)."""
    return Payment(
        payment_id=payment_id or ids.new_id("pay"),
        source=source,
        external_id=external_id,
        method=PaymentMethod(method),
        amount=amount,
        currency=currency,
        received_at=received_at,
        payer_name=_text(payer_name),
        payer_account=_text(payer_account),
        remittance=_text(remittance),
        metadata=dict(metadata or {}),
        customer_id=customer_id,
    )


def allocate(  # noqa: PLR0917 (the positional order is the callers' contract)
    payment: Payment,
    invoice_id: str,
    number: str,
    amount: Decimal,
    discount: Decimal,
    by: str,
    evidence: Iterable[str],
    confidence: Decimal,
    at: datetime,
    *,
    allocation_id: str | None = None,
    charge_id: str | None = None,
) -> tuple[Payment, Allocation]:
    """Apply ``amount`` of the payment (plus ``discount`` granted) to an invoice (or to a
    charge: ``invoice_id`` and ``charge_id`` are then its id, see ``Allocation``)."""
    _check_amount(amount, payment.currency, name="amount", positive=False)
    _check_amount(discount, payment.currency, name="discount", positive=False)
    if amount + discount == 0:
        raise PaymentError("an allocation applies an amount or a discount above 0")
    if amount > payment.unapplied:
        raise OverAllocationError(
            f"payment {payment.payment_id} has {payment.unapplied} {payment.currency} unapplied; "
            f"cannot apply {amount}"
        )
    if not ZERO <= confidence <= 1:
        raise PaymentError(f"confidence is between 0 and 1, got {confidence}")
    allocation = Allocation(
        allocation_id=allocation_id or ids.new_id("alc"),
        invoice_id=invoice_id,
        invoice_number=number,
        amount=amount,
        discount=discount,
        applied_at=at,
        applied_by=by,
        evidence=tuple(evidence),
        confidence=confidence,
        charge_id=charge_id,
    )
    return _moved(payment, allocations=(*payment.allocations, allocation)), allocation


def unapply(payment: Payment, allocation_id: str, at: datetime) -> tuple[Payment, Allocation]:
    """Take an active allocation back; its amount becomes unapplied again."""
    found = [a for a in payment.allocations if a.allocation_id == allocation_id]
    if not found:
        raise PaymentError(f"payment {payment.payment_id} has no allocation {allocation_id}")
    if not found[0].active:
        raise PaymentError(f"allocation {allocation_id} was already taken back")
    reversed_allocation = found[0].model_copy(update={"reversed_at": _utc_millis(at)})
    allocations = tuple(
        reversed_allocation if a.allocation_id == allocation_id else a for a in payment.allocations
    )
    return _moved(payment, allocations=allocations), reversed_allocation


def take_back_part(
    payment: Payment, allocation_id: str, amount: Decimal, at: datetime, *, reference: str
) -> tuple[Payment, Allocation]:
    """Take ``amount`` of an active allocation's cash back; the rest stays applied.

    Taking back all the cash still applied is ``unapply`` (it gives back the discount too).
    """
    _check_amount(amount, payment.currency, name="amount", positive=True)
    found = [a for a in payment.active_allocations if a.allocation_id == allocation_id]
    if not found:
        raise PaymentError(f"payment {payment.payment_id} has no active allocation {allocation_id}")
    if amount >= found[0].applied:
        raise PaymentError(
            f"allocation {allocation_id} has {found[0].applied} applied; taking back "
            f"{amount} is taking it back whole"
        )
    part = TakenBack(amount=amount, at=at, reference=reference)
    reduced = found[0].model_copy(update={"taken_back": (*found[0].taken_back, part)})
    allocations = tuple(
        reduced if a.allocation_id == allocation_id else a for a in payment.allocations
    )
    return _moved(payment, allocations=allocations), reduced


def refund(payment: Payment, amount: Decimal, at: datetime) -> Payment:
    """Pay ``amount`` back out of the unapplied part (``at`` is when; the event carries it).

    Applied cash is not refunded implicitly: the invoices it paid would silently reopen. Take
    the allocations back first (``unapply``), then refund.
    """
    del at  # the time belongs to the event and the ledger entry; the payment keeps totals
    _check_amount(amount, payment.currency, name="refund", positive=True)
    if amount > payment.unapplied:
        raise RefundExceedsUnappliedError(payment, amount)
    return _moved(payment, refunded=payment.refunded + amount)


def dispute(
    payment: Payment,
    open: bool,
    *,
    dispute_id: str | None = None,
    outcome: str | None = None,
) -> Payment:
    """Mark the payment contested at the gateway (``open``) or no longer contested.

    With ``dispute_id`` the payment remembers each dispute's state in its metadata
    (``dispute:<id>``: ``open``, or the ``outcome`` once closed) and stays disputed while any
    dispute is open; callers use ``dispute_state`` to see a late "opened" after "closed".
    """
    if dispute_id is None:
        return _moved(payment, disputed=open)
    state = "open" if open else (outcome or "closed")
    metadata = {**payment.metadata, DISPUTE_PREFIX + dispute_id: state}
    still_open = any(
        key.startswith(DISPUTE_PREFIX) and value == "open" for key, value in metadata.items()
    )
    return _moved(payment, disputed=still_open, metadata=metadata)


def withdraw(
    payment: Payment,
    dispute_id: str,
    amount: Decimal,
    at: datetime,
    reopened: Iterable[Reopened] = (),
) -> Payment:
    """The gateway withdrew ``amount`` out of the unapplied part for a dispute (a chargeback).

    ``reopened`` records what was taken off invoices to cover it (see ``take_back_part``).
    """
    _check_amount(amount, payment.currency, name="chargeback", positive=True)
    if payment.chargeback(dispute_id) is not None:
        raise PaymentError(f"dispute {dispute_id} already withdrew its money")
    if amount > payment.unapplied:
        raise PaymentError(
            f"payment {payment.payment_id}: a chargeback of {amount} exceeds the unapplied "
            f"{payment.unapplied}; take allocations back first"
        )
    chargeback = Chargeback(
        dispute_id=dispute_id, amount=amount, withdrawn_at=at, reopened=tuple(reopened)
    )
    return _moved(payment, chargebacks=(*payment.chargebacks, chargeback))


def reinstate(payment: Payment, dispute_id: str, at: datetime) -> tuple[Payment, Chargeback]:
    """The dispute was won: the money it withdrew is the payment's unapplied cash again."""
    found = payment.chargeback(dispute_id)
    if found is None or not found.held:
        raise PaymentError(f"dispute {dispute_id} holds no money of {payment.payment_id}")
    back = found.model_copy(update={"reinstated_at": _utc_millis(at)})
    chargebacks = tuple(back if c.dispute_id == dispute_id else c for c in payment.chargebacks)
    return _moved(payment, chargebacks=chargebacks), back


def dispute_state(payment: Payment, dispute_id: str) -> str | None:
    """``open``, ``won``, ``lost`` (or ``closed``) for a dispute the payment knows, else None."""
    return payment.metadata.get(DISPUTE_PREFIX + dispute_id)


def reverse(payment: Payment, amount: Decimal) -> Payment:
    """The bank took the payment back (``RvslInd``, or a return): all of it, nothing applied.

    A reversal undoes one credit whole, so ``amount`` is the payment's amount; take the
    allocations back first (``unapply``), so the invoices reopen by what they were paid.
    """
    if payment.reversed:
        raise NotReversibleError(f"payment {payment.payment_id} was reversed before")
    if amount != payment.amount:
        raise NotReversibleError(
            f"the reversal of {amount} {payment.currency} differs from the payment "
            f"{payment.payment_id} of {payment.amount} {payment.currency}"
        )
    if payment.refunded or payment.withdrawn:
        raise NotReversibleError(
            f"payment {payment.payment_id} was partly paid back ({payment.refunded} "
            f"{payment.currency}); a reversal of all of it needs a clerk"
        )
    if payment.applied:
        raise NotReversibleError(f"payment {payment.payment_id} is still applied to invoices")
    return _moved(payment, reversed=amount)


def status_of(payment: Payment) -> PaymentStatus:
    if payment.reversed:
        return PaymentStatus.REVERSED
    if payment.refunded + payment.withdrawn == payment.amount:
        return PaymentStatus.REFUNDED
    if payment.applied == 0:
        return PaymentStatus.UNAPPLIED
    if payment.unapplied > 0:
        return PaymentStatus.PARTIALLY_APPLIED
    return PaymentStatus.APPLIED


def _moved(payment: Payment, **changes: Any) -> Payment:
    moved = Payment.model_validate({**dict(payment), **changes, "version": payment.version + 1})
    return moved.model_copy(update={"status": status_of(moved)})


def _text(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value or None


# --- events -------------------------------------------------------------------------------------


def received_event(payment: Payment) -> DomainEvent:
    return _event("PaymentReceived", payment, payment.received_at, {})


def refunded_event(payment: Payment, amount: Decimal, at: datetime) -> DomainEvent:
    """PaymentRefunded: the payment after the refund, and how much this refund paid back."""
    return _event("PaymentRefunded", payment, at, {"refund": payment.money(amount)})


def disputed_event(
    payment: Payment, at: datetime, *, dispute_id: str, reason: str | None
) -> DomainEvent:
    return _event("PaymentDisputed", payment, at, {"dispute": {"id": dispute_id, "reason": reason}})


def dispute_closed_event(
    payment: Payment, at: datetime, *, dispute_id: str, outcome: str
) -> DomainEvent:
    """PaymentDisputeClosed with the outcome: ``won`` (the money stays) or ``lost``."""
    if outcome not in ("won", "lost"):
        raise ValueError(f"a dispute is won or lost, not '{outcome}'")
    return _event(
        "PaymentDisputeClosed",
        payment,
        at,
        {"dispute": {"id": dispute_id}, "outcome": outcome},
    )


def _event(detail_type: str, payment: Payment, at: datetime, extra: dict[str, Any]) -> DomainEvent:
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=payment.payment_id,
        occurred_at=at,
        data={**payment.to_wire(), **extra},
    )


def cash_dimension(payment: Payment) -> str:
    """Where the payment's money arrived, as the cash sub-account of the journal: the bank
    account a statement credited (``bank:<IBAN>``), a gateway (``gateway:stripe``), or money a
    clerk recorded (``manual:<method>``: cheques and transfers not read from a statement)."""
    if payment.source == BANK:
        account = payment.metadata.get("account_iban")
        return f"bank:{account}" if account else BANK
    if payment.source == MANUAL:
        return f"manual:{payment.method.value}"
    return f"gateway:{payment.source}"
