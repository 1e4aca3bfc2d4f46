"""Cash application: which open invoices a payment settles, how sure that is, and why.

``decide`` is a pure function of the payment, the open invoices and the payer aliases clerks
have confirmed before. It returns a ``Decision`` that proposes allocations, scores them, and
carries the evidence in sentences a clerk can check. Only a decision at or above the threshold
is applied without a clerk (``auto``); everything else goes to the worklist with its best
candidates. A wrong allocation costs far more than a worklist item (cash applied to the wrong
customer means wrong reminders, a wrong statement and a manual reversal), so every rule below
prefers to stop and ask.

The rules, in order:

1. **References.** Invoice numbers and RF references in the gateway metadata or the remittance
   text (see ``remittance``) that name open invoices in the payment's currency. The payment is
   allocated to them oldest due first, each up to its amount due. The payment settling exactly
   their amounts due (or their discounted amounts, when paid within the discount period) is
   the strongest case; a partial payment of one named invoice or an overpayment (the rest stays
   unapplied) is still applied. Left for a clerk: references to two customers, a payer known
   to be someone else, a part payment of several named invoices (which one stays open is the
   payer's choice), and an amount that does not fit the named invoices when it settles another
   invoice exactly or comes from a payer whose name is not the billed one. A reference to an
   invoice that is not open, or that is billed in another currency, is no evidence. The
   metadata's ``customer_id`` and ``invoice_ids`` (the portal's checkout) are identifiers, not
   text a payer wrote, and are not read for references.
2. **Customer and amount.** With no usable reference: the customer known from the channel, the
   gateway metadata, a learned alias of the payer, or (weaker) the payer's name as billed. The
   amount must settle exactly one of its open invoices, or exactly one combination of 2 to 4 of
   them, discounts honoured in time. Two ways to fit the amount are ambiguous: nothing is
   proposed and the ways are listed.
3. **Amount alone.** With neither a reference nor a customer, an amount that settles exactly
   one open invoice among all of them is a suggestion, never applied automatically.
4. Otherwise nothing matches, and the evidence says what was looked for.

Fees and interest (``with_charges``): an automatic decision that settles the invoices it names
and leaves over exactly what those invoices' open charges come to (the reminder's total was
paid) applies the rest to those charges, oldest first, instead of leaving it unapplied.

Confidence is the strength of the weakest signal a decision rests on (how a reference was read,
how the customer was known) times how well the amount fits, raised when the payer is known to
be the customer the references name, lowered by each doubt; the constants below are the policy.

Allocations never exceed an invoice's amount due (cash plus discount), never exceed the
payment, and never cross currencies; the order of allocations is deterministic, so the same
facts always give the same decision.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import ConfigDict, Field, field_validator

from shared.domain import remittance, write_off
from shared.domain.money import minor_units, quantize
from shared.domain.remittance import Found, Reference
from shared.model import Model

if TYPE_CHECKING:
    from shared.domain.invoice import Invoice

DEFAULT_THRESHOLD = Decimal("0.9")
MAX_COMBINATION = 4  # invoices one payment may settle without naming them
MAX_SEARCHED = 40  # oldest-due open invoices of a customer searched for combinations
MAX_CANDIDATES = 5

EvidenceKind = Literal["reference", "metadata", "payer", "amount", "discount"]
Basis = Literal["reference", "customer_amount", "amount_only", "none"]

# How much each signal is worth on its own (the confidence of a decision resting on it).
REFERENCE_STRENGTH = {
    "metadata": Decimal("0.99"),
    "creditor_reference": Decimal("0.99"),
    Found.EXACT: Decimal("0.98"),
    Found.NORMALISED: Decimal("0.98"),
    Found.OCR_CORRECTED: Decimal("0.95"),
}
CUSTOMER_STRENGTH = {
    "channel": Decimal("1.00"),
    "metadata": Decimal("1.00"),
    "account_alias": Decimal("0.98"),  # an account a clerk confirmed before
    "name_alias": Decimal("0.97"),  # a payer name a clerk confirmed before
    "billed_name": Decimal("0.96"),  # as billed, and billed to this customer only
}
FIT_STRENGTH = {
    "exact": Decimal("1.00"),  # the amounts due, or the discounted amounts in time
    "over": Decimal("0.95"),  # more than all named invoices: the rest stays unapplied
    "partial": Decimal("0.95"),  # part of the one named invoice
    "partial_of_many": Decimal("0.88"),  # part of several: which one stays open is a guess
    "single": Decimal("0.97"),  # (no reference) the amount settles one invoice of the customer
    "combination": Decimal("0.94"),  # (no reference) ... one combination of its invoices
}
CORROBORATED = Decimal("0.04")  # the payer is known to be the customer the references name
NAME_AGREES = Decimal("0.03")  # the payer's name is the customer's billed name
NAME_DIFFERS = Decimal("0.90")  # factor: a payer of another name paying a wrong amount
AMOUNT_FITS_ELSEWHERE = Decimal("0.85")  # factor: the amount settles an invoice not named
UNUSABLE_REFERENCE = Decimal("0.98")  # factor: the text named something that is not open
CONFLICT = Decimal("0.40")
AMBIGUOUS = Decimal("0.50")
SUGGESTION = Decimal("0.60")  # amount alone: always below any sensible threshold
NO_FIT = Decimal("0.30")
NOTHING = Decimal(0)


class OpenInvoice(Model):
    """An invoice with something still due: what matching needs to know of it."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    customer_id: str
    currency: str
    amount_due: Decimal = Field(ge=0)
    payment_reference: str = ""
    issued_on: date
    due_on: date
    discount_until: date | None = None
    discount_amount: Decimal = Field(default=Decimal(0), ge=0)
    customer_name: str | None = None  # the buyer as billed: corroborates a payer's name

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        minor_units(code)
        return code

    @classmethod
    def from_invoice(cls, invoice: Invoice) -> OpenInvoice:
        """The open receivable of an issued invoice (a discount already taken is not offered)."""
        discount = Decimal(0) if invoice.amount_discounted else invoice.discount_amount
        return cls(
            invoice_id=invoice.invoice_id,
            number=invoice.number,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            amount_due=invoice.amount_due,
            payment_reference=invoice.payment_reference,
            issued_on=invoice.issued_on,
            due_on=invoice.due_on or invoice.issued_on,
            discount_until=invoice.discount_until if discount else None,
            discount_amount=discount,
            customer_name=invoice.buyer.name,
        )

    def discount_on(self, day: date) -> Decimal:
        """The early-payment discount a payment received on ``day`` may take (0 when late)."""
        in_time = self.discount_until is not None and day <= self.discount_until
        if in_time and Decimal(0) < self.discount_amount < self.amount_due:
            return self.discount_amount
        return Decimal(0)


