"""Payment gateway webhook events, read into what the payment intake needs (pure, no I/O).

Two formats arrive:

- **Stripe** (``POST /webhooks/stripe``): Stripe's event objects. Handled types and what they
  become: ``payment_intent.succeeded`` and ``charge.succeeded`` (a payment: the same payment
  usually arrives as both, so both name it by the payment intent id, and a charge without
  one by its own id), ``charge.refunded`` (the total refunded so far, ``amount_refunded``),
  ``charge.dispute.created`` and ``charge.dispute.closed`` (won or lost),
  ``checkout.session.completed`` and ``checkout.session.async_payment_succeeded`` (a paid
  Checkout Session of the portal: a payment named by its payment intent, as the intent's own
  event names it, so the two make one payment; see ``checkout_metadata``). Amounts are integers
  in the currency's minor unit (cents; JPY has none), currencies lower case.
- **generic** (``POST /webhooks/{provider}``): our own format, for gateways we adapt to,
  ``{"id", "type": "payment.succeeded" | "payment.refunded", "created": <unix seconds>,
  "data": {"payment_id", "amount": "12.34", "currency", "payer_name", "payer_account",
  "remittance", "metadata"}}``. For ``payment.refunded``, ``amount`` is the total refunded so
  far (as Stripe's ``amount_refunded``), so redelivered or reordered refunds apply once.

Either becomes a ``GatewayEvent``: the provider's event id and type, and the one action it
asks for (``None``: acknowledged and ignored).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from shared import strict_json
from shared.domain import dates
from shared.domain.money import UnknownCurrencyError, minor_units
from shared.domain.payment import PaymentMethod
from shared.domain.text import scrub
from shared.model import Model

STRIPE = "stripe"
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")  # also an S3 key segment: no slashes
MAX_TEXT = 500
MAX_METADATA_KEYS = 50  # Stripe's own limit on an object's metadata
# A signed body is still only the gateway's word: its times and amounts stay in what a payment
# can be, so that no value reaches datetime or Decimal arithmetic out of their range.
EARLIEST_CREATED = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
LATEST_CREATED = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
MAX_AMOUNT_DIGITS = 12  # whole units: below one trillion, as the generic format's amounts


class GatewayEventError(ValueError):
    """A correctly signed body that is not an event this system can read."""


class Action(StrEnum):
    PAYMENT = "payment"  # money received
    REFUND = "refund"  # money paid back (cumulative total)
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"


class GatewayPayment(Model):
    """A payment as the gateway reports it (``external_id``: what names it at the gateway)."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    amount: Decimal
    currency: str
    received_at: datetime
    method: PaymentMethod = PaymentMethod.GATEWAY
    payer_name: str | None = None
    payer_account: str | None = None
    remittance: str | None = None
    metadata: dict[str, str] = {}
    customer_id: str | None = None  # as the payer's metadata claims; verified on receipt


class GatewayRefund(Model):
    model_config = ConfigDict(frozen=True)

    external_id: str  # the payment's, as in GatewayPayment
    refunded_total: Decimal  # everything refunded on the payment so far
    currency: str


class GatewayDispute(Model):
    model_config = ConfigDict(frozen=True)

    external_id: str  # the payment's, as in GatewayPayment
    dispute_id: str
    amount: Decimal
    currency: str
    reason: str | None = None
    outcome: Literal["won", "lost"] | None = None  # closed disputes only


