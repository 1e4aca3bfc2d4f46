"""Write-offs: receivables the seller stops asking for, and the policy that allows them.

Two kinds, both recorded on the invoice they reduce (``Invoice.write_offs``) and posted to the
ledger as their own entry (see ``ledger.for_write_off``):

- a **small difference**: cash application met a payment that leaves an invoice short by no
  more than the seller's tolerance (bank charges, rounding by the payer). The invoice is paid;
  the difference goes to its own expense account. Only shortfalls: an overpayment is the
  customer's money and stays a credit.
- a **bad debt**: a credit manager gives up on (part of) an invoice, with a reason. When the
  seller's profile claims VAT bad-debt relief, the VAT share of the amount (the invoice's tax
  over its total, pro rata) goes back against tax payable instead of the expense.

A write-off is reversed (the customer pays after all, or it was a mistake) by a mirror entry;
the write-off stays recorded, marked reversed, and the amount is due again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from shared import clock
from shared.domain.money import Money, minor_units, quantize
from shared.model import Model

ZERO = Decimal(0)
DEFAULT_TOLERANCE = Decimal("1.00")


class WriteOffKind(StrEnum):
    SMALL_DIFFERENCE = "small_difference"
    BAD_DEBT = "bad_debt"


class WriteOff(Model):
    """One write-off of part of an invoice's amount due (``vat``: the part posted to tax)."""

    model_config = ConfigDict(frozen=True)

    write_off_id: str
    kind: WriteOffKind
    amount: Decimal
    vat: Decimal = ZERO  # bad debt with VAT relief: the share of ``amount`` that was VAT
    reason: str
    written_off_at: datetime
    written_off_by: str
    reversed_at: datetime | None = None
    reversed_by: str | None = None
    reversal_reason: str | None = None
    reversal_id: str | None = None  # the request that reversed it (a retry of it finds it)

    @field_validator("written_off_at", "reversed_at")
    @classmethod
    def _utc_millis(cls, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    @property
    def active(self) -> bool:
        return self.reversed_at is None

    def to_wire(self, currency: str) -> dict[str, Any]:
        def money(amount: Decimal) -> dict[str, str]:
            return Money(amount=amount, currency=currency).to_wire()

        return {
            "id": self.write_off_id,
            "kind": self.kind.value,
            "amount": money(self.amount),
            "vat": money(self.vat),
            "reason": self.reason,
            "written_off_at": clock.iso(self.written_off_at),
            "written_off_by": self.written_off_by,
            "reversed_at": clock.iso(self.reversed_at) if self.reversed_at else None,
            "reversed_by": self.reversed_by,
            "reversal_reason": self.reversal_reason,
            "reversal_id": self.reversal_id,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> WriteOff:
        reversed_at = data.get("reversed_at")
        return cls(
            write_off_id=data["id"],
            kind=WriteOffKind(data["kind"]),
            amount=Decimal(data["amount"]["amount"]),
            vat=Decimal(data["vat"]["amount"]),
            reason=data["reason"],
            written_off_at=clock.parse(data["written_off_at"]),
            written_off_by=data["written_off_by"],
            reversed_at=clock.parse(reversed_at) if reversed_at else None,
            reversed_by=data.get("reversed_by"),
            reversal_reason=data.get("reversal_reason"),
            reversal_id=data.get("reversal_id"),
        )


class SmallDifferenceTolerance(Model):
    """How short a payment may leave an invoice and still close it (seller profile).

    ``amount`` in any currency unless ``per_currency`` names it; with ``percent``, the tolerance
    is also at most that percent of the invoice's total (the smaller of the two applies).
    ``amount`` 0 turns small-difference write-offs off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal = Field(default=DEFAULT_TOLERANCE, ge=0, le=1000)
    per_currency: dict[str, Decimal] = {}
    percent: Decimal | None = Field(default=None, ge=0, le=100)

    @field_validator("per_currency")
    @classmethod
    def _known_currencies(cls, amounts: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, amount in amounts.items():
            minor_units(code)
            if not ZERO <= amount <= 1000:
                raise ValueError(f"per_currency.{code} must be between 0 and 1000")
        return amounts

    def for_invoice(self, currency: str, total: Decimal) -> Decimal:
        """The largest shortfall written off on an invoice of ``total`` in ``currency``."""
        limit = self.per_currency.get(currency, self.amount)
        if self.percent is not None:
            limit = min(limit, total * self.percent / 100)
        step = Decimal(1).scaleb(-minor_units(currency))
        return max(limit, ZERO).quantize(step, rounding=ROUND_DOWN)


def small_difference(short: Decimal, tolerance: Decimal) -> Decimal:
    """What of a shortfall ``short`` is written off: all of it within the tolerance, else 0."""
    return short if ZERO < short <= tolerance else ZERO


def vat_share(
    amount: Decimal,
    *,
    written_off_before: Decimal,
    tax_total: Decimal,
    total: Decimal,
    currency: str,
) -> Decimal:
    """The VAT in a bad debt of ``amount``, pro rata of the invoice's tax over its total.

    Cumulative, as credit notes are: this write-off's share is the share of everything written
    off so far less the share of what was before, so writing an invoice off in parts gives back
    exactly the VAT of writing it off at once.
    """
    if total <= 0 or tax_total <= 0:
        return ZERO

    def share(written: Decimal) -> Decimal:
        return quantize(written * tax_total / total, currency)

    return share(written_off_before + amount) - share(written_off_before)