class PaymentFacts(Model):
    """What is known of a received payment, whatever channel brought it."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(gt=0)
    currency: str
    received_on: date
    payer_name: str | None = None
    payer_account: str | None = None  # IBAN or account number as the bank reports it
    remittance: str = ""  # unstructured remittance, card descriptor, cheque memo
    metadata: dict[str, str] = {}  # gateway metadata, e.g. {"invoice_number": ..., ...}
    customer_id: str | None = None  # known from the channel (e.g. a gateway customer mapping)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        minor_units(code)
        return code


class Proposal(Model):
    """Cash applied to one invoice, and the early-payment discount granted with it; or to a
    fee or interest charge on one (``charge_id``: then ``invoice_id`` is the charge's id too
    and ``number`` the number of the invoice it was charged on)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    amount: Decimal
    discount: Decimal = Decimal(0)
    written_off: Decimal = Decimal(0)  # a shortfall within the tolerance, closing the invoice
    charge_id: str | None = None


class OpenCharge(Model):
    """A fee or interest charge with something due, as ``with_charges`` needs it."""

    model_config = ConfigDict(frozen=True)

    charge_id: str
    invoice_id: str | None  # the invoice it was charged on
    amount_due: Decimal = Field(gt=0)
    charged_on: date


class Evidence(Model):
    model_config = ConfigDict(frozen=True)

    kind: EvidenceKind
    detail: str  # one sentence a clerk can check


