"""Issue a credit note against an invoice (POST /invoices/{invoice_id}/credit-notes).

An issued invoice never changes; a credit note corrects it, for some quantities of some lines
or (lines omitted) for everything not yet credited. ONE transaction writes:

- the next number of the credit note series (gap-free, like invoices);
- the credit note (an invoice item of kind ``credit_note``, status ``issued``);
- the invoice's next version (credited quantities and taxes, amount due, status), guarded by
  the version that was read;
- the journal entry: revenue and VAT debited, the receivable credited by what was still open
  (any rest is owed to the customer, as unapplied cash);
- the credit move: open receivables down by what the note took off the amount due, and any
  rest owed to the customer up its unapplied cash;
- the customer credit that rest is (``shared.store.customer_credits``), to apply or pay back;
- ``CreditNoteIssued`` and ``InvoiceCredited``.

An invoice migrated from the legacy system has no lines: its credit note credits ``amounts``
(description, net amount, tax category; see shared/domain/legacy_credit.py), written the same
way. One imported before migrated invoices were booked in the ledger cannot be credited (409).

If someone else wrote the invoice meanwhile (a payment, another note), it is read again and the
note computed anew, once; a second conflict answers 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from functions.invoicing.get_invoice import readable_invoice
from shared import clock, errors, ids, request_scope
from shared.config import seller as configured_seller
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain import legacy_credit, numbering
from shared.domain.access import Principal
from shared.domain.credits import CreditNoteCredit
from shared.domain.customer import Customer
from shared.domain.events import DomainEvent
from shared.domain.invoice import CreditError, DocumentKind, Invoice, InvoiceStatus
from shared.domain.money import DecimalString
from shared.domain.omittable import Omittable
from shared.domain.pricing import Supply, TaxCategory
from shared.domain.text import MultiLine, SingleLine
from shared.model import Model
from shared.store import credit, customer_credits, customers, invoices, outbox, series
from shared.store import ledger as ledger_store
from shared.store.outbox import StaleStateError
from shared.store.table import Update, Write

MAX_LINES = 200
MAX_AMOUNTS = 50
ATTEMPTS = 2  # the first read, and one more after a concurrent write to the invoice
_INVOICE_INDEX = 2  # in the transaction: counter, credit note, invoice, ...

AmountString = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,4})?$")]
Reason = Annotated[str, MultiLine(max_length=500)]


class CreditLineRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    line_no: int = Field(ge=1)  # the invoice's line number
    quantity: DecimalString

    @field_validator("quantity")
    @classmethod
    def _above_zero(cls, value: str) -> str:
        if Decimal(value) <= 0:
            raise ValueError("must be above 0")
        return value


class CreditAmountRequest(Model):
    """An amount a migrated invoice is credited by (it has no lines to credit)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    description: Annotated[str, SingleLine(max_length=200)]
    net_amount: AmountString
    tax_category: TaxCategory = Field(strict=False)  # lax only to take the enum's text values
    supply: Supply = Field(default=Supply.GOODS, strict=False)

    def amount(self) -> legacy_credit.CreditAmount:
        return legacy_credit.CreditAmount(
            description=self.description,
            net_amount=Decimal(self.net_amount),
            tax_category=self.tax_category.value,
            supply=self.supply.value,
        )


