"""Credit applied back to an invoice when what settled it is taken back.

A credit note that took off more than its invoice had open (the invoice was paid, or written
off) turned the rest into credit for the customer. When the payment or write-off behind that is
taken back, the invoice would be owed twice over: once by its amount due growing again, once by
the credit the customer still holds. So that credit goes back onto the invoice first (a credit
application, the credit's record moved, its journal entry posted), and what the customer had
already used of it is owed again on the invoice (``invoice.reclaim``). The receivable the
entries reopen is then exactly what the invoice's amount due grows by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from shared import ids
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain.credits import CreditMove, CreditNoteCredit
from shared.domain.invoice import Invoice
from shared.domain.ledger import JournalEntry
from shared.store import customer_credits
from shared.store.table import Write

ZERO = Decimal(0)


@dataclass
class CreditBack:
    """The credit one transaction applies back to the customer's reopened invoices."""

    customer_id: str
    currency: str
    at: datetime
    by: str  # who takes back what settled the invoices (a payment, a credit manager)
    before: dict[str, CreditNoteCredit] | None = None  # the customer's credit note credits
    after: dict[str, CreditNoteCredit] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    released: Decimal = ZERO  # the credit applied back: it leaves the customer's unapplied cash

    def reopen(
        self, current: Invoice, reopened: Invoice, amount: Decimal, move_id: str
    ) -> tuple[Invoice, Decimal]:
        """``reopened`` (``current`` after ``amount`` that settled it was taken back) with the
        credit applied back or reclaimed, and how much of ``amount`` the credit covered."""
        rest = amount - (reopened.amount_due - current.amount_due)
        covered = self._apply(reopened.invoice_id, rest, move_id) if rest > 0 else ZERO
        if rest > covered:
            reopened = invoice_domain.reclaim(reopened, rest - covered)
        return reopened, covered

    def writes(self) -> list[Write]:
        """Each credit moved, guarded by the version that was read."""
        assert self.before is not None or not self.after
        return [
            customer_credits.replacing(held, (self.before or {})[credit_note_id])
            for credit_note_id, held in self.after.items()
        ]

    def _apply(self, invoice_id: str, amount: Decimal, move_id: str) -> Decimal:
        """Up to ``amount`` of the credit the invoice's credit notes still hold, applied back
        to it, oldest first; returns how much."""
        covered = ZERO
        for held in self._credits_of(invoice_id):
            take = min(amount - covered, held.remaining)
            if take <= 0:
                continue
            move = CreditMove(
                move_id=ids.derived_id("cab", f"{move_id}:{held.credit_note_id}"),
                kind="application",
                amount=take,
                at=self.at,
                by=self.by,
                invoice_id=invoice_id,
            )
            assert self.before is not None
            read = self.before[held.credit_note_id]
            self.after[held.credit_note_id] = held.moved(move).model_copy(
                update={"version": read.version + 1}
            )
            self.entries.append(
                ledger_domain.for_credit_application(
                    self.customer_id,
                    self.currency,
                    invoice_id,
                    take,
                    move.move_id,
                    self.at,
                    held.credit_note_number,
                )
            )
            covered += take
        self.released += covered
        return covered

    def _credits_of(self, invoice_id: str) -> list[CreditNoteCredit]:
        """The credits of the invoice's credit notes, as this move has them, oldest first."""
        if self.before is None:
            self.before = {
                held.credit_note_id: held
                for held in customer_credits.credit_note_credits(self.customer_id)
            }
        return sorted(
            (
                self.after.get(credit_note_id, held)
                for credit_note_id, held in self.before.items()
                if held.invoice_id == invoice_id
            ),
            key=lambda held: (held.arose_at, held.credit_note_id),
        )