class Candidate(Model):
    """A guess for the worklist: allocations for one customer, and why they are a guess."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    allocations: tuple[Proposal, ...]
    reason: str


class Decision(Model):
    """What to do with a payment. Apply ``allocations`` only when ``auto`` (or a clerk says so)."""

    model_config = ConfigDict(frozen=True)

    basis: Basis  # the rule that decided
    customer_id: str | None
    allocations: tuple[Proposal, ...]
    confidence: Decimal  # 0..1
    auto: bool
    evidence: tuple[Evidence, ...]
    explanation: str
    unapplied: Decimal  # stays on account: an overpayment, or all of it when nothing matches
    candidates: tuple[Candidate, ...] = ()  # best guesses, best first, for the worklist
    payer_keys: tuple[str, ...] = ()  # what a clerk's confirmation teaches as an alias


def decide(
    payment: PaymentFacts,
    invoices: Sequence[OpenInvoice],
    aliases: Mapping[str, str],
    *,
    threshold: Decimal = DEFAULT_THRESHOLD,
) -> Decision:
    """Match ``payment`` to ``invoices`` (those open); ``aliases`` maps payer keys to customers."""
    book = _Book(payment, invoices)
    payer = _identify(payment, aliases, book)
    named, evidence = _named(payment, book)
    if named:
        outcome = _by_reference(payment, book, payer, named, evidence)
    elif payer.customers:
        outcome = _by_customer(payment, book, payer, evidence)
    else:
        outcome = _by_amount(payment, book, evidence)
    return _decision(payment, outcome, payer, threshold)


# --- the open items ----------------------------------------------------------------------------


class _Book:
    """The open invoices indexed for one payment: by number, reference, customer and name."""

    def __init__(self, payment: PaymentFacts, invoices: Sequence[OpenInvoice]) -> None:
        self.on = payment.received_on
        self.currency = payment.currency
        self.by_number: dict[str, OpenInvoice] = {}
        self.by_reference: dict[str, OpenInvoice] = {}
        self.open: list[OpenInvoice] = []  # in the payment's currency, oldest due first
        self.of_customer: dict[str, list[OpenInvoice]] = defaultdict(list)
        self.invoices = invoices
        prefixes = set()
        read_as: dict[str, OpenInvoice] = {}  # numbers as the remittance reader writes them
        for invoice in sorted((i for i in invoices if i.amount_due > 0), key=_allocation_order):
            self.by_number[invoice.number.upper()] = invoice
            if canonical := _canonical_number(invoice.number):
                read_as.setdefault(canonical, invoice)
            if invoice.payment_reference:
                self.by_reference[invoice.payment_reference.replace(" ", "").upper()] = invoice
            prefixes.add(invoice.number.split("-", 1)[0].upper())
            if invoice.currency == payment.currency:
                self.open.append(invoice)
                self.of_customer[invoice.customer_id].append(invoice)
        self.prefixes = tuple(sorted(prefixes)) or remittance.DEFAULT_PREFIXES
        self.by_number = {**read_as, **self.by_number}  # a number as written wins

    def billed_as(self, name: str) -> list[str]:
        """The customers whose invoices bill ``name`` (normalised, see ``remittance``)."""
        wanted = remittance.normalise_name(name)
        return sorted(
            {
                invoice.customer_id
                for invoice in self.invoices
                if invoice.customer_name
                and remittance.normalise_name(invoice.customer_name) == wanted
            }
        )

    def money(self, amount: Decimal) -> str:
        return f"{quantize(amount, self.currency):,} {self.currency}"

    def settling(self, invoice: OpenInvoice) -> list[tuple[Decimal, Decimal]]:
        """The (cash, discount) pairs that settle ``invoice`` on the payment's day."""
        discount = invoice.discount_on(self.on)
        full = (invoice.amount_due, Decimal(0))
        return [full, (invoice.amount_due - discount, discount)] if discount else [full]


_CANONICAL_NUMBER = re.compile(r"[A-Z]+-\d{4}-\d{6}")


def _canonical_number(number: str) -> str | None:
    """A number of another width (a legacy invoice's "INV-2024-0001") as the remittance reader
    canonicalises it when a payer quotes it ("INV-2024-000001"); None when it reads as itself
    or not at all."""
    if _CANONICAL_NUMBER.fullmatch(number.upper()):
        return None
    prefix = number.split("-", 1)[0]
    found = [ref.value for ref in remittance.extract(number, (prefix,)) if ref.kind == "number"]
    return found[0] if len(found) == 1 and found[0] != number.upper() else None


def _allocation_order(invoice: OpenInvoice) -> tuple[date, date, str, str]:
    return invoice.due_on, invoice.issued_on, invoice.number, invoice.invoice_id


# --- who pays ----------------------------------------------------------------------------------


@dataclass
class _Payer:
    keys: tuple[str, ...]
    customers: dict[str, Decimal]  # customer id -> strength of the best source naming it
    evidence: list[Evidence]

    @property
    def customer(self) -> str | None:
        return next(iter(self.customers)) if len(self.customers) == 1 else None

    def strength(self) -> Decimal:
        return max(self.customers.values(), default=NOTHING)


