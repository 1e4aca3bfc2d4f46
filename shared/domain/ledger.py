"""The general ledger of receivables: every money movement as a balanced double entry.

Each business fact (an invoice or credit note issued, money received, cash applied to an
invoice or taken off it again, a refund, a fee, late-payment interest) becomes one journal entry
whose debits equal its credits. The entry id is derived from the fact (``kind:source_id``), so a
retried write collides with the first instead of posting twice.

Accounts, from the seller's point of view:

- receivables (asset): what customers owe on issued invoices, fees and interest;
- unapplied cash (liability): money received but not yet applied to an invoice, and credit owed
  to a customer (a credit note beyond what its invoice still had open);
- revenue, tax payable, fee income, interest income, discounts allowed (an expense), cash (asset);
- small differences and bad-debt expense (expenses): receivables written off (see write_off.py).

``customer_balance`` is what a customer owes net of the money we hold for them: receivables
less unapplied cash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator

from shared import clock
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.write_off import WriteOff, WriteOffKind
from shared.model import Model

ZERO = Decimal(0)
KINDS = frozenset(
    {
        "invoice",
        "credit_note",
        "payment",
        "allocation",
        "unapplication",
        "refund",
        "fee",
        "interest",
        "transfer",
        "bank_reversal",
        "write_off",
        "write_off_reversal",
        "chargeback",
        "chargeback_reversal",
        "opening_balance",
        "credit_application",
    }
)


class Account(StrEnum):
    RECEIVABLES = "receivables"
    REVENUE = "revenue"
    TAX_PAYABLE = "tax_payable"
    CASH = "cash"
    UNAPPLIED_CASH = "unapplied_cash"  # a liability: money held for, or credit owed to, customers
    DISCOUNTS_ALLOWED = "discounts_allowed"
    FEE_INCOME = "fee_income"
    INTEREST_INCOME = "interest_income"
    SMALL_DIFFERENCES = "small_differences"  # an expense: short payments within the tolerance
    BAD_DEBT_EXPENSE = "bad_debt_expense"
    OPENING_BALANCE_EQUITY = "opening_balance_equity"  # what migrated receivables came in against


class Posting(Model):
    """One side of an entry on one account: a debit or a credit, never both.

    ``dimension`` names the sub-account where one account has several (revenue and VAT per tax
    group, ``S:19``; cash per bank account or gateway, ``bank:<IBAN>``, ``gateway:stripe``); the
    chart of accounts (shared/domain/chart.py) maps it to an account code. None: the account.
    """

    model_config = ConfigDict(frozen=True)

    account: Account
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    dimension: str | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Posting:
        if self.debit < 0 or self.credit < 0:
            raise ValueError(f"{self.account}: amounts are not negative")
        if (self.debit > 0) == (self.credit > 0):
            raise ValueError(f"{self.account}: a posting is either a debit or a credit above 0")
        return self

    @property
    def amount(self) -> Decimal:
        """Debit-positive: what the posting adds to the account's debit balance."""
        return self.debit - self.credit


