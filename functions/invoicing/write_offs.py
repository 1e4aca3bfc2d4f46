"""Write an invoice off as bad debt, or reverse a write-off (credit managers).

``POST /invoices/{invoice_id}/write-offs`` gives up on ``amount`` (at most what is due) for a
reason; ``POST /invoices/{invoice_id}/write-offs/{write_off_id}/reversal`` takes a write-off
back (the amount is due again). Each is ONE transaction:

- the invoice's next version (its write-offs, amount due and status), guarded by the version
  that was read: a concurrent payment, credit note or write-off makes it read again, once, and
  a second conflict answers 409;
- the journal entry (``write_off:<id>`` or ``write_off_reversal:<id>``, posted once): DR
  bad-debt expense (and tax payable for the VAT share when the seller's profile claims VAT
  bad-debt relief), CR receivables, or the mirror;
- the customer's open receivables, down or up by the amount;
- ``WriteOffPosted`` or ``WriteOffReversed``.

A reversal on an invoice that a credit note took off after the write-off (the credit became the
customer's, nothing being due) applies that credit back to it first (``credit_back.py``: each
credit's record moved at the version read, its credit application entry): the invoice is owed
only what the customer had used of that credit, and the receivable reopened is exactly that.

A fully written-off invoice is ``written_off``: nothing is due, collections drop it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict

from functions.invoicing.get_invoice import readable_invoice
from functions.payments.credit_back import CreditBack
from shared import clock, errors, ids, request_scope
from shared.config import seller as configured_seller
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain import write_off as write_off_domain
from shared.domain.access import Principal
from shared.domain.events import DomainEvent
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.money import DecimalString, quantize
from shared.domain.text import MultiLine
from shared.domain.write_off import WriteOff, WriteOffKind
from shared.model import Model
from shared.observability import logger
from shared.store import credit, invoices, outbox
from shared.store import ledger as ledger_store
from shared.store.outbox import StaleStateError
from shared.store.table import Write

ATTEMPTS = 2  # the first read, and one more after a concurrent write to the invoice

Reason = Annotated[str, MultiLine(max_length=500)]


class WriteOffRequest(Model):
    """How much of the amount due to write off, and why."""

    model_config = ConfigDict(extra="forbid", strict=True)

    amount: DecimalString
    reason: Reason


class WriteOffReversalRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason


def write_off(
    invoice_id: str, request: WriteOffRequest, principal: Principal
) -> tuple[Invoice, WriteOff]:
    """The invoice after the write-off, and the write-off; problems 404, 409, 422."""
    write_off_id = request_scope.request_scoped_id("wo") or ids.new_id("wo")
    for attempt in range(ATTEMPTS):
        invoice = _written_off_before(invoice_id, write_off_id, principal)
        if isinstance(invoice, tuple):
            return invoice  # a retry whose first attempt wrote, then died before its answer
        amount = _amount(request, invoice)
        seller = configured_seller()
        written = WriteOff(
            write_off_id=write_off_id,
            kind=WriteOffKind.BAD_DEBT,
            amount=amount,
            vat=_vat(invoice, amount) if seller.bad_debt_vat_relief else Decimal(0),
            reason=request.reason,
            written_off_at=clock.now(),
            written_off_by=principal.principal_id,
        )
        after = invoice_domain.write_off(invoice, written)
        state: list[Write] = [
            invoices.replacing(after, invoice),
            *ledger_store.post(
                ledger_domain.for_write_off(
                    invoice.customer_id, invoice.currency, invoice.invoice_id, written
                )
            ),
            credit.settle_receivables(invoice.customer_id, amount),
        ]
        event = invoice_domain.write_off_event("WriteOffPosted", after, written)
        if _committed(state, event, attempt, invoice_id, principal):
            return after, written
    raise AssertionError("unreachable")


def reverse(
    invoice_id: str, write_off_id: str, request: WriteOffReversalRequest, principal: Principal
) -> tuple[Invoice, WriteOff]:
    """The invoice with the write-off reversed, and the write-off; problems 404, 409."""
    reversal_id = request_scope.request_scoped_id("wor") or ids.new_id("wor")
    for attempt in range(ATTEMPTS):
        invoice = _invoice(invoice_id, principal)
        found = invoice.write_off(write_off_id)
        if found is None:
            raise errors.NotFound(f"write-off {write_off_id} of invoice {invoice_id}")
        if not found.active:
            if found.reversal_id == reversal_id:
                return invoice, found  # a retry whose first attempt reversed it, then died
            raise errors.Conflict(
                "write-off-reversed",
                f"write-off {write_off_id} was reversed already",
                current_version=invoice.version,
            )
        at = clock.now()
        reopened, reversed_ = invoice_domain.reverse_write_off(
            invoice,
            write_off_id,
            at=at,
            by=principal.principal_id,
            reason=request.reason,
            reversal_id=reversal_id,
        )
        back = CreditBack(invoice.customer_id, invoice.currency, at, principal.principal_id)
        after, covered = back.reopen(invoice, reopened, reversed_.amount, reversal_id)
        after = after.model_copy(update={"version": invoice.version + 1})
        state: list[Write] = [
            invoices.replacing(after, invoice),
            *back.writes(),
            *ledger_store.post(
                ledger_domain.for_write_off_reversal(
                    invoice.customer_id, invoice.currency, invoice.invoice_id, reversed_
                )
            ),
            *(write for entry in back.entries for write in ledger_store.post(entry)),
            credit.cash_moved(
                invoice.customer_id, reopened=reversed_.amount - covered, released=covered
            ),
        ]
        event = invoice_domain.write_off_event("WriteOffReversed", after, reversed_)
        if _committed(state, event, attempt, invoice_id, principal, guarded=1 + len(back.after)):
            return after, reversed_
    raise AssertionError("unreachable")


# --- helpers -------------------------------------------------------------------------------------


def _invoice(invoice_id: str, principal: Principal) -> Invoice:
    """The invoice to write off (404 unknown; 409 a credit note or a legacy invoice)."""
    invoice = readable_invoice(invoice_id, principal)
    if invoice is None:
        raise errors.Conflict(
            "not-writable-off", f"{invoice_id} was imported from the legacy system"
        )
    if invoice.kind is not DocumentKind.INVOICE:
        raise errors.Conflict(
            "not-writable-off", f"{invoice.number} is a credit note; nothing is due on it"
        )
    return invoice


def _written_off_before(
    invoice_id: str, write_off_id: str, principal: Principal
) -> Invoice | tuple[Invoice, WriteOff]:
    """The invoice as read; with the write-off when this request wrote it before."""
    invoice = _invoice(invoice_id, principal)
    found = invoice.write_off(write_off_id)
    return (invoice, found) if found is not None else invoice


def _amount(request: WriteOffRequest, invoice: Invoice) -> Decimal:
    """The amount, refused (422) when not above 0, beyond what is due or finer than the
    currency's minor unit."""
    amount = Decimal(request.amount)
    detail = None
    if amount <= 0:
        detail = "must be above 0"
    elif amount != quantize(amount, invoice.currency):
        detail = f"too many decimals for {invoice.currency}"
    elif amount > invoice.amount_due:
        detail = f"must not exceed the amount due, {invoice.amount_due} {invoice.currency}"
    if detail is not None:
        raise errors.Unprocessable(
            "invalid-write-off",
            f"the write-off on {invoice.number} is refused: amount {detail}",
            errors=[{"pointer": "#/amount", "detail": detail}],
        )
    return amount