def _identify(payment: PaymentFacts, aliases: Mapping[str, str], book: _Book) -> _Payer:
    payer = _Payer(tuple(remittance.payer_key(payment.payer_name, payment.payer_account)), {}, [])

    def found(customer_id: str, source: str, detail: str) -> None:
        strength = CUSTOMER_STRENGTH[source]
        payer.customers[customer_id] = max(strength, payer.customers.get(customer_id, NOTHING))
        payer.evidence.append(Evidence(kind="payer", detail=detail))

    if payment.customer_id:
        found(
            payment.customer_id, "channel", f"the channel maps the payer to {payment.customer_id}"
        )
    metadata_customer = payment.metadata.get("customer_id")
    if metadata_customer:
        found(metadata_customer, "metadata", f"gateway metadata names {metadata_customer}")
    for key in payer.keys:
        if key in aliases:
            kind, _, value = key.partition(":")
            source = "account_alias" if kind == "account" else "name_alias"
            found(
                aliases[key], source, f"payer {kind} '{value}' is a known alias of {aliases[key]}"
            )
    if not payer.customers and payment.payer_name:
        billed = book.billed_as(payment.payer_name)
        if len(billed) == 1:
            found(
                billed[0],
                "billed_name",
                f"payer name '{payment.payer_name}' is as billed to {billed[0]}",
            )
        elif billed:
            payer.evidence.append(
                Evidence(
                    kind="payer",
                    detail=f"payer name '{payment.payer_name}' is billed to {len(billed)} "
                    f"customers ({', '.join(billed)}): it identifies none",
                )
            )
    if len(payer.customers) > 1:
        payer.evidence.append(
            Evidence(
                kind="payer",
                detail="the payer's identities disagree: " + ", ".join(sorted(payer.customers)),
            )
        )
    return payer


# --- rule 1: references ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Named:
    invoice: OpenInvoice
    strength: Decimal


def _named(payment: PaymentFacts, book: _Book) -> tuple[list[_Named], list[Evidence]]:
    """The open invoices in the payment's currency that metadata or remittance name."""
    named: dict[str, _Named] = {}
    evidence: list[Evidence] = []
    sources: list[tuple[str, Reference]] = []
    for key, value in sorted(payment.metadata.items()):
        if key in ("customer_id", "invoice_ids"):  # ids, not references a payer wrote
            continue
        sources += [("metadata", ref) for ref in remittance.extract(value, book.prefixes)]
    sources += [
        ("remittance", ref) for ref in remittance.extract(payment.remittance, book.prefixes)
    ]
    for source, reference in sources:
        invoice = (
            book.by_reference.get(reference.value)
            if reference.kind == "creditor_reference"
            else book.by_number.get(reference.value)
        )
        said = f"{'gateway metadata' if source == 'metadata' else 'remittance'} names " + (
            reference.describe()
        )
        kind: EvidenceKind = "metadata" if source == "metadata" else "reference"
        if invoice is None:
            evidence.append(Evidence(kind=kind, detail=f"{said}, which is not an open invoice"))
            continue
        if invoice.currency != book.currency:
            evidence.append(
                Evidence(
                    kind=kind,
                    detail=f"{said}, billed in {invoice.currency} where the payment is in "
                    f"{book.currency}: not used",
                )
            )
            continue
        if reference.kind == "creditor_reference" and source != "metadata":
            said += f" (the payment reference of {invoice.number}, check digits valid)"
            strength = REFERENCE_STRENGTH["creditor_reference"]
        else:
            strength = REFERENCE_STRENGTH["metadata" if source == "metadata" else reference.found]
        evidence.append(
            Evidence(kind=kind, detail=f"{said}, open for {book.money(invoice.amount_due)}")
        )
        kept = named.get(invoice.invoice_id)
        if kept is None or strength > kept.strength:
            named[invoice.invoice_id] = _Named(invoice, strength)
    return sorted(named.values(), key=lambda n: _allocation_order(n.invoice)), evidence


@dataclass
class _Outcome:
    basis: Basis
    customer_id: str | None
    allocations: list[Proposal]
    confidence: Decimal
    evidence: list[Evidence]
    candidates: list[Candidate]