class JournalEntry(Model):
    """One balanced entry for one customer in one currency.

    ``invoice_id`` names the invoice whose receivable the entry moves (the invoice itself, the
    one a credit note credits, the one cash was applied to or taken back from, the one a fee or
    interest was charged on); entries posted before it existed have none (see
    shared/domain/reporting.py for how those are attributed). ``payment_id`` names the payment
    whose money the entry moves (received, applied, taken back, refunded, transferred), for the
    journal's document references; None where no payment is involved or it was not recorded.
    ``charge_id`` names the fee or interest charge (its entry id) an entry settles or reopens
    (cash or credit applied to it, or taken back): the open item it moves is the charge, while
    ``invoice_id`` still names the invoice the charge was charged on.
    """

    model_config = ConfigDict(frozen=True)

    entry_id: str
    customer_id: str
    currency: str
    posted_at: datetime
    kind: str
    source_id: str
    memo: str
    postings: tuple[Posting, ...]
    invoice_id: str | None = None
    payment_id: str | None = None
    charge_id: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown entry kind '{kind}'")
        return kind

    @field_validator("posted_at")
    @classmethod
    def _utc_millis(cls, moment: datetime) -> datetime:
        """UTC at millisecond precision, as stored, so an entry reads back equal."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntry:
        if not self.postings:
            raise ValueError(f"{self.entry_id}: an entry moves an amount above 0")
        debits = sum((posting.debit for posting in self.postings), ZERO)
        credits = sum((posting.credit for posting in self.postings), ZERO)
        if debits != credits:
            raise ValueError(f"{self.entry_id}: debits {debits} differ from credits {credits}")
        return self

    @property
    def total(self) -> Decimal:
        return sum((posting.debit for posting in self.postings), ZERO)

    def to_item_data(self) -> dict[str, Any]:
        """Plain data for the store: amounts as decimal strings, the time as ISO UTC."""
        named = {"invoice_id": self.invoice_id} if self.invoice_id else {}
        named |= {"payment_id": self.payment_id} if self.payment_id else {}
        named |= {"charge_id": self.charge_id} if self.charge_id else {}
        return {
            **named,
            "entry_id": self.entry_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "posted_at": clock.iso(self.posted_at),
            "kind": self.kind,
            "source_id": self.source_id,
            "memo": self.memo,
            "postings": [_posting_data(p) for p in self.postings],
        }

    @classmethod
    def from_item_data(cls, data: dict[str, Any]) -> JournalEntry:
        return cls(
            entry_id=data["entry_id"],
            customer_id=data["customer_id"],
            currency=data["currency"],
            posted_at=clock.parse(data["posted_at"]),
            kind=data["kind"],
            source_id=data["source_id"],
            memo=data["memo"],
            postings=tuple(
                Posting(
                    account=Account(p["account"]),
                    debit=Decimal(str(p["debit"])),
                    credit=Decimal(str(p["credit"])),
                    dimension=p.get("dimension"),
                )
                for p in data["postings"]
            ),
            invoice_id=data.get("invoice_id"),
            payment_id=data.get("payment_id"),
            charge_id=data.get("charge_id"),
        )


def _posting_data(posting: Posting) -> dict[str, str]:
    data = {
        "account": posting.account.value,
        "debit": str(posting.debit),
        "credit": str(posting.credit),
    }
    return data | ({"dimension": posting.dimension} if posting.dimension else {})


def tax_group(code: str, rate: Decimal) -> str:
    """The dimension of a tax group: its UNCL 5305 code and rate, e.g. ``S:19``, ``Z:0``."""
    return f"{code}:{format(rate.normalize(), 'f')}"


def entry_id(kind: str, source_id: str) -> str:
    """The id of the one entry a fact may post: a retry of the same write collides with it."""
    return f"{kind}:{source_id}"


# --- builders -----------------------------------------------------------------------------------


def for_invoice(inv: Invoice) -> JournalEntry:
    """DR receivables the total; CR revenue the net total, tax payable the tax."""
    if inv.kind is not DocumentKind.INVOICE:
        raise ValueError(f"{inv.invoice_id} is not an invoice")
    return _entry(
        "invoice",
        inv.invoice_id,
        _debit(Account.RECEIVABLES, inv.total),
        *_per_tax_group(inv, _credit),
        customer_id=inv.customer_id,
        currency=inv.currency,
        posted_at=inv.issued_at,
        memo=f"Invoice {inv.number}",
        invoice_id=inv.invoice_id,
    )


def for_credit_note(note: Invoice, open_before: Decimal) -> JournalEntry:
    """DR revenue and tax payable; CR receivables what the invoice had open, the rest is owed.

    ``open_before`` is the credited invoice's amount due before the note: a note beyond it
    (the invoice was partly or fully paid) leaves a credit owed to the customer, held as
    unapplied cash until it is applied elsewhere or refunded.
    """
    if note.kind is not DocumentKind.CREDIT_NOTE:
        raise ValueError(f"{note.invoice_id} is not a credit note")
    against_receivable = min(note.total, max(open_before, ZERO))
    return _entry(
        "credit_note",
        note.invoice_id,
        *_per_tax_group(note, _debit),
        _credit(Account.RECEIVABLES, against_receivable),
        _credit(Account.UNAPPLIED_CASH, note.total - against_receivable),
        customer_id=note.customer_id,
        currency=note.currency,
        posted_at=note.issued_at,
        memo=f"Credit note {note.number} for invoice {note.credited_invoice_number}",
        invoice_id=note.credited_invoice_id,
    )


def for_payment(
    customer_id: str,
    currency: str,
    amount: Decimal,
    payment_id: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
) -> JournalEntry:
    """Money received: DR cash (``cash_account``: where it arrived, see
    payment.cash_dimension); CR unapplied cash until it is applied to invoices."""
    return _entry(
        "payment",
        payment_id,
        _debit(Account.CASH, amount, cash_account),
        _credit(Account.UNAPPLIED_CASH, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"Payment {payment_id} received",
        payment_id=payment_id,
    )


def for_allocation(  # noqa: PLR0917 (the positional order is the callers' contract)
    customer_id: str,
    currency: str,
    invoice_id: str,
    amount: Decimal,
    discount: Decimal,
    allocation_id: str,
    posted_at: datetime,
    *,
    payment_id: str | None = None,
    charge_id: str | None = None,
) -> JournalEntry:
    """Cash applied to an invoice (or to ``charge_id``, a fee or interest charged on it): DR
    unapplied cash and discounts allowed; CR receivables."""
    return _entry(
        "allocation",
        allocation_id,
        _debit(Account.UNAPPLIED_CASH, amount),
        _debit(Account.DISCOUNTS_ALLOWED, discount),
        _credit(Account.RECEIVABLES, amount + discount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"Applied to charge {charge_id}" if charge_id else f"Applied to invoice {invoice_id}",
        invoice_id=invoice_id,
        payment_id=payment_id,
        charge_id=charge_id,
    )


def for_unapplication(  # noqa: PLR0917 (mirrors for_allocation)
    customer_id: str,
    currency: str,
    invoice_id: str,
    amount: Decimal,
    discount: Decimal,
    allocation_id: str,
    posted_at: datetime,
    *,
    payment_id: str | None = None,
    charge_id: str | None = None,
) -> JournalEntry:
    """An allocation taken back (the reverse of ``for_allocation``, one per allocation)."""
    return _entry(
        "unapplication",
        allocation_id,
        _debit(Account.RECEIVABLES, amount + discount),
        _credit(Account.UNAPPLIED_CASH, amount),
        _credit(Account.DISCOUNTS_ALLOWED, discount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"Unapplied from charge {charge_id}"
        if charge_id
        else f"Unapplied from invoice {invoice_id}",
        invoice_id=invoice_id,
        payment_id=payment_id,
        charge_id=charge_id,
    )


def for_refund(
    customer_id: str,
    currency: str,
    amount: Decimal,
    refund_id: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
    payment_id: str | None = None,
) -> JournalEntry:
    """Money paid back to the customer: DR unapplied cash; CR cash (``cash_account``: where
    the refunded payment arrived)."""
    return _cash_out(
        "refund",
        refund_id,
        customer_id,
        currency,
        amount,
        posted_at,
        memo=f"Refund {refund_id}",
        cash_account=cash_account,
        payment_id=payment_id,
    )


def for_transfer(  # noqa: PLR0917 (from and to read in this order)
    payment_id: str,
    currency: str,
    amount: Decimal,
    from_customer: str,
    to_customer: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
) -> tuple[JournalEntry, JournalEntry]:
    """Money received moves from one sub-ledger to another (out of the suspense ledger of
    unidentified payers, to the customer cash application identified).

    Two entries, each balanced in its own ledger: the cash and the money held leave the one
    (DR unapplied cash; CR cash) and arrive in the other (DR cash; CR unapplied cash), both on
    ``cash_account``, where the payment arrived.
    """
    leaving = _entry(
        "transfer",
        f"{payment_id}:out",
        _debit(Account.UNAPPLIED_CASH, amount),
        _credit(Account.CASH, amount, cash_account),
        customer_id=from_customer,
        currency=currency,
        posted_at=posted_at,
        memo=f"Payment {payment_id} identified as {to_customer}'s",
        payment_id=payment_id,
    )
    arriving = _entry(
        "transfer",
        f"{payment_id}:in",
        _debit(Account.CASH, amount, cash_account),
        _credit(Account.UNAPPLIED_CASH, amount),
        customer_id=to_customer,
        currency=currency,
        posted_at=posted_at,
        memo=f"Payment {payment_id} moved from {from_customer}",
        payment_id=payment_id,
    )
    return leaving, arriving


def for_fee(
    customer_id: str,
    currency: str,
    amount: Decimal,
    source_id: str,
    posted_at: datetime,
    *,
    invoice_id: str | None = None,
) -> JournalEntry:
    """A fee charged to the customer (e.g. a reminder fee): DR receivables; CR fee income."""
    return _charge(
        "fee", Account.FEE_INCOME, customer_id, currency, amount, source_id, posted_at, invoice_id
    )


def for_interest(
    customer_id: str,
    currency: str,
    amount: Decimal,
    source_id: str,
    posted_at: datetime,
    *,
    invoice_id: str | None = None,
) -> JournalEntry:
    """Late-payment interest charged on an overdue invoice: DR receivables; CR interest income."""
    return _charge(
        "interest",
        Account.INTEREST_INCOME,
        customer_id,
        currency,
        amount,
        source_id,
        posted_at,
        invoice_id,
    )


def _charge(  # noqa: PLR0917 (the builders above pass their arguments straight through)
    kind: str,
    income: Account,
    customer_id: str,
    currency: str,
    amount: Decimal,
    source_id: str,
    posted_at: datetime,
    invoice_id: str | None,
) -> JournalEntry:
    """A charge to the customer beyond its invoices: DR receivables; CR ``income``."""
    return _entry(
        kind,
        source_id,
        _debit(Account.RECEIVABLES, amount),
        _credit(income, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"{kind.capitalize()} {source_id}",
        invoice_id=invoice_id,
    )


def for_bank_reversal(
    customer_id: str,
    currency: str,
    amount: Decimal,
    payment_id: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
) -> JournalEntry:
    """The bank took a payment back (a reversal or return): DR unapplied cash; CR cash
    (``cash_account``: the bank account it had arrived on).

    One per payment (a reversal undoes the whole credit), named by the payment.
    """
    return _cash_out(
        "bank_reversal",
        payment_id,
        customer_id,
        currency,
        amount,
        posted_at,
        memo=f"Payment {payment_id} reversed by the bank",
        cash_account=cash_account,
        payment_id=payment_id,
    )


def for_write_off(
    customer_id: str, currency: str, invoice_id: str, written_off: WriteOff
) -> JournalEntry:
    """A receivable written off: CR receivables; DR small differences (a short payment within
    the tolerance) or bad-debt expense, less the VAT share under bad-debt relief (DR tax
    payable)."""
    if written_off.kind is WriteOffKind.SMALL_DIFFERENCE:
        expense = [_debit(Account.SMALL_DIFFERENCES, written_off.amount)]
    else:
        expense = [
            _debit(Account.TAX_PAYABLE, written_off.vat),
            _debit(Account.BAD_DEBT_EXPENSE, written_off.amount - written_off.vat),
        ]
    return _entry(
        "write_off",
        written_off.write_off_id,
        *expense,
        _credit(Account.RECEIVABLES, written_off.amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=written_off.written_off_at,
        memo=f"Written off ({written_off.kind.value.replace('_', ' ')}) on invoice {invoice_id}: "
        f"{written_off.reason}",
        invoice_id=invoice_id,
    )


def for_write_off_reversal(
    customer_id: str, currency: str, invoice_id: str, reversed_: WriteOff
) -> JournalEntry:
    """The mirror of ``for_write_off``: the receivable is owed again."""
    if reversed_.reversed_at is None:
        raise ValueError(f"write-off {reversed_.write_off_id} is not reversed")
    original = for_write_off(customer_id, currency, invoice_id, reversed_)
    return _entry(
        "write_off_reversal",
        reversed_.write_off_id,
        *(
            Posting(account=posting.account, debit=posting.credit, credit=posting.debit)
            for posting in original.postings
        ),
        customer_id=customer_id,
        currency=currency,
        posted_at=reversed_.reversed_at,
        memo=f"Write-off {reversed_.write_off_id} on invoice {invoice_id} reversed",
        invoice_id=invoice_id,
    )


def for_part_taken_back(  # noqa: PLR0917 (mirrors for_unapplication)
    customer_id: str,
    currency: str,
    invoice_id: str,
    amount: Decimal,
    allocation_id: str,
    reference: str,
    posted_at: datetime,
    *,
    charge_id: str | None = None,
) -> JournalEntry:
    """Part of an allocation's cash taken back (a partial refund or chargeback), the rest
    staying applied: DR receivables; CR unapplied cash. One entry per allocation and
    ``reference`` (the refund or dispute that took it)."""
    return _entry(
        "unapplication",
        f"{allocation_id}:{reference}",
        _debit(Account.RECEIVABLES, amount),
        _credit(Account.UNAPPLIED_CASH, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"{amount} unapplied for {reference} from "
        + (f"charge {charge_id}" if charge_id else f"invoice {invoice_id}"),
        invoice_id=invoice_id,
        charge_id=charge_id,
    )


def for_chargeback(
    customer_id: str,
    currency: str,
    amount: Decimal,
    source_id: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
    payment_id: str | None = None,
) -> JournalEntry:
    """The gateway withdrew money for a dispute: DR unapplied cash; CR cash (``cash_account``:
    where the payment arrived)."""
    return _cash_out(
        "chargeback",
        source_id,
        customer_id,
        currency,
        amount,
        posted_at,
        memo=f"Chargeback {source_id}",
        cash_account=cash_account,
        payment_id=payment_id,
    )


def for_chargeback_reversal(
    customer_id: str,
    currency: str,
    amount: Decimal,
    source_id: str,
    posted_at: datetime,
    *,
    cash_account: str | None = None,
    payment_id: str | None = None,
) -> JournalEntry:
    """A won dispute's money came back (the reverse of ``for_chargeback``): DR cash; CR
    unapplied cash."""
    return _entry(
        "chargeback_reversal",
        source_id,
        _debit(Account.CASH, amount, cash_account),
        _credit(Account.UNAPPLIED_CASH, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"Chargeback {source_id} reinstated",
        payment_id=payment_id,
    )


def for_opening_balance(  # noqa: PLR0917 (the migrated invoice's figures, in their order)
    customer_id: str,
    currency: str,
    invoice_id: str,
    number: str,
    amount: Decimal,
    issued_on: date,
) -> JournalEntry:
    """A receivable migrated from the legacy system: DR receivables what was still open on it;
    CR opening balance equity. Dated its issue date (the start of that UTC day), so the books
    see it open from then on, as the old system did."""
    return _entry(
        "opening_balance",
        invoice_id,
        _debit(Account.RECEIVABLES, amount),
        _credit(Account.OPENING_BALANCE_EQUITY, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=datetime.combine(issued_on, time.min, UTC),
        memo=f"Opening balance of legacy invoice {number}",
        invoice_id=invoice_id,
    )


def for_credit_application(  # noqa: PLR0917 (mirrors for_allocation)
    customer_id: str,
    currency: str,
    invoice_id: str,
    amount: Decimal,
    application_id: str,
    posted_at: datetime,
    credit_note_number: str,
    *,
    charge_id: str | None = None,
) -> JournalEntry:
    """A credit note's credit applied to another invoice (or to ``charge_id``, a fee or
    interest charged on it): DR unapplied cash; CR receivables."""
    return _entry(
        "credit_application",
        application_id,
        _debit(Account.UNAPPLIED_CASH, amount),
        _credit(Account.RECEIVABLES, amount),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=f"Credit of credit note {credit_note_number} applied to "
        + (f"charge {charge_id}" if charge_id else f"invoice {invoice_id}"),
        invoice_id=invoice_id,
        charge_id=charge_id,
    )


# --- balances -----------------------------------------------------------------------------------


def balances(entries: Iterable[JournalEntry]) -> dict[Account, Decimal]:
    """Every account's balance, debit-positive (a liability's credit balance is negative)."""
    totals = dict.fromkeys(Account, ZERO)
    for entry in entries:
        for posting in entry.postings:
            totals[posting.account] += posting.amount
    return totals


def customer_balance(entries: Iterable[JournalEntry]) -> Decimal:
    """What the customer owes net of money held for them: receivables less unapplied cash.

    Pass one customer's entries: the unapplied cash account's credit balance is what we hold.
    """
    totals = balances(entries)
    return totals[Account.RECEIVABLES] + totals[Account.UNAPPLIED_CASH]


def _debit(account: Account, amount: Decimal, dimension: str | None = None) -> Posting | None:
    return Posting(account=account, debit=amount, dimension=dimension) if amount else None


def _credit(account: Account, amount: Decimal, dimension: str | None = None) -> Posting | None:
    return Posting(account=account, credit=amount, dimension=dimension) if amount else None


def _cash_out(  # noqa: PLR0917 (the builders above pass their arguments straight through)
    kind: str,
    source_id: str,
    customer_id: str,
    currency: str,
    amount: Decimal,
    posted_at: datetime,
    *,
    memo: str,
    cash_account: str | None,
    payment_id: str | None,
) -> JournalEntry:
    """Money leaving the seller for the customer (a refund, a chargeback, a bank reversal): DR
    unapplied cash; CR cash on ``cash_account``, where the payment had arrived."""
    return _entry(
        kind,
        source_id,
        _debit(Account.UNAPPLIED_CASH, amount),
        _credit(Account.CASH, amount, cash_account),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        memo=memo,
        payment_id=payment_id,
    )


def _entry(
    kind: str,
    source_id: str,
    *postings: Posting | None,
    customer_id: str,
    currency: str,
    posted_at: datetime,
    memo: str,
    invoice_id: str | None = None,
    payment_id: str | None = None,
    charge_id: str | None = None,
) -> JournalEntry:
    """An entry of the non-zero ``postings`` (a zero amount posts nothing)."""
    return JournalEntry(
        entry_id=entry_id(kind, source_id),
        customer_id=customer_id,
        currency=currency,
        posted_at=posted_at,
        kind=kind,
        source_id=source_id,
        memo=memo,
        postings=tuple(posting for posting in postings if posting is not None),
        invoice_id=invoice_id,
        payment_id=payment_id,
        charge_id=charge_id,
    )


def _per_tax_group(document: Invoice, side: Any) -> list[Posting | None]:
    """Revenue and VAT of ``document`` on ``side`` (``_debit`` or ``_credit``), one posting per
    tax group, revenue first; a document whose groups do not add up to its totals posts the
    totals undivided (the totals are what the entry must move)."""
    groups = document.taxes
    if (
        not groups
        or sum((group.taxable_amount for group in groups), ZERO) != document.net_total
        or sum((group.tax_amount for group in groups), ZERO) != document.tax_total
    ):
        return [
            side(Account.REVENUE, document.net_total),
            side(Account.TAX_PAYABLE, document.tax_total),
        ]
    named = [(tax_group(group.tax_code, group.tax_rate), group) for group in groups]
    return [side(Account.REVENUE, group.taxable_amount, name) for name, group in named] + [
        side(Account.TAX_PAYABLE, group.tax_amount, name) for name, group in named
    ]