class GatewayEvent(Model):
    """One webhook event: who sent it, which, and what it asks the intake to do."""

    model_config = ConfigDict(frozen=True)

    provider: str
    event_id: str
    type: str
    created: datetime
    action: Action | None = None  # None: a type this system does not act on
    payment: GatewayPayment | None = None
    refund: GatewayRefund | None = None
    dispute: GatewayDispute | None = None
    evidence_key: str | None = None  # where the raw body is kept (S3), once it is

    @property
    def external_id(self) -> str | None:
        """The payment the event is about (its gateway id), for any action."""
        for part in (self.payment, self.refund, self.dispute):
            if part is not None:
                return part.external_id
        return None

    def to_data(self) -> dict[str, Any]:
        """The ``GatewayEventReceived`` event's data (amounts as decimal strings)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> GatewayEvent:
        return cls.model_validate(data)


# --- Stripe -------------------------------------------------------------------------------------


def parse_stripe(body: bytes) -> GatewayEvent:
    """The Stripe event in ``body`` (already verified as signed by Stripe)."""
    document = _json_object(body)
    event_id = _event_id(document.get("id"))
    event_type = _text_field(document, "type", "the event")
    created = _timestamp(document.get("created"), "created")
    data = document.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise GatewayEventError("data.object is missing")
    event = GatewayEvent(provider=STRIPE, event_id=event_id, type=event_type, created=created)
    reader = _STRIPE_READERS.get(event_type)
    if reader is None:
        return event
    return event.model_copy(update=reader(obj, created))


def _stripe_payment_intent(obj: dict[str, Any], created: datetime) -> dict[str, Any]:
    intent_id = _text_field(obj, "id", "the payment intent")
    currency = _currency(obj.get("currency"))
    minor = obj.get("amount_received") or obj.get("amount")
    charge = _first_charge(obj)
    billing = charge.get("billing_details") if charge else None
    metadata = _metadata(obj.get("metadata"))
    metadata["stripe_payment_intent"] = intent_id
    if latest := _id_of(obj.get("latest_charge")) or (_id_of(charge.get("id")) if charge else None):
        metadata["stripe_charge"] = latest
    if customer := _id_of(obj.get("customer")):
        metadata["stripe_customer"] = customer
    methods = obj.get("payment_method_types")
    amount = _minor_amount(minor, currency, "amount_received")
    if amount == 0:
        return {}  # nothing was received (e.g. a card saved for later)
    payment = GatewayPayment(
        external_id=intent_id,
        amount=amount,
        currency=currency,
        received_at=_timestamp(obj.get("created"), "created", default=created),
        method=PaymentMethod.CARD if methods == ["card"] else PaymentMethod.GATEWAY,
        payer_name=_name(billing),
        remittance=_remittance(obj),
        metadata=metadata,
        customer_id=metadata.get("customer_id"),
    )
    return {"action": Action.PAYMENT, "payment": payment}


def _stripe_charge(obj: dict[str, Any], created: datetime) -> dict[str, Any]:
    charge_id = _text_field(obj, "id", "the charge")
    if obj.get("captured") is False or obj.get("paid") is False:
        return {}  # authorised only: the money arrives with the capture (payment_intent event)
    currency = _currency(obj.get("currency"))
    intent_id = _id_of(obj.get("payment_intent"))
    captured = obj.get("amount_captured") or obj.get("amount")
    details = obj.get("payment_method_details")
    kind = details.get("type") if isinstance(details, dict) else None
    metadata = _metadata(obj.get("metadata"))
    metadata["stripe_charge"] = charge_id
    if intent_id:
        metadata["stripe_payment_intent"] = intent_id
    if customer := _id_of(obj.get("customer")):
        metadata["stripe_customer"] = customer
    amount = _minor_amount(captured, currency, "amount_captured")
    if amount == 0:
        return {}
    payment = GatewayPayment(
        external_id=intent_id or charge_id,
        amount=amount,
        currency=currency,
        received_at=_timestamp(obj.get("created"), "created", default=created),
        method=PaymentMethod.CARD if kind == "card" else PaymentMethod.GATEWAY,
        payer_name=_name(obj.get("billing_details")),
        remittance=_remittance(obj),
        metadata=metadata,
        customer_id=metadata.get("customer_id"),
    )
    return {"action": Action.PAYMENT, "payment": payment}


def _stripe_refund(obj: dict[str, Any], _created: datetime) -> dict[str, Any]:
    charge_id = _text_field(obj, "id", "the charge")
    currency = _currency(obj.get("currency"))
    refund = GatewayRefund(
        external_id=_id_of(obj.get("payment_intent")) or charge_id,
        refunded_total=_minor_amount(obj.get("amount_refunded"), currency, "amount_refunded"),
        currency=currency,
    )
    return {"action": Action.REFUND, "refund": refund}


def _stripe_dispute(obj: dict[str, Any], *, closed: bool) -> dict[str, Any]:
    dispute_id = _text_field(obj, "id", "the dispute")
    charge_id = _id_of(obj.get("charge"))
    payment_id = _id_of(obj.get("payment_intent")) or charge_id
    if not payment_id:
        raise GatewayEventError("the dispute names neither a payment intent nor a charge")
    currency = _currency(obj.get("currency"))
    outcome: Literal["won", "lost"] | None = None
    if closed:
        status = obj.get("status")
        # An inquiry closed without a chargeback ("warning_closed") leaves the money with us.
        if status in ("won", "warning_closed"):
            outcome = "won"
        elif status == "lost":
            outcome = "lost"
        else:
            raise GatewayEventError(f"a closed dispute's status is won or lost, not {status!r}")
    dispute = GatewayDispute(
        external_id=payment_id,
        dispute_id=dispute_id,
        amount=_minor_amount(obj.get("amount"), currency, "amount"),
        currency=currency,
        reason=_clean(obj.get("reason")),
        outcome=outcome,
    )
    action = Action.DISPUTE_CLOSED if closed else Action.DISPUTE_OPENED
    return {"action": action, "dispute": dispute}


CHECKOUT_AMOUNT_KEY = "checkout_amount_due"  # minor units the portal asked for
CHECKOUT_REFERENCE_KEYS = ("invoice_numbers", "payment_references")


def _stripe_checkout_session(obj: dict[str, Any], created: datetime) -> dict[str, Any]:
    """A Checkout Session the portal created: paid, it is the payment of the invoices its
    metadata names. Its payment intent names the payment (a session without one: its own id)."""
    session_id = _text_field(obj, "id", "the checkout session")
    if obj.get("payment_status") != "paid":
        return {}  # not paid yet (delayed methods): async_payment_succeeded brings the money
    currency = _currency(obj.get("currency"))
    amount = _minor_amount(obj.get("amount_total"), currency, "amount_total")
    if amount == 0:
        return {}
    intent_id = _id_of(obj.get("payment_intent"))
    metadata = checkout_metadata(_metadata(obj.get("metadata")), obj.get("amount_total"))
    metadata["stripe_checkout_session"] = session_id
    if intent_id:
        metadata["stripe_payment_intent"] = intent_id
    if customer := _id_of(obj.get("customer")):
        metadata["stripe_customer"] = customer
    payment = GatewayPayment(
        external_id=intent_id or session_id,
        amount=amount,
        currency=currency,
        received_at=_timestamp(obj.get("created"), "created", default=created),
        method=PaymentMethod.CARD
        if obj.get("payment_method_types") == ["card"]
        else PaymentMethod.GATEWAY,
        payer_name=_name(obj.get("customer_details")),
        metadata=metadata,
        customer_id=metadata.get("customer_id"),
    )
    return {"action": Action.PAYMENT, "payment": payment}


def checkout_metadata(metadata: dict[str, str], paid_minor: Any) -> dict[str, str]:
    """The metadata of a portal checkout as cash application should read it.

    The portal names the invoices (their numbers and RF references, which the matcher applies
    exactly), their ids and the amount it asked for. When the amount paid is not that amount,
    the references are withheld from the matcher (the ids stay, for a clerk, and a note says
    why) so the payment waits on the worklist instead of being applied to them blindly.
    """
    asked = metadata.get(CHECKOUT_AMOUNT_KEY)
    if asked is None or asked == str(paid_minor):
        return metadata
    kept = {k: v for k, v in metadata.items() if k not in CHECKOUT_REFERENCE_KEYS}
    kept["checkout_mismatch"] = f"paid {paid_minor} minor units where {asked} were asked"
    return kept


_STRIPE_READERS = {
    "payment_intent.succeeded": _stripe_payment_intent,
    "charge.succeeded": _stripe_charge,
    "charge.refunded": _stripe_refund,
    "charge.dispute.created": lambda obj, _created: _stripe_dispute(obj, closed=False),
    "charge.dispute.closed": lambda obj, _created: _stripe_dispute(obj, closed=True),
    "checkout.session.completed": _stripe_checkout_session,
    "checkout.session.async_payment_succeeded": _stripe_checkout_session,
}


def _first_charge(intent: dict[str, Any]) -> dict[str, Any] | None:
    """The charge older API versions embed in a payment intent (``charges.data[0]``)."""
    charges = intent.get("charges")
    listed = charges.get("data") if isinstance(charges, dict) else None
    if isinstance(listed, list) and listed and isinstance(listed[0], dict):
        return listed[0]
    latest = intent.get("latest_charge")
    return latest if isinstance(latest, dict) else None  # expanded


def _name(billing: Any) -> str | None:
    return _clean(billing.get("name")) if isinstance(billing, dict) else None


def _remittance(obj: dict[str, Any]) -> str | None:
    for field in ("description", "calculated_statement_descriptor", "statement_descriptor"):
        if text := _clean(obj.get(field)):
            return text
    return None


# --- generic providers --------------------------------------------------------------------------

Amount = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,4})?$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=140)]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


class GenericPaymentData(Model):
    model_config = ConfigDict(extra="forbid")

    payment_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:#-]{1,200}$")]
    amount: Amount
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    payer_name: ShortText | None = None
    payer_account: Annotated[str, StringConstraints(max_length=64)] | None = None
    remittance: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None
    metadata: Annotated[
        dict[
            Annotated[str, StringConstraints(max_length=40)], Annotated[str, Field(max_length=500)]
        ],
        Field(max_length=50),
    ] = {}

    @model_validator(mode="after")
    def _amount_in_currency(self) -> GenericPaymentData:
        try:
            places = minor_units(self.currency)
        except UnknownCurrencyError as error:
            raise ValueError(str(error)) from None
        decimals = len(self.amount.partition(".")[2])
        if decimals > places:
            raise ValueError(f"amount {self.amount} has more decimals than {self.currency} allows")
        return self


class GenericWebhook(Model):
    """The body of ``POST /webhooks/{provider}``."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=EVENT_ID.pattern)]
    type: Literal["payment.succeeded", "payment.refunded"]
    created: Annotated[int, Field(ge=EARLIEST_CREATED, lt=LATEST_CREATED, strict=True)]
    data: GenericPaymentData