def _by_reference(
    payment: PaymentFacts,
    book: _Book,
    payer: _Payer,
    named: list[_Named],
    evidence: list[Evidence],
) -> _Outcome:
    invoices = [n.invoice for n in named]
    customers = sorted({invoice.customer_id for invoice in invoices})
    as_named = [
        Candidate(
            customer_id=customer,
            allocations=tuple(_full(i) for i in invoices if i.customer_id == customer),
            reason="named in the remittance",
        )
        for customer in customers
    ]
    if len(customers) > 1:
        evidence.append(
            Evidence(
                kind="reference",
                detail=f"the references name invoices of {len(customers)} customers "
                f"({', '.join(customers)}): a clerk decides",
            )
        )
        return _Outcome("reference", None, [], CONFLICT, evidence, as_named)
    customer = customers[0]
    strongest = sorted(c for c, s in payer.customers.items() if s == payer.strength())
    if strongest and strongest != [customer]:
        others = [c for c in strongest if c != customer]
        evidence.append(
            Evidence(
                kind="payer",
                detail=f"the payer is known as {', '.join(others)}, but the named invoices "
                f"belong to {customer}: a clerk decides",
            )
        )
        guesses = as_named + _customer_guesses(payment, book, others)
        return _Outcome("reference", customer, [], CONFLICT, evidence, guesses)

    allocations, fit = _allocate_named(payment, book, invoices, evidence)
    confidence = min(n.strength for n in named) * FIT_STRENGTH[fit]
    corroborated = bool(strongest)  # the payer's strongest identity is this customer
    if corroborated:
        confidence = min(Decimal("0.99"), confidence + CORROBORATED)
        evidence.append(
            Evidence(kind="payer", detail=f"the payer is {customer}, whose invoices are named")
        )
    else:
        confidence = _weigh_name(payment, invoices, fit, confidence, evidence)
    if fit != "exact":
        # a payer known to be the customer may pay another customer's amount by coincidence
        scope = book.of_customer[customer] if corroborated else book.open
        elsewhere = _fits_elsewhere(payment, book, invoices, scope)
        if elsewhere:
            confidence *= AMOUNT_FITS_ELSEWHERE
            evidence.append(
                Evidence(
                    kind="amount",
                    detail=f"the amount settles {elsewhere.number} ({elsewhere.customer_id}) "
                    "exactly, which the remittance does not name",
                )
            )
            as_named.append(
                Candidate(
                    customer_id=elsewhere.customer_id,
                    allocations=(_full(elsewhere),),
                    reason="its amount due is the amount paid",
                )
            )
    return _Outcome("reference", customer, allocations, confidence, evidence, as_named)


def _allocate_named(
    payment: PaymentFacts, book: _Book, invoices: list[OpenInvoice], evidence: list[Evidence]
) -> tuple[list[Proposal], str]:
    """Allocate to the named invoices, oldest due first, and say how the amount fits them."""
    due = sum((invoice.amount_due for invoice in invoices), Decimal(0))
    discounts = {invoice.invoice_id: invoice.discount_on(book.on) for invoice in invoices}
    discounted = due - sum(discounts.values(), Decimal(0))
    names = _numbers(invoices)
    if payment.amount == due:
        evidence.append(
            Evidence(kind="amount", detail=f"{book.money(payment.amount)} settles {names} in full")
        )
        return [_full(invoice) for invoice in invoices], "exact"
    if discounted < due and payment.amount == discounted:
        allocations = []
        for invoice in invoices:
            discount = discounts[invoice.invoice_id]
            allocations.append(
                Proposal(
                    invoice_id=invoice.invoice_id,
                    number=invoice.number,
                    amount=invoice.amount_due - discount,
                    discount=discount,
                )
            )
            if discount:
                evidence.append(
                    Evidence(
                        kind="discount",
                        detail=f"received on {book.on}, within the discount period of "
                        f"{invoice.number} (until {invoice.discount_until}): "
                        f"{book.money(discount)} discount granted",
                    )
                )
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"{book.money(payment.amount)} settles {names} less the discount",
            )
        )
        return allocations, "exact"
    if payment.amount > due:
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"{book.money(payment.amount)} exceeds the {book.money(due)} due on "
                f"{names}: {book.money(payment.amount - due)} stays unapplied on account",
            )
        )
        return [_full(invoice) for invoice in invoices], "over"
    _explain_late_discount(payment, book, invoices, due, evidence)
    allocations = []
    left = payment.amount
    for invoice in invoices:
        if left <= 0:
            break
        amount = min(left, invoice.amount_due)
        allocations.append(
            Proposal(invoice_id=invoice.invoice_id, number=invoice.number, amount=amount)
        )
        left -= amount
    evidence.append(
        Evidence(
            kind="amount",
            detail=f"{book.money(payment.amount)} is less than the {book.money(due)} due on "
            f"{names}: a partial payment"
            + (", applied oldest due first" if len(invoices) > 1 else ""),
        )
    )
    return allocations, "partial" if len(invoices) == 1 else "partial_of_many"


