"""Charges: a reminder fee or late-payment interest, each an open item the customer settles.

A collection run posts a fee (``fee:<invoice id>:level<N>``) or interest
(``interest:<invoice id>:<day>``) as a journal entry (DR receivables). The charge is a
receivable of its own, named by that entry id and due the day it was charged (see
shared/domain/reporting.py); cash, a payment's credit or a credit note's credit settles it like an
invoice, and taking such an allocation back reopens it. ``amount_due`` never drops below 0 nor
grows beyond the amount charged.

A charge posted before charges had their own record is read from its entry alone
(``from_entry``: nothing settled, version 0); its first move creates the record.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, model_validator

from shared.domain.ledger import JournalEntry
from shared.domain.money import Money
from shared.model import Model

ZERO = Decimal(0)
KINDS = ("fee", "interest")


class ChargeError(ValueError):
    """A move the charge does not allow (more than is due, more than was charged)."""


class Charge(Model):
    """One fee or interest charge and what of it is still due."""

    model_config = ConfigDict(frozen=True)

    charge_id: str  # its ledger entry id
    customer_id: str
    currency: str
    kind: str  # fee | interest
    invoice_id: str | None  # the invoice it was charged on
    amount: Decimal
    amount_due: Decimal
    charged_on: date
    version: int = 1  # 0: read from its entry, no record written yet

    @model_validator(mode="after")
    def _within(self) -> Charge:
        if self.kind not in KINDS:
            raise ValueError(f"a charge is a fee or interest, not '{self.kind}'")
        if not ZERO <= self.amount_due <= self.amount:
            raise ValueError(
                f"charge {self.charge_id}: {self.amount_due} due is outside 0..{self.amount}"
            )
        return self

    @property
    def settled(self) -> bool:
        return self.amount_due == 0

    def money(self, amount: Decimal) -> dict[str, str]:
        return Money(amount=amount, currency=self.currency).to_wire()

    def to_wire(self) -> dict[str, Any]:
        """The API's view (GET /customers/{id}/charges)."""
        return {
            "id": self.charge_id,
            "customer_id": self.customer_id,
            "kind": self.kind,
            "invoice_id": self.invoice_id,
            "amount": self.money(self.amount),
            "amount_due": self.money(self.amount_due),
            "charged_on": self.charged_on.isoformat(),
            "status": "settled" if self.settled else "open",
            "version": self.version,
        }


def from_entry(entry: JournalEntry) -> Charge:
    """The charge a fee or interest entry posted, nothing of it settled yet."""
    if entry.kind not in KINDS:
        raise ValueError(f"entry {entry.entry_id} is no fee or interest charge")
    return Charge(
        charge_id=entry.entry_id,
        customer_id=entry.customer_id,
        currency=entry.currency,
        kind=entry.kind,
        invoice_id=entry.invoice_id or entry.source_id.rsplit(":", 1)[0],
        amount=entry.total,
        amount_due=entry.total,
        charged_on=entry.posted_at.astimezone(UTC).date(),
        version=0,
    )


def settle(charge: Charge, amount: Decimal) -> Charge:
    """``amount`` of the charge is paid (cash or credit applied to it)."""
    if amount <= 0:
        raise ChargeError(f"settling charge {charge.charge_id} takes an amount above 0")
    if amount > charge.amount_due:
        raise ChargeError(
            f"{amount} {charge.currency} exceeds the {charge.amount_due} {charge.currency} due "
            f"on charge {charge.charge_id}"
        )
    return charge.model_copy(update={"amount_due": charge.amount_due - amount})


def reopen(charge: Charge, amount: Decimal) -> Charge:
    """``amount`` applied to the charge was taken back: it is owed again."""
    if amount <= 0:
        raise ChargeError(f"reopening charge {charge.charge_id} takes an amount above 0")
    if charge.amount_due + amount > charge.amount:
        raise ChargeError(
            f"reopening charge {charge.charge_id} by {amount} exceeds the {charge.amount} charged"
        )
    return charge.model_copy(update={"amount_due": charge.amount_due + amount})


def refusal(charge: Charge | None, charge_id: str, customer_id: str, currency: str) -> str | None:
    """Why cash or credit of ``customer_id`` in ``currency`` cannot go to the charge read as
    ``charge`` (None: no such charge of the customer); None when it can."""
    if charge is None or charge.customer_id != customer_id:
        return f"no charge {charge_id} of customer {customer_id}"
    if charge.currency != currency:
        return f"charge {charge_id} is in {charge.currency}, not {currency}"
    if charge.settled:
        return f"charge {charge_id} has nothing due (settled)"
    return None


def oldest_first(charges: list[Charge]) -> list[Charge]:
    """Open charges in the order they are settled: oldest charged first."""
    return sorted((c for c in charges if not c.settled), key=lambda c: (c.charged_on, c.charge_id))