def from_generic(provider: str, body: GenericWebhook) -> GatewayEvent:
    created = _moment(body.created, "created")
    data = body.data
    event = GatewayEvent(provider=provider, event_id=body.id, type=body.type, created=created)
    amount = Decimal(data.amount)
    if body.type == "payment.refunded":
        refund = GatewayRefund(
            external_id=data.payment_id, refunded_total=amount, currency=data.currency
        )
        return event.model_copy(update={"action": Action.REFUND, "refund": refund})
    if amount == 0:
        raise GatewayEventError("a payment's amount is above 0")
    payment = GatewayPayment(
        external_id=data.payment_id,
        amount=amount,
        currency=data.currency,
        received_at=created,
        payer_name=_clean(data.payer_name),
        payer_account=_clean(data.payer_account),
        remittance=_clean(data.remittance),
        metadata=_metadata(data.metadata),
        customer_id=data.metadata.get("customer_id"),
    )
    return event.model_copy(update={"action": Action.PAYMENT, "payment": payment})


# --- reading helpers ----------------------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = strict_json.loads(body)
    except strict_json.StrictJsonError as error:
        raise GatewayEventError(str(error)) from None
    if not isinstance(document, dict):
        raise GatewayEventError("the body is not a JSON object")
    return document


def _event_id(value: Any) -> str:
    if not isinstance(value, str) or not EVENT_ID.fullmatch(value):
        raise GatewayEventError("the event id is missing or not a plain identifier")
    return value