def _explain_late_discount(
    payment: PaymentFacts,
    book: _Book,
    invoices: list[OpenInvoice],
    due: Decimal,
    evidence: list[Evidence],
) -> None:
    """Say so when the shortfall is a discount whose period has ended."""
    expired = [
        invoice
        for invoice in invoices
        if invoice.discount_until is not None
        and invoice.discount_amount > 0
        and not invoice.discount_on(book.on)
    ]
    offered = sum((invoice.discount_amount for invoice in expired), Decimal(0))
    if expired and payment.amount == due - offered:
        until = max(invoice.discount_until for invoice in expired if invoice.discount_until)
        evidence.append(
            Evidence(
                kind="discount",
                detail=f"the payer deducted the {book.money(offered)} early-payment discount, "
                f"but paid on {book.on}, after the period ended on {until}: "
                f"{book.money(offered)} remains due",
            )
        )


def _weigh_name(
    payment: PaymentFacts,
    invoices: list[OpenInvoice],
    fit: str,
    confidence: Decimal,
    evidence: list[Evidence],
) -> Decimal:
    """A payer of the billed name corroborates; another name weakens an amount that fits not."""
    billed = invoices[0].customer_name
    if not (payment.payer_name and billed):
        return confidence
    if remittance.normalise_name(payment.payer_name) == remittance.normalise_name(billed):
        evidence.append(
            Evidence(kind="payer", detail=f"the payer's name is as billed ('{billed}')")
        )
        return min(Decimal("0.99"), confidence + NAME_AGREES)
    if fit == "exact":
        return confidence
    evidence.append(
        Evidence(
            kind="payer",
            detail=f"the payer '{payment.payer_name}' is not the billed customer '{billed}'",
        )
    )
    return confidence * NAME_DIFFERS


def _fits_elsewhere(
    payment: PaymentFacts, book: _Book, named: list[OpenInvoice], scope: list[OpenInvoice]
) -> OpenInvoice | None:
    """An open invoice in ``scope``, not named, that the payment settles exactly, if any."""
    skip = {invoice.invoice_id for invoice in named}
    for invoice in scope:
        if invoice.invoice_id in skip:
            continue
        if any(cash == payment.amount for cash, _ in book.settling(invoice)):
            return invoice
    return None


# --- rule 2: customer and amount ---------------------------------------------------------------


def _by_customer(
    payment: PaymentFacts, book: _Book, payer: _Payer, evidence: list[Evidence]
) -> _Outcome:
    customer = payer.customer
    if customer is None:
        guesses = _customer_guesses(payment, book, sorted(payer.customers))
        return _Outcome("customer_amount", None, [], CONFLICT, evidence, guesses)
    invoices = book.of_customer.get(customer, [])
    if not invoices:
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"{customer} has no open invoice in {book.currency}",
            )
        )
        return _Outcome("customer_amount", customer, [], NOTHING, evidence, [])
    fits = _combinations(book, invoices[:MAX_SEARCHED], payment.amount)
    amount = book.money(payment.amount)
    if not fits:
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"no open invoice of {customer}, nor any {MAX_COMBINATION} or fewer "
                f"together, comes to {amount}",
            )
        )
        guesses = _customer_guesses(payment, book, [customer])
        return _Outcome("customer_amount", customer, [], NO_FIT, evidence, guesses)
    if len(fits) > 1:
        ways = "; ".join(_numbers_of(fit) for fit in fits)
        more = " (or more)" if len(fits) >= MAX_CANDIDATES else ""
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"{amount} fits {len(fits)}{more} ways among {customer}'s open invoices "
                f"({ways}): ambiguous",
            )
        )
        guesses = [
            Candidate(
                customer_id=customer,
                allocations=fit,
                reason="its amounts settle the payment exactly",
            )
            for fit in fits
        ]
        return _Outcome("customer_amount", customer, [], AMBIGUOUS, evidence, guesses)
    fit = fits[0]
    shape = "single" if len(fit) == 1 else "combination"
    evidence.append(
        Evidence(
            kind="amount",
            detail=f"{amount} settles {_numbers_of(fit)} of {customer} exactly, and no other "
            f"open invoice or combination of them",
        )
    )
    for proposal in fit:
        if proposal.discount:
            evidence.append(
                Evidence(
                    kind="discount",
                    detail=f"received on {book.on}, in the discount period of "
                    f"{proposal.number}: {book.money(proposal.discount)} discount granted",
                )
            )
    confidence = payer.strength() * FIT_STRENGTH[shape]
    if any(e.kind in ("reference", "metadata") for e in evidence):
        confidence *= UNUSABLE_REFERENCE
    return _Outcome("customer_amount", customer, list(fit), confidence, evidence, [])