class CreditNoteRequest(Model):
    """What to credit and why: ``lines`` of an invoice of ours (without them, everything not
    yet credited), or ``amounts`` of a migrated invoice."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason
    lines: Omittable[list[CreditLineRequest]] = Field(
        default=None, min_length=1, max_length=MAX_LINES
    )
    amounts: Omittable[list[CreditAmountRequest]] = Field(
        default=None, min_length=1, max_length=MAX_AMOUNTS
    )

    @field_validator("lines")
    @classmethod
    def _one_entry_per_line(
        cls, lines: list[CreditLineRequest] | None
    ) -> list[CreditLineRequest] | None:
        numbers = [line.line_no for line in lines or []]
        if len(set(numbers)) != len(numbers):
            raise ValueError("name each invoice line once")
        return lines

    def quantities(self) -> dict[int, Decimal] | None:
        if self.lines is None:
            return None
        return {line.line_no: Decimal(line.quantity) for line in self.lines}


def issue_credit_note(invoice_id: str, request: CreditNoteRequest, principal: Principal) -> Invoice:
    """The numbered credit note; problems: 404 unknown, 409 not creditable, 422 bad lines."""
    try:
        return _issue(invoice_id, request, principal)
    except (errors.DomainError, StaleStateError):
        # A retry whose first attempt issued the note, then died before its answer was saved:
        # the invoice is credited already (refused now, or the note's own guard failed).
        if note := request_scope.made_before("cn", invoices.get):
            return note
        raise


def _issue(invoice_id: str, request: CreditNoteRequest, principal: Principal) -> Invoice:
    for attempt in range(ATTEMPTS):
        invoice = _creditable(invoice_id, principal)
        try:
            return _write(invoice, request, principal)
        except StaleStateError as stale:
            if _INVOICE_INDEX not in stale.failed:
                raise
            if attempt == ATTEMPTS - 1:
                raise errors.Conflict(
                    "concurrent-modification",
                    "the invoice changed meanwhile; read it again and retry",
                    current_version=_creditable(invoice_id, principal).version,
                ) from None
    raise AssertionError("unreachable")


def _creditable(invoice_id: str, principal: Principal) -> Invoice:
    invoice = readable_invoice(invoice_id, principal) or invoices.receivable(invoice_id)
    if invoice is None:
        raise errors.Conflict(
            "not-creditable",
            f"{invoice_id} was imported from the legacy system before migrated invoices were "
            "booked in the ledger; it cannot be credited here",
        )
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        raise errors.Conflict(
            "not-creditable", f"{invoice.number} is a credit note; only invoices are credited"
        )
    if invoice.status is InvoiceStatus.CREDITED:
        raise errors.Conflict(
            "fully-credited",
            f"invoice {invoice.number} is fully credited",
            current_version=invoice.version,
        )
    return invoice


def _write(invoice: Invoice, request: CreditNoteRequest, principal: Principal) -> Invoice:
    seller = configured_seller()
    migrated = invoices.is_legacy_invoice(invoice)
    _require_fitting(request, migrated=migrated)
    # the same on a retry of this request
    credit_note_id = request_scope.request_scoped_id("cn") or ids.new_id("cn")
    try:
        if migrated:
            draft = legacy_credit.credit_note(
                invoice,
                customer=_customer(invoice),
                seller=seller,
                amounts=[amount.amount() for amount in request.amounts or ()],
                credit_note_id=credit_note_id,
                reason=request.reason,
                issued_at=clock.now(),
            )
        else:
            draft = invoice_domain.credit_note(
                invoice,
                credit_note_id=credit_note_id,
                quantities=request.quantities(),
                reason=request.reason,
                issued_at=clock.now(),
                seller=seller,
            )
    except CreditError as error:
        raise _refused(error, request) from None
    settled = min(draft.total, invoice.amount_due)

    def write(number: int, counter: Update) -> Invoice:
        note = invoice_domain.numbered(draft, number, seller)
        credited = (
            legacy_credit.credited(invoice, note)
            if migrated
            else invoice_domain.apply_credit(invoice, note)
        )
        state: list[Write] = [
            counter,
            *invoices.issue_writes(note),
            invoices.replacing(credited, invoice),
            *ledger_store.post(ledger_domain.for_credit_note(note, open_before=invoice.amount_due)),
        ]
        owed = note.total - settled
        if settled > 0 or owed > 0:
            state.append(credit.cash_moved(invoice.customer_id, settled=settled, received=owed))
        if owed > 0:
            state.append(customer_credits.arising(_owed_credit(note, owed)))
        events = [
            invoice_domain.issued_event(note),
            _credited_event(credited, note, principal),
        ]
        outbox.commit(state, events)
        return note

    series_name = numbering.series(seller.credit_note_prefix, draft.issued_on)
    return series.issue(seller.entity, series_name, write)


def _require_fitting(request: CreditNoteRequest, *, migrated: bool) -> None:
    """Lines for an invoice of ours, amounts for a migrated one (422 at the field otherwise)."""
    if migrated and request.amounts is None:
        pointer, detail = "#/amounts", "a migrated invoice has no lines: credit it by amounts"
    elif not migrated and request.amounts is not None:
        pointer, detail = "#/amounts", "an invoice of ours is credited by its lines, not amounts"
    elif migrated and request.lines is not None:
        pointer, detail = "#/lines", "a migrated invoice has no lines: credit it by amounts"
    else:
        return
    raise errors.Unprocessable(
        "credit-error", detail, errors=[{"pointer": pointer, "detail": detail}]
    )


def _customer(invoice: Invoice) -> Customer:
    customer = customers.get(invoice.customer_id)
    if customer is None or customer.billing_address is None:
        raise errors.Conflict(
            "not-creditable", f"customer {invoice.customer_id} has no billing address to bill"
        )
    return customer


def _owed_credit(note: Invoice, owed: Decimal) -> CreditNoteCredit:
    assert note.credited_invoice_id is not None, "a credit note names the invoice it credits"
    return CreditNoteCredit(
        credit_note_id=note.invoice_id,
        credit_note_number=note.number,
        invoice_id=note.credited_invoice_id,
        customer_id=note.customer_id,
        currency=note.currency,
        original=owed,
        arose_at=note.issued_at,
    )


def _credited_event(credited: Invoice, note: Invoice, principal: Principal) -> DomainEvent:
    event = invoice_domain.credited_event(credited, note)
    return event.model_copy(update={"data": {**event.data, "credited_by": principal.principal_id}})


def _refused(error: CreditError, request: CreditNoteRequest) -> errors.DomainError:
    """422 pointing at the line (or amount) the error names, or at the whole list."""
    pointer = "#/lines"
    if request.amounts is not None:
        pointer = "#/amounts"
        if error.line_no is not None:
            pointer = f"#/amounts/{error.line_no - 1}/{error.field or 'net_amount'}"
    elif error.line_no is not None and request.lines is not None:
        index = next(
            (i for i, line in enumerate(request.lines) if line.line_no == error.line_no), None
        )
        if index is not None:
            pointer = f"#/lines/{index}/{error.field or 'quantity'}"
    return errors.Unprocessable(
        "credit-error", error.detail, errors=[{"pointer": pointer, "detail": error.detail}]
    )
