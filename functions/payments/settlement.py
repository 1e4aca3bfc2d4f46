"""One transaction of cash application on one payment, built move by move.

Applying cash, taking an allocation back, refunding and marking a dispute all change the same
things together, and every one of them must be ONE ``TransactWriteItems``:

- the payment's next version, guarded by the version that was read (always the first write);
- each invoice touched, its next version guarded by the version that was read;
- each fee or interest charge touched (cash applied to it, or taken back), likewise;
- each credit note credit applied back to its invoice (``credit_back.py``), likewise;
- the journal entries (allocation, unapplication, refund, transfer out of the suspense ledger),
  each posted once by its deterministic id;
- ONE update of the customer's credit figures (a transaction may touch an item only once), so
  the moves accumulate their effect and the update is built last;
- the events: the caller's payment event, and ``InvoicePaid`` / ``InvoiceReopened`` for each
  invoice whose amount due reached zero or grew again.

A failed guard on the payment or an invoice raises the outbox's ``StaleStateError`` (the
caller reads again and decides anew); ``stale`` tells those apart from a broken credit invariant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.payments.credit_back import CreditBack
from shared import ids
from shared.domain import charges as charge_domain
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain import payment as payment_domain
from shared.domain.charges import Charge
from shared.domain.events import DomainEvent
from shared.domain.invoice import Invoice, InvoiceStatus
from shared.domain.ledger import JournalEntry
from shared.domain.payment import Allocation, Payment
from shared.domain.write_off import WriteOff, WriteOffKind
from shared.store import charges as charge_store
from shared.store import credit, invoices, outbox, payments
from shared.store import ledger as ledger_store
from shared.store.table import Write

ZERO = Decimal(0)
CONSUMER = "cash-application"  # the consumer of payment events (its consumed markers)
MATCHER = CONSUMER  # ``applied_by`` of the allocations the matcher made


class BrokenInvariantError(Exception):
    """A write other than a version guard failed: a journal entry posted before, or credit
    figures that do not hold what the move takes out of them. Retrying cannot help: the message
    goes to its DLQ and alarm rather than write wrong figures."""


class UnknownInvoiceError(LookupError):
    """An allocation names an invoice that is not (or no longer) an invoice of this system."""


class UnknownChargeError(LookupError):
    """An allocation names a charge that is not (or no longer) a charge of the customer."""


@dataclass
class CashMove:
    """The changes of one transaction on ``before`` (see the module notes)."""

    before: Payment
    at: datetime
    payment: Payment = field(init=False)
    invoices_before: dict[str, Invoice] = field(default_factory=dict)
    invoices_after: dict[str, Invoice] = field(default_factory=dict)
    charges_before: dict[str, Charge] = field(default_factory=dict)
    charges_after: dict[str, Charge] = field(default_factory=dict)
    credit_back: CreditBack | None = None  # credit applied back to reopened invoices
    entries: list[JournalEntry] = field(default_factory=list)
    extra: list[Write] = field(default_factory=list)  # e.g. aliases, the decision record
    settled: Decimal = ZERO  # open receivables settled (cash + discount)
    reopened: Decimal = ZERO  # open receivables that are owed again
    received: Decimal = ZERO  # joins the customer's unapplied cash
    released: Decimal = ZERO  # leaves it

    def __post_init__(self) -> None:
        self.payment = self.before

    # --- moves ---------------------------------------------------------------------------------

    def identify(self, customer_id: str) -> None:
        """The payment is ``customer_id``'s: its money moves out of the suspense ledger."""
        if self.payment.customer_id == customer_id:
            return
        if self.payment.customer_id is not None:
            raise ValueError(
                f"payment {self.payment.payment_id} belongs to {self.payment.customer_id}"
            )
        moving = self.payment.unapplied
        self._set(self.payment.model_copy(update={"customer_id": customer_id}))
        if moving > 0:
            self.entries += ledger_domain.for_transfer(
                self.payment.payment_id,
                self.payment.currency,
                moving,
                payments.UNIDENTIFIED,
                customer_id,
                self.at,
                cash_account=payment_domain.cash_dimension(self.payment),
            )
            self.received += moving

    def allocate(
        self,
        invoice: Invoice,
        amount: Decimal,
        discount: Decimal,
        *,
        by: str,
        evidence: Iterable[str],
        confidence: Decimal,
        allocation_id: str | None = None,
        written_off: Decimal = ZERO,
    ) -> Allocation:
        """Apply ``amount`` (and grant ``discount``) of the payment to ``invoice``; a
        ``written_off`` shortfall (within the tolerance) closes it as a small difference."""
        customer_id = self._customer()
        if invoice.customer_id != customer_id:
            raise ValueError(f"invoice {invoice.number} is not {customer_id}'s")
        current = self._invoice(invoice)
        moved, allocation = payment_domain.allocate(
            self.payment,
            invoice.invoice_id,
            invoice.number,
            amount,
            discount,
            by,
            tuple(evidence),
            confidence,
            self.at,
            allocation_id=allocation_id,
        )
        self._set(moved)
        self._set_invoice(invoice_domain.record_payment(current, amount, discount=discount))
        self.entries.append(
            ledger_domain.for_allocation(
                customer_id,
                self.payment.currency,
                invoice.invoice_id,
                amount,
                discount,
                allocation.allocation_id,
                self.at,
                payment_id=self.payment.payment_id,
            )
        )
        self.settled += amount + discount
        self.released += amount
        if written_off:
            self._write_off_small_difference(invoice.invoice_id, written_off, allocation)
        return allocation

    def allocate_to_charge(
        self,
        charge: Charge,
        amount: Decimal,
        *,
        by: str,
        evidence: Iterable[str],
        confidence: Decimal,
        allocation_id: str | None = None,
    ) -> Allocation:
        """Apply ``amount`` of the payment to a fee or interest ``charge`` (as read)."""
        customer_id = self._customer()
        if charge.customer_id != customer_id:
            raise ValueError(f"charge {charge.charge_id} is not {customer_id}'s")
        self.charges_before.setdefault(charge.charge_id, charge)
        current = self.charges_after.get(charge.charge_id, charge)
        moved, allocation = payment_domain.allocate(
            self.payment,
            charge.charge_id,
            self._number_charged_on(charge),
            amount,
            ZERO,
            by,
            tuple(evidence),
            confidence,
            self.at,
            allocation_id=allocation_id,
            charge_id=charge.charge_id,
        )
        self._set(moved)
        self.charges_after[charge.charge_id] = charge_domain.settle(current, amount)
        self.entries.append(
            ledger_domain.for_allocation(
                customer_id,
                self.payment.currency,
                charge.invoice_id or charge.charge_id,
                amount,
                ZERO,
                allocation.allocation_id,
                self.at,
                payment_id=self.payment.payment_id,
                charge_id=charge.charge_id,
            )
        )
        self.settled += amount
        self.released += amount
        return allocation

    def _reverse_small_difference(self, allocation: Allocation) -> None:
        """The shortfall written off with an allocation is owed again when it is taken back."""
        current = self.invoices_after[allocation.invoice_id]
        small = current.write_off(ids.derived_id("wo", allocation.allocation_id))
        if small is None or not small.active:
            return
        reopened, reversed_ = invoice_domain.reverse_write_off(
            current,
            small.write_off_id,
            at=self.at,
            by=self.payment.payment_id,
            reason=f"allocation {allocation.allocation_id} taken back",
        )
        self.entries.append(
            ledger_domain.for_write_off_reversal(
                self._customer(), self.payment.currency, allocation.invoice_id, reversed_
            )
        )
        covered = self._reopen_invoice(reopened, small.amount, small.write_off_id)
        self.reopened += small.amount - covered

    def _write_off_small_difference(
        self, invoice_id: str, amount: Decimal, allocation: Allocation
    ) -> None:
        """The shortfall an allocation leaves on its invoice, written off (its own entry)."""
        customer_id = self._customer()
        small = WriteOff(
            write_off_id=ids.derived_id("wo", allocation.allocation_id),
            kind=WriteOffKind.SMALL_DIFFERENCE,
            amount=amount,
            reason=f"short payment within the tolerance (payment {self.payment.payment_id})",
            written_off_at=self.at,
            written_off_by=allocation.applied_by,
        )
        current = self.invoices_after[invoice_id]
        self._set_invoice(invoice_domain.write_off(current, small))
        self.entries.append(
            ledger_domain.for_write_off(customer_id, self.payment.currency, invoice_id, small)
        )
        self.settled += amount

    def take_back(self, allocation_id: str) -> Allocation:
        """Reverse an active allocation: its invoice reopens, its cash is unapplied again."""
        moved, allocation = payment_domain.unapply(self.payment, allocation_id, self.at)
        self._set(moved)
        customer_id = self._customer()
        cash = allocation.applied  # what earlier partial take-backs left applied
        if allocation.charge_id is not None:
            self._reopen_charge(allocation, cash, allocation.allocation_id, None)
            return allocation
        current = self._invoice_by_id(allocation.invoice_id)
        # The contested payment no longer covers the invoice: no dispute holds it any more.
        reopened = invoice_domain.reverse_payment(
            invoice_domain.dispute(current, open=False), cash, discount=allocation.discount
        )
        self.entries.append(
            ledger_domain.for_unapplication(
                customer_id,
                self.payment.currency,
                allocation.invoice_id,
                cash,
                allocation.discount,
                allocation.allocation_id,
                self.at,
                payment_id=self.payment.payment_id,
            )
        )
        covered = self._reopen_invoice(
            reopened, cash + allocation.discount, allocation.allocation_id
        )
        self.reopened += cash + allocation.discount - covered
        self.received += cash
        self._reverse_small_difference(allocation)
        return allocation

    def take_back_part(self, allocation_id: str, amount: Decimal, reference: str) -> Allocation:
        """Take ``amount`` of an allocation's cash back, the rest staying applied: its invoice
        reopens by exactly ``amount`` (``reference``: the refund or dispute taking it)."""
        moved, allocation = payment_domain.take_back_part(
            self.payment, allocation_id, amount, self.at, reference=reference
        )
        self._set(moved)
        if allocation.charge_id is not None:
            self._reopen_charge(allocation, amount, allocation_id, reference)
            return allocation
        current = self._invoice_by_id(allocation.invoice_id)
        reopened = invoice_domain.reverse_payment(current, amount)
        self.entries.append(
            ledger_domain.for_part_taken_back(
                self._customer(),
                self.payment.currency,
                allocation.invoice_id,
                amount,
                allocation_id,
                reference,
                self.at,
            )
        )
        covered = self._reopen_invoice(reopened, amount, f"{allocation_id}:{reference}")
        self.reopened += amount - covered
        self.received += amount
        return allocation

    def withdraw(
        self, dispute_id: str, amount: Decimal, reopened: Iterable[payment_domain.Reopened]
    ) -> None:
        """The gateway withdrew ``amount`` of the unapplied part for a dispute."""
        self._set(payment_domain.withdraw(self.payment, dispute_id, amount, self.at, reopened))
        self.entries.append(
            ledger_domain.for_chargeback(
                payments.ledger_customer(self.payment),
                self.payment.currency,
                amount,
                f"{self.payment.payment_id}:{dispute_id}",
                self.at,
                cash_account=payment_domain.cash_dimension(self.payment),
                payment_id=self.payment.payment_id,
            )
        )
        if self.payment.customer_id:
            self.released += amount

    def reinstate(self, dispute_id: str) -> payment_domain.Chargeback:
        """A won dispute's money is the payment's unapplied cash again."""
        moved, chargeback = payment_domain.reinstate(self.payment, dispute_id, self.at)
        self._set(moved)
        self.entries.append(
            ledger_domain.for_chargeback_reversal(
                payments.ledger_customer(self.payment),
                self.payment.currency,
                chargeback.amount,
                f"{self.payment.payment_id}:{dispute_id}",
                self.at,
                cash_account=payment_domain.cash_dimension(self.payment),
                payment_id=self.payment.payment_id,
            )
        )
        if self.payment.customer_id:
            self.received += chargeback.amount
        return chargeback

    def refund(self, amount: Decimal, refund_id: str) -> None:
        """Pay ``amount`` of the unapplied part back (take allocations back first if needed)."""
        self._set(payment_domain.refund(self.payment, amount, self.at))
        self.entries.append(
            ledger_domain.for_refund(
                payments.ledger_customer(self.payment),
                self.payment.currency,
                amount,
                refund_id,
                self.at,
                cash_account=payment_domain.cash_dimension(self.payment),
                payment_id=self.payment.payment_id,
            )
        )
        if self.payment.customer_id:
            self.released += amount

    def reverse(self, amount: Decimal) -> None:
        """The bank took the whole payment back (take every allocation back first)."""
        self._set(payment_domain.reverse(self.payment, amount))
        self.entries.append(
            ledger_domain.for_bank_reversal(
                payments.ledger_customer(self.payment),
                self.payment.currency,
                amount,
                self.payment.payment_id,
                self.at,
                cash_account=payment_domain.cash_dimension(self.payment),
            )
        )
        if self.payment.customer_id:
            self.released += amount

    def mark_invoices_disputed(self, open: bool) -> list[Invoice]:
        """Every invoice the payment is applied to is disputed (``open``) or no longer."""
        return self.mark_disputed(
            (
                allocation.invoice_id
                for allocation in self.payment.active_allocations
                if not allocation.is_charge
            ),
            open=open,
        )

    def mark_disputed(self, invoice_ids: Iterable[str], *, open: bool) -> list[Invoice]:
        """The invoices named are disputed (``open``) or no longer; those that changed."""
        touched = []
        for invoice_id in dict.fromkeys(invoice_ids):
            current = self._invoice_by_id(invoice_id)
            changed = invoice_domain.dispute(current, open=open)
            if changed is not current:
                touched.append(self._set_invoice(changed))
        return touched

    def invoice(self, invoice_id: str) -> Invoice:
        """The invoice as this move has it (read once, then as changed)."""
        return self._invoice_by_id(invoice_id)

    def charge(self, charge_id: str) -> Charge:
        """The customer's charge as this move has it (read once, then as changed)."""
        return self._charge_by_id(charge_id)

    def set_payment(self, payment: Payment) -> None:
        """A move of the payment's own (e.g. ``payment_domain.dispute``)."""
        self._set(payment)

    # --- the transaction -----------------------------------------------------------------------

    def writes(self) -> list[Write]:
        """Payment first, then the invoices, ledger entries, credit update and the extras."""
        state: list[Write] = [payments.replacing(self.payment, self.before)]
        for invoice_id, after in self.invoices_after.items():
            state.append(invoices.replacing(after, self.invoices_before[invoice_id]))
        for charge_id, charged in self.charges_after.items():
            state.append(charge_store.replacing(charged, self.charges_before[charge_id]))
        entries = list(self.entries)
        if self.credit_back is not None:
            state += self.credit_back.writes()
            entries += self.credit_back.entries
        for entry in entries:
            state += ledger_store.post(entry)
        if self.payment.customer_id and any(
            (self.settled, self.reopened, self.received, self.released)
        ):
            state.append(
                credit.cash_moved(
                    self.payment.customer_id,
                    settled=self.settled,
                    reopened=self.reopened,
                    received=self.received,
                    released=self.released,
                )
            )
        return [*state, *self.extra]

    def invoice_events(self, **context: Any) -> list[DomainEvent]:
        """``InvoicePaid`` / ``InvoiceReopened`` for each invoice whose amount due changed so."""
        found = []
        for invoice_id, after in self.invoices_after.items():
            before = self.invoices_before[invoice_id]
            if after.status is InvoiceStatus.PAID and before.status is not InvoiceStatus.PAID:
                found.append(invoice_event("InvoicePaid", after, self.at, **context))
            elif after.amount_due > before.amount_due:
                found.append(invoice_event("InvoiceReopened", after, self.at, **context))
        return found

    def commit(
        self, events: Sequence[DomainEvent], *, consumed: tuple[str, str] | None = None
    ) -> None:
        """Write everything at once; raises ``StaleStateError`` or ``BrokenInvariantError``."""
        state = self.writes()
        try:
            outbox.commit(state, events, consumed=consumed)
        except outbox.StaleStateError as stale:
            if self.stale(stale):
                raise
            raise BrokenInvariantError(
                f"payment {self.payment.payment_id}: writes {list(stale.failed)} refused "
                f"(a journal entry posted before, or credit figures of "
                f"{self.payment.customer_id} that do not cover the move)"
            ) from stale

    def stale(self, error: outbox.StaleStateError) -> bool:
        """Did a guard on the payment, an invoice or a charge fail (someone wrote since they
        were read)?"""
        moved = len(self.credit_back.after) if self.credit_back else 0
        guarded = len(self.invoices_after) + len(self.charges_after) + moved
        return any(index <= guarded for index in error.failed) or not error.failed

    # --- helpers -------------------------------------------------------------------------------

    def _set(self, moved: Payment) -> None:
        """Keep ``moved`` exactly one version after ``before``: one transaction, one version."""
        self.payment = moved.model_copy(update={"version": self.before.version + 1})

    def _set_invoice(self, moved: Invoice) -> Invoice:
        """Keep ``moved`` exactly one version after the invoice as read, with the cash of the
        payment's allocations to it as they stand (collections read interest from there)."""
        read = self.invoices_before[moved.invoice_id]
        applied = [
            invoice_domain.cash_of(allocation)
            for allocation in self.payment.allocations
            if allocation.invoice_id == moved.invoice_id and not allocation.is_charge
        ]
        self.invoices_after[moved.invoice_id] = invoice_domain.with_cash_applied(
            moved, applied
        ).model_copy(update={"version": read.version + 1})
        return self.invoices_after[moved.invoice_id]

    def _reopen_invoice(self, reopened: Invoice, amount: Decimal, move_id: str) -> Decimal:
        """Set ``reopened``, the invoice after ``amount`` that settled it was taken back, with
        its credit notes' credit applied back (``credit_back``); returns what that covered."""
        if self.credit_back is None:
            self.credit_back = CreditBack(
                self._customer(), self.payment.currency, self.at, self.payment.payment_id
            )
        current = self._invoice_by_id(reopened.invoice_id)
        reopened, covered = self.credit_back.reopen(current, reopened, amount, move_id)
        self._set_invoice(reopened)
        self.released += covered
        return covered

    def _reopen_charge(
        self, allocation: Allocation, cash: Decimal, allocation_id: str, reference: str | None
    ) -> None:
        """Cash taken back off a charge: the charge is owed again by exactly ``cash``."""
        assert allocation.charge_id is not None
        current = self._charge_by_id(allocation.charge_id)
        self.charges_after[current.charge_id] = charge_domain.reopen(current, cash)
        invoice_id = current.invoice_id or current.charge_id
        if reference is None:
            entry = ledger_domain.for_unapplication(
                self._customer(),
                self.payment.currency,
                invoice_id,
                cash,
                ZERO,
                allocation_id,
                self.at,
                payment_id=self.payment.payment_id,
                charge_id=current.charge_id,
            )
        else:
            entry = ledger_domain.for_part_taken_back(
                self._customer(),
                self.payment.currency,
                invoice_id,
                cash,
                allocation_id,
                reference,
                self.at,
                charge_id=current.charge_id,
            )
        self.entries.append(entry)
        self.reopened += cash
        self.received += cash

    def _charge_by_id(self, charge_id: str) -> Charge:
        if charge_id in self.charges_after:
            return self.charges_after[charge_id]
        if charge_id not in self.charges_before:
            found = charge_store.get(self._customer(), charge_id)
            if found is None:
                raise UnknownChargeError(f"charge {charge_id} is not {self._customer()}'s")
            self.charges_before[charge_id] = found
        return self.charges_before[charge_id]

    def _number_charged_on(self, charge: Charge) -> str:
        """The number of the invoice the charge was charged on (its id when unknown)."""
        if charge.invoice_id is None:
            return charge.charge_id
        known = self.invoices_after.get(charge.invoice_id) or self.invoices_before.get(
            charge.invoice_id
        )
        found = known or invoices.receivable(charge.invoice_id)
        return found.number if found else charge.invoice_id

    def _customer(self) -> str:
        if self.payment.customer_id is None:
            raise ValueError(f"payment {self.payment.payment_id} has no customer yet")
        return self.payment.customer_id

    def _invoice(self, invoice: Invoice) -> Invoice:
        self.invoices_before.setdefault(invoice.invoice_id, invoice)
        return self.invoices_after.get(invoice.invoice_id, invoice)

    def _invoice_by_id(self, invoice_id: str) -> Invoice:
        if invoice_id in self.invoices_after:
            return self.invoices_after[invoice_id]
        if invoice_id not in self.invoices_before:
            found = invoices.receivable(invoice_id)
            if found is None:
                raise UnknownInvoiceError(f"invoice {invoice_id} is not an invoice of ours")
            self.invoices_before[invoice_id] = found
        return self.invoices_before[invoice_id]


def open_charge(
    charge_id: str, customer_id: str, currency: str
) -> tuple[Charge | None, str | None]:
    """The customer's charge with something due in ``currency``, or why there is none."""
    charge = charge_store.get(customer_id, charge_id) if len(charge_id) <= 200 else None
    problem = charge_domain.refusal(charge, charge_id, customer_id, currency)
    return (None, problem) if problem else (charge, None)


def invoice_event(detail_type: str, invoice: Invoice, at: datetime, **context: Any) -> DomainEvent:
    """An event of the invoice aggregate (its wire form, with what caused it)."""
    return DomainEvent(
        detail_type=detail_type,
        source=invoice_domain.SOURCE,
        aggregate_id=invoice.invoice_id,
        occurred_at=at,
        data={**invoice.to_wire(), **context},
    )


def payment_event(detail_type: str, payment: Payment, at: datetime, **data: Any) -> DomainEvent:
    """An event of the payment aggregate: the payment as written, and what happened to it."""
    return DomainEvent(
        detail_type=detail_type,
        source=payment_domain.SOURCE,
        aggregate_id=payment.payment_id,
        occurred_at=at,
        data={**payment.to_wire(), **data},
    )