def _combinations(
    book: _Book, invoices: Sequence[OpenInvoice], amount: Decimal
) -> list[tuple[Proposal, ...]]:
    """Up to ``MAX_CANDIDATES`` sets of 1..4 invoices whose settling amounts sum to ``amount``."""
    options = [
        [(cash, discount) for cash, discount in book.settling(invoice) if cash <= amount]
        for invoice in invoices
    ]
    found: list[tuple[Proposal, ...]] = []

    def search(start: int, chosen: tuple[Proposal, ...], left: Decimal) -> None:
        for index in range(start, len(invoices)):
            for cash, discount in options[index]:
                if len(found) >= MAX_CANDIDATES or cash > left:
                    continue
                invoice = invoices[index]
                proposal = Proposal(
                    invoice_id=invoice.invoice_id,
                    number=invoice.number,
                    amount=cash,
                    discount=discount,
                )
                if cash == left:
                    found.append((*chosen, proposal))
                elif len(chosen) + 1 < MAX_COMBINATION:
                    search(index + 1, (*chosen, proposal), left - cash)

    search(0, (), amount)
    return sorted(found, key=len)


def _customer_guesses(
    payment: PaymentFacts, book: _Book, customers: Iterable[str]
) -> list[Candidate]:
    """The open invoices of ``customers`` nearest the amount, for a clerk to look at."""
    guesses = []
    for customer in customers:
        for invoice in book.of_customer.get(customer, []):
            gap = abs(invoice.amount_due - payment.amount)
            guesses.append(
                (
                    gap,
                    _allocation_order(invoice),
                    Candidate(
                        customer_id=customer,
                        allocations=(_full(invoice),),
                        reason=f"open invoice of {customer}, {book.money(gap)} from the amount",
                    ),
                )
            )
    guesses.sort(key=lambda guess: (guess[0], guess[1]))
    return [candidate for _, _, candidate in guesses[:MAX_CANDIDATES]]


# --- rule 3: amount alone ----------------------------------------------------------------------


def _by_amount(payment: PaymentFacts, book: _Book, evidence: list[Evidence]) -> _Outcome:
    amount = book.money(payment.amount)
    fits = [
        (invoice, cash, discount)
        for invoice in book.open
        for cash, discount in book.settling(invoice)
        if cash == payment.amount
    ]
    candidates = [
        Candidate(
            customer_id=invoice.customer_id,
            allocations=(
                Proposal(
                    invoice_id=invoice.invoice_id,
                    number=invoice.number,
                    amount=cash,
                    discount=discount,
                ),
            ),
            reason="its amount due is the amount paid; nothing else links them",
        )
        for invoice, cash, discount in fits[:MAX_CANDIDATES]
    ]
    if len(fits) == 1:
        invoice = fits[0][0]
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"the payer is unknown; {amount} settles only {invoice.number} "
                f"({invoice.customer_id}) among all open invoices: a suggestion, not a match",
            )
        )
        allocations = list(candidates[0].allocations)
        return _Outcome(
            "amount_only", invoice.customer_id, allocations, SUGGESTION, evidence, candidates
        )
    if fits:
        evidence.append(
            Evidence(
                kind="amount",
                detail=f"the payer is unknown and {amount} settles {len(fits)} open invoices "
                f"({_numbers([f[0] for f in fits][:MAX_CANDIDATES])}): ambiguous",
            )
        )
        return _Outcome("amount_only", None, [], NOTHING, evidence, candidates)
    evidence.append(
        Evidence(
            kind="amount",
            detail=f"no usable reference, the payer is unknown, and no open invoice in "
            f"{book.currency} comes to {amount}",
        )
    )
    return _Outcome("none", None, [], NOTHING, evidence, [])


# --- the decision ------------------------------------------------------------------------------


def _decision(
    payment: PaymentFacts, outcome: _Outcome, payer: _Payer, threshold: Decimal
) -> Decision:
    confidence = min(Decimal(1), outcome.confidence).quantize(Decimal("0.01"), ROUND_DOWN)
    allocations = tuple(outcome.allocations)
    applied = sum((proposal.amount for proposal in allocations), Decimal(0))
    auto = bool(allocations) and confidence >= threshold and outcome.basis != "amount_only"
    evidence = tuple(payer.evidence + outcome.evidence)
    numbers = ", ".join(proposal.number for proposal in allocations)
    if auto:
        verdict = f"Applied to {numbers} automatically (confidence {confidence})."
    elif allocations:
        verdict = f"Proposed {numbers} for a clerk to confirm (confidence {confidence})."
    else:
        verdict = f"Left for a clerk (confidence {confidence})."
    sentences = [verdict, *(item.detail[0].upper() + item.detail[1:] + "." for item in evidence)]
    return Decision(
        basis=outcome.basis,
        customer_id=outcome.customer_id,
        allocations=allocations,
        confidence=confidence,
        auto=auto,
        evidence=evidence,
        explanation=" ".join(sentences),
        unapplied=payment.amount - applied,
        candidates=tuple(outcome.candidates[:MAX_CANDIDATES]),
        payer_keys=payer.keys,
    )