def _text_field(obj: dict[str, Any], field: str, what: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise GatewayEventError(f"{what} has no {field}")
    return value


def _id_of(value: Any) -> str | None:
    """A reference Stripe gives as an id, or as the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _timestamp(value: Any, field: str, *, default: datetime | None = None) -> datetime:
    if value is None and default is not None:
        return default
    if not _whole(value) or value < 0:
        raise GatewayEventError(f"{field} is not a unix timestamp")
    return _moment(value, field)


def _moment(seconds: int, field: str) -> datetime:
    """A unix timestamp as a UTC moment inside the business window."""
    try:
        return dates.check_moment(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError) as error:  # beyond year 9999, or out of window
        reason = error if isinstance(error, dates.OutOfWindowError) else "is out of range"
        raise GatewayEventError(f"{field} {reason}") from None


def _currency(value: Any) -> str:
    code = value.upper() if isinstance(value, str) else ""
    try:
        minor_units(code)
    except UnknownCurrencyError:
        raise GatewayEventError(f"{value!r} is not an ISO 4217 currency") from None
    return code


def _minor_amount(value: Any, currency: str, field: str) -> Decimal:
    """An integer of minor units as a Decimal in the currency's unit (1234 EUR -> 12.34)."""
    if not _whole(value) or value < 0:
        raise GatewayEventError(f"{field} is not a whole number of minor units")
    places = minor_units(currency)
    if value >= 10 ** (MAX_AMOUNT_DIGITS + places):
        raise GatewayEventError(f"{field} is out of range")
    return (Decimal(value).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def _whole(value: Any) -> bool:
    """Whether a JSON value is an integer (``true`` and ``1.0`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    if len(value) > MAX_METADATA_KEYS:
        raise GatewayEventError(f"metadata has more than {MAX_METADATA_KEYS} keys")
    return {
        scrub(str(key))[:40]: scrub(str(item))[:MAX_TEXT]
        for key, item in value.items()
        if item is not None
    }


def _clean(value: Any) -> str | None:
    """Free text on one line, controls and non-characters as spaces: a gateway's event is
    a payment that happened, so its text is cleaned rather than the event refused."""
    if not isinstance(value, str):
        return None
    text = " ".join(scrub(value, " ").split())[:MAX_TEXT]
    return text or None
