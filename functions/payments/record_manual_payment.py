"""POST /payments: a clerk records a payment that reached the seller outside the gateways.

A cheque in the post or a wire the bank file does not show yet: the clerk enters what the
document says. The clerk's reference (cheque number, wire reference) is the payment's external
id: the same method and reference again is refused as a duplicate (409) - unless the request is
a replay of the same Idempotency-Key, which answers the first response.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, StringConstraints, model_validator

from shared import clock, errors, request_scope
from shared.domain import payment as payment_domain
from shared.domain.access import Principal
from shared.domain.dates import BusinessDate
from shared.domain.money import UnknownCurrencyError, minor_units
from shared.domain.omittable import Omittable
from shared.domain.payment import Payment
from shared.domain.text import MultiLine, SingleLine
from shared.model import Model
from shared.observability import logger
from shared.store import customers, payments
from shared.store.payments import DuplicatePaymentError

Text = Annotated[str, SingleLine(max_length=140)]
Account = Annotated[str, SingleLine(max_length=64, min_length=0)]
Reference = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 /._:#-]{0,99}$")
]
Remittance = Annotated[str, MultiLine(max_length=500, min_length=0)]


class ManualPaymentRequest(Model):
    """The body of ``POST /payments``."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,4})?$")]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    method: Literal["cheque", "wire"]
    received_on: BusinessDate
    payer_name: Text
    payer_account: Omittable[Account] = None
    reference: Reference  # the cheque number or wire reference: the payment's external id
    remittance: Omittable[Remittance] = None
    customer_id: Omittable[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = None

    @model_validator(mode="after")
    def _amount_in_currency(self) -> ManualPaymentRequest:
        try:
            places = minor_units(self.currency)
        except UnknownCurrencyError as error:
            raise ValueError(str(error)) from None
        if len(self.amount.partition(".")[2]) > places:
            raise ValueError(f"amount {self.amount} has more decimals than {self.currency} allows")
        if Decimal(self.amount) == 0:
            raise ValueError("amount must be above 0")
        return self


def record_manual_payment(request: ManualPaymentRequest, principal: Principal) -> Payment:
    """Receive the payment the clerk entered; 409 if its reference was recorded before."""
    if request.received_on > clock.now().date():
        raise errors.Unprocessable(
            "invalid-payment",
            "received_on is in the future",
            [
                {
                    "pointer": "#/received_on",
                    "detail": "a payment cannot be received later than today",
                }
            ],
        )
    customer_id = _customer(request)
    payment = payment_domain.receive(
        source=payment_domain.MANUAL,
        external_id=request.reference,
        method=request.method,
        amount=Decimal(request.amount),
        currency=request.currency,
        received_at=datetime.combine(request.received_on, time(), tzinfo=UTC),
        payer_name=request.payer_name,
        payer_account=request.payer_account,
        remittance=request.remittance,
        metadata={"recorded_by": principal.principal_id},
        customer_id=customer_id,
        payment_id=request_scope.request_scoped_id("pay"),  # the same on a retry of this request
    )
    try:
        payments.receive(payment)
    except DuplicatePaymentError as duplicate:
        if duplicate.payment_id == payment.payment_id and (
            made := payments.get(payment.payment_id)
        ):
            return made  # a retry whose first attempt recorded it, then died before answering
        raise errors.Conflict(
            "duplicate-payment",
            f"the {request.method} with reference {request.reference!r} was recorded before, "
            f"as payment {duplicate.payment_id}",
        ) from None
    logger.info("manual payment recorded", extra={"payment_id": payment.payment_id})
    return payment


def _customer(request: ManualPaymentRequest) -> str | None:
    """The customer the clerk named, once it exists and is billed in the payment's currency."""
    if request.customer_id is None:
        return None
    customer = customers.get(request.customer_id, consistent=True)
    if customer is None:
        raise errors.Unprocessable(
            "unknown-customer",
            f"customer {request.customer_id} does not exist",
            [{"pointer": "#/customer_id", "detail": "no such customer"}],
        )
    if customer.currency != request.currency:
        raise errors.Unprocessable(
            "currency-mismatch",
            f"customer {request.customer_id} is billed in {customer.currency}, "
            f"the payment is in {request.currency}",
            [
                {
                    "pointer": "#/currency",
                    "detail": f"the customer's currency is {customer.currency}",
                }
            ],
        )
    return customer.customer_id