def _full(invoice: OpenInvoice) -> Proposal:
    return Proposal(invoice_id=invoice.invoice_id, number=invoice.number, amount=invoice.amount_due)


def _numbers(invoices: Sequence[OpenInvoice]) -> str:
    return " + ".join(invoice.number for invoice in invoices)


def _numbers_of(proposals: Sequence[Proposal]) -> str:
    return " + ".join(proposal.number for proposal in proposals)


# --- small differences -------------------------------------------------------------------------


def with_small_differences(
    decision: Decision,
    invoices: Mapping[str, OpenInvoice],
    tolerance: Callable[[OpenInvoice], Decimal],
) -> Decision:
    """The decision, closing an invoice the payment leaves short by no more than its tolerance.

    Only an automatic decision that uses the whole payment: the last allocation (oldest due
    first, every earlier one settles its invoice) may fall short, and ``tolerance(invoice)``
    says by how much it may and still be paid; the shortfall is written off. An overpayment is
    never touched: the rest is the customer's money.
    """
    if not decision.auto or not decision.allocations or decision.unapplied != 0:
        return decision
    *settled, last = decision.allocations
    invoice = invoices.get(last.invoice_id)
    if invoice is None:
        return decision
    limit = tolerance(invoice)
    short = invoice.amount_due - last.amount - last.discount
    written_off = write_off.small_difference(short, limit)
    if not written_off:
        return decision
    money = f"{quantize(written_off, invoice.currency):,} {invoice.currency}"
    limit_money = f"{quantize(limit, invoice.currency):,} {invoice.currency}"
    evidence = Evidence(
        kind="amount",
        detail=f"{invoice.number} is left short by {money}, within the tolerance of "
        f"{limit_money}: the difference is written off and the invoice paid",
    )
    sentence = evidence.detail[0].upper() + evidence.detail[1:] + "."
    return decision.model_copy(
        update={
            "allocations": (*settled, last.model_copy(update={"written_off": written_off})),
            "evidence": (*decision.evidence, evidence),
            "explanation": f"{decision.explanation} {sentence}",
        }
    )


# --- fees and interest ---------------------------------------------------------------------------


def with_charges(
    decision: Decision,
    invoices: Mapping[str, OpenInvoice],
    charges: Sequence[OpenCharge],
) -> Decision:
    """The decision, settling the open charges of the invoices it pays when the payment's rest
    is exactly what they come to (the customer paid what the reminder asked for).

    Only an automatic decision whose every allocation settles its invoice in full; the charges
    are those charged on its invoices, oldest first. Anything else is left as it was.
    """
    if not decision.auto or not decision.allocations or decision.unapplied <= 0:
        return decision
    paid = {proposal.invoice_id: proposal for proposal in decision.allocations}
    for invoice_id, proposal in paid.items():
        invoice = invoices.get(invoice_id)
        if invoice is None or proposal.amount + proposal.discount != invoice.amount_due:
            return decision
    owed = sorted(
        (charge for charge in charges if charge.invoice_id in paid),
        key=lambda charge: (charge.charged_on, charge.charge_id),
    )
    if not owed or sum((charge.amount_due for charge in owed), Decimal(0)) != decision.unapplied:
        return decision
    proposals = tuple(
        Proposal(
            invoice_id=charge.charge_id,
            number=paid[charge.invoice_id or ""].number,
            amount=charge.amount_due,
            charge_id=charge.charge_id,
        )
        for charge in owed
    )
    evidence = Evidence(
        kind="amount",
        detail=f"the rest of the payment, {decision.unapplied}, is what the fees and interest "
        f"charged on {_numbers_of(decision.allocations)} come to: they are settled too",
    )
    sentence = evidence.detail[0].upper() + evidence.detail[1:] + "."
    return decision.model_copy(
        update={
            "allocations": (*decision.allocations, *proposals),
            "evidence": (*decision.evidence, evidence),
            "explanation": f"{decision.explanation} {sentence}",
            "unapplied": Decimal(0),
        }
    )
