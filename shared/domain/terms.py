"""Payment terms: when an invoice falls due, and what paying early is worth.

Two kinds: ``net`` (due ``net_days`` after issue, 0..365) and ``due_on_receipt`` (due on the
issue date). Net terms may carry an early-payment discount, e.g. "2/10 net 30": 2 % off when paid
within 10 days, else the full amount within 30. ``schedule`` turns terms, an issue date and an
amount into the dates and the discount an invoice shows; it is pure, so invoicing and reminders
compute the same figures.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from shared.domain.money import Money, quantize
from shared.model import Model

MAX_NET_DAYS = 365

PercentString = Annotated[str, StringConstraints(pattern=r"^\d{1,3}(\.\d{1,4})?$")]


class PaymentTerms(Model):
    """Terms as the API takes and gives them (strict: no number where a string belongs)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kind: Literal["net", "due_on_receipt"]
    net_days: int | None = Field(default=None, ge=0, le=MAX_NET_DAYS)
    discount_percent: PercentString | None = None  # "2" or "2.5": percent off the amount
    discount_days: int | None = Field(default=None, ge=0, le=MAX_NET_DAYS)

    @model_validator(mode="after")
    def _consistent(self) -> PaymentTerms:
        if self.kind == "net" and self.net_days is None:
            raise ValueError("net terms need net_days")
        if self.kind == "due_on_receipt" and self.net_days not in (None, 0):
            raise ValueError("due_on_receipt terms take no net_days")
        if (self.discount_percent is None) != (self.discount_days is None):
            raise ValueError("discount_percent and discount_days go together")
        if self.discount_percent is not None:
            if self.kind != "net":
                raise ValueError("only net terms carry an early-payment discount")
            if Decimal(self.discount_percent) > 100:
                raise ValueError("discount_percent is at most 100")
            if self.discount_days is not None and self.discount_days > (self.net_days or 0):
                raise ValueError("discount_days may not exceed net_days")
        return self

    @classmethod
    def net(
        cls, days: int, *, discount_percent: str | None = None, discount_days: int | None = None
    ) -> PaymentTerms:
        return cls(
            kind="net",
            net_days=days,
            discount_percent=discount_percent,
            discount_days=discount_days,
        )

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> PaymentTerms:
        """Read terms back from the table (numbers come back as Decimal)."""
        return cls.model_validate(raw, strict=False)

    @property
    def days_to_due(self) -> int:
        return self.net_days or 0

    @property
    def discount_rate(self) -> Decimal:
        """The discount as a fraction of the amount (0 without a discount)."""
        return Decimal(self.discount_percent or 0) / 100

    def label(self) -> str:
        """How an invoice prints them: "Net 30", "2/10 net 30", "Due on receipt"."""
        if self.kind == "due_on_receipt":
            return "Due on receipt"
        if self.discount_percent is not None:
            return f"{self.discount_percent}/{self.discount_days} net {self.net_days}"
        return f"Net {self.net_days}"

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump()


NET_30 = PaymentTerms(kind="net", net_days=30)


class PaymentSchedule(Model):
    """What an invoice under some terms says: when it is due, and the early-payment offer."""

    model_config = ConfigDict(frozen=True)

    issued_on: date
    due_on: date
    amount: Money
    discount_until: date | None  # None without an early-payment discount
    discount: Money  # zero without an early-payment discount
    discounted_amount: Money  # what settles the invoice on or before ``discount_until``


def schedule(terms: PaymentTerms, issued_on: date, amount: Money) -> PaymentSchedule:
    """Due date, discount date and discount (half-up to the minor unit) of ``amount``.

    ``amount`` is what the invoice asks for (not negative: credit notes have no terms).
    """
    if amount.amount < 0:
        raise ValueError("payment terms apply to amounts of zero or more")
    currency = amount.currency
    total = quantize(amount.amount, currency)
    has_discount = terms.discount_percent is not None and terms.discount_days is not None
    discount = (
        quantize(total * terms.discount_rate, currency)
        if has_discount
        else quantize(Decimal(0), currency)
    )
    return PaymentSchedule(
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=terms.days_to_due),
        amount=Money(amount=total, currency=currency),
        discount_until=(
            issued_on + timedelta(days=terms.discount_days)
            if has_discount and terms.discount_days is not None
            else None
        ),
        discount=Money(amount=discount, currency=currency),
        discounted_amount=Money(amount=total - discount, currency=currency),
    )