def _vat(invoice: Invoice, amount: Decimal) -> Decimal:
    """The VAT share of a bad debt of ``amount`` (the seller claims the relief)."""
    before = sum(
        (w.amount for w in invoice.write_offs if w.active and w.kind is WriteOffKind.BAD_DEBT),
        Decimal(0),
    )
    return write_off_domain.vat_share(
        amount,
        written_off_before=before,
        tax_total=invoice.tax_total,
        total=invoice.total,
        currency=invoice.currency,
    )


def _committed(
    state: list[Write],
    event: DomainEvent,
    attempt: int,
    invoice_id: str,
    principal: Principal,
    *,
    guarded: int = 1,
) -> bool:
    """Commit; False to read again after a concurrent write to one of the first ``guarded``
    writes (the invoice, the credit moved back onto it), 409 when it happens twice."""
    try:
        outbox.commit(state, [event])
    except StaleStateError as stale:
        if stale.failed and not any(index < guarded for index in stale.failed):
            # Not a race for the invoice: the entry was posted before, or the customer's credit
            # figures do not hold the amount. Nothing was written; retrying cannot help.
            logger.error(
                "write-off refused by the books",
                extra={"invoice_id": invoice_id, "failed": list(stale.failed)},
            )
            raise errors.Conflict(
                "books-disagree",
                f"the books of invoice {invoice_id} refused the move; nothing was written",
            ) from None
        if attempt < ATTEMPTS - 1:
            return False
        raise errors.Conflict(
            "concurrent-modification",
            "the invoice changed meanwhile; read it again and retry",
            current_version=_invoice(invoice_id, principal).version,
        ) from None
    return True
