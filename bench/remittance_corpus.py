"""A seeded, noisy world of customers, open invoices and payments, each with its ground truth.

The world: about 200 customers (company names with legal forms; a few pairs share a name once
the legal form is dropped), each with an account (mostly valid IBANs, some not), payment terms
(a share with 2/10 net 30), a currency (mostly EUR), and 1 to 5 open invoices. Some customers
are billed the same amount every month, so an amount alone is ambiguous for them. Some pay
from an account under another name (a parent company, a shared service centre); clerks have
learned aliases for many accounts. Some pay by card through a gateway that maps them to their
customer id and carries metadata.

The payments mix what arrives in practice: clean references, normalised and OCR-damaged ones,
RF creditor references, several invoices in one payment, partial and overpayments, discounts
taken in time and too late, gateway metadata, transfers with only the payer's name and
account, payments with no usable information, human typos in references, references in the
wrong currency, and adversarial ones naming another customer's invoice.

Each payment carries its truth: the allocations the payer meant, and whether the payment
carries enough to be matched with certainty (``matchable``). An unmatchable payment's truth
is the worklist (no allocations): applying it automatically is a wrong match, even on a lucky
guess. Whether an amount fits one way only is decided here by brute force over the customer's
invoices, independently of the matcher.

Every payment is decided against the same snapshot of open items, as if it arrived alone.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations, product

from shared.domain import numbering
from shared.domain.matching import OpenInvoice, PaymentFacts
from shared.domain.money import quantize
from shared.domain.remittance import payer_key

TODAY = date(2026, 6, 1)
CUSTOMERS = 200

STEMS = (  # noqa: SIM905 (prose reads better than 56 quoted words)
    "Acme Trading Alpine Bakeries Nordlicht Logistik Baltic Freight Cobalt Systems Delta Foods "
    "Everest Textiles Falcon Parts Granite Works Harbour Supplies Iris Medical Juniper Labs "
    "Kestrel Energy Lumen Optics Meridian Tools Nimbus Software Orchid Cosmetics Pioneer Metals "
    "Quartz Electronics Riverside Printing Sierra Plastics Tundra Outdoor Umbra Design "
    "Vertex Packaging Willow Furniture Xenon Lighting Yellowstone Coffee Zenith Motors"
).split()
TRADES = (  # noqa: SIM905
    "Trading Logistik Systems Foods Textiles Parts Works Supplies Medical Labs Energy Optics "
    "Tools Software Metals Electronics Printing Plastics Outdoor Design Packaging Furniture "
    "Lighting Coffee Motors Handel Bau Technik Services Consulting"
).split()
LEGAL_FORMS = ("GmbH", "AG", "Ltd", "Ltd.", "Inc.", "S.A.", "B.V.", "SARL", "LLC", "S.r.l.", "KG")
PEOPLE = ("J. Smith", "Maria Rossi", "K Nowak", "P. Dubois", "A. Jansen", "L. Garcia", "T. Berg")
OCR_LOOKALIKES = {
    "0": "OoO",
    "1": "lI|",
    "5": "S",
    "8": "B",
    "2": "Z",
    "6": "G",
}
FILLERS = ("", "Thank you", "Zahlung", "Payment", "Rechnung", "Regards", "EREF+NOTPROVIDED")


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str  # as billed
    stem: str  # the name without its legal form; shared by a few pairs of customers
    currency: str
    account: str  # as the bank prints it
    statement_name: str  # the payer name on bank statements
    pays_as_billed: bool  # statement_name is the billed name (up to case)
    alias_known: bool  # a clerk confirmed this account before
    gateway: bool  # pays by card through a gateway that maps it to its customer id
    discount_terms: bool  # 2/10 net 30
    subscription: bool  # billed the same amount each time


@dataclass(frozen=True)
class World:
    customers: tuple[Customer, ...]
    invoices: tuple[OpenInvoice, ...]
    aliases: dict[str, str]

    def of(self, customer_id: str) -> list[OpenInvoice]:
        return [invoice for invoice in self.invoices if invoice.customer_id == customer_id]


Allocation = tuple[str, Decimal, Decimal]  # invoice id, cash, discount


@dataclass(frozen=True)
class Truth:
    scenario: str
    matchable: bool
    allocations: tuple[Allocation, ...]  # sorted by invoice id; () means "the worklist"


@dataclass(frozen=True)
class Case:
    payment: PaymentFacts
    truth: Truth


def corpus(count: int = 2000, seed: int = 7) -> tuple[World, list[Case]]:
    """The world of ``seed`` and ``count`` payments into it."""
    rng = random.Random(seed)
    built = world(rng)
    return built, [payment(rng, built) for _ in range(count)]


# --- the world ---------------------------------------------------------------------------------


def world(rng: random.Random, count: int = CUSTOMERS) -> World:
    customers = [_customer(rng, index) for index in range(1, count + 1)]
    for index in rng.sample(range(1, count), 6):  # a few pairs share a name but the legal form
        twin = customers[index - 1]
        customers[index] = _rename(rng, customers[index], twin.stem)
    invoices: list[OpenInvoice] = []
    sequence = rng.randrange(100, 900)
    issued: list[tuple[date, Customer, Decimal]] = []
    for customer in customers:
        monthly = _amount(rng, customer.currency)
        for _ in range(rng.choice((1, 2, 3, 3, 3, 4, 5))):
            amount = monthly if customer.subscription else _amount(rng, customer.currency)
            issued.append((TODAY - timedelta(days=rng.randrange(1, 75)), customer, amount))
    for issued_on, customer, amount in sorted(issued, key=lambda item: item[0]):
        sequence += rng.randrange(1, 4)
        number = numbering.number(numbering.series("INV", issued_on), sequence)
        discount = quantize(amount * Decimal("0.02"), customer.currency)
        invoices.append(
            OpenInvoice(
                invoice_id=f"inv_{sequence:06d}",
                number=number,
                customer_id=customer.customer_id,
                currency=customer.currency,
                amount_due=amount,
                payment_reference=numbering.payment_reference(number),
                issued_on=issued_on,
                due_on=issued_on + timedelta(days=30),
                discount_until=issued_on + timedelta(days=10) if customer.discount_terms else None,
                discount_amount=discount if customer.discount_terms else Decimal(0),
                customer_name=customer.name,
            )
        )
    aliases = {}
    for customer in customers:
        if customer.alias_known:
            for key in payer_key(None, customer.account):
                aliases[key] = customer.customer_id
            if not customer.pays_as_billed and rng.random() < 0.5:
                for key in payer_key(customer.statement_name, None):
                    aliases[key] = customer.customer_id
    return World(tuple(customers), tuple(invoices), aliases)


def _customer(rng: random.Random, index: int) -> Customer:
    stem = f"{rng.choice(STEMS)} {rng.choice(TRADES)} {index}"
    name = f"{stem} {rng.choice(LEGAL_FORMS)}"
    pays_as_billed = rng.random() < 0.75
    parent = f"{stem.split(maxsplit=1)[0]} Holding {index} {rng.choice(LEGAL_FORMS)}"
    statement = name if pays_as_billed else parent
    if pays_as_billed and rng.random() < 0.5:
        statement = name.upper()
    return Customer(
        customer_id=f"cus_{index:04d}",
        name=name,
        stem=stem,
        currency=rng.choices(("EUR", "USD", "GBP"), weights=(85, 10, 5))[0],
        account=_account(rng),
        statement_name=statement,
        pays_as_billed=pays_as_billed,
        alias_known=rng.random() < (0.6 if pays_as_billed else 0.8),
        gateway=rng.random() < 0.2,
        discount_terms=rng.random() < 0.3,
        subscription=rng.random() < 0.15,
    )


def _rename(rng: random.Random, customer: Customer, stem: str) -> Customer:
    name = f"{stem} {rng.choice(LEGAL_FORMS)}"
    statement = name if customer.pays_as_billed else customer.statement_name
    return Customer(
        **{**customer.__dict__, "name": name, "stem": stem, "statement_name": statement}
    )


def _account(rng: random.Random) -> str:
    """A German IBAN printed in groups of four; one in ten garbled (a typo in master data)."""
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    check = 98 - numbering.mod97(bban + "DE00")
    iban = f"DE{check:02d}{bban}"
    if rng.random() < 0.1:
        iban = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _amount(rng: random.Random, currency: str) -> Decimal:
    if rng.random() < 0.1:
        return Decimal(rng.choice((99, 149, 250, 500, 990, 1190)))  # list prices recur
    raw = min(max(rng.lognormvariate(6.8, 1.1), 25.0), 60_000.0)
    return quantize(Decimal(str(round(raw, 2))), currency)


# --- payments ----------------------------------------------------------------------------------


def payment(rng: random.Random, world: World) -> Case:
    """One payment of a scenario drawn by weight (redrawn when the world cannot host it)."""
    names = list(SCENARIOS)
    weights = [weight for weight, _ in SCENARIOS.values()]
    while True:
        scenario = rng.choices(names, weights=weights)[0]
        case = SCENARIOS[scenario][1](rng, world)
        if case is not None:
            payment_facts, matchable, allocations = case
            truth = Truth(scenario, matchable, tuple(sorted(allocations)) if matchable else ())
            return Case(payment_facts, truth)


Built = tuple[PaymentFacts, bool, list[Allocation]] | None


def _reference(
    rng: random.Random, world: World, write: Callable[[random.Random, OpenInvoice], str]
) -> Built:
    """A bank transfer paying one invoice in full, naming it as ``write`` writes it."""
    customer, invoice = _pick(rng, world)
    return _transfer(rng, customer, invoice.amount_due, write(rng, invoice)), True, [_full(invoice)]


def _clean(rng: random.Random, world: World) -> Built:
    return _reference(rng, world, lambda r, i: _template(r, i.number))


def _normalised(rng: random.Random, world: World) -> Built:
    return _reference(rng, world, lambda r, i: _template(r, _normalise(r, i.number)))


def _ocr(rng: random.Random, world: World) -> Built:
    return _reference(rng, world, lambda r, i: _template(r, _ocr_noise(r, i.number)))


def _creditor(rng: random.Random, world: World) -> Built:
    def write(r: random.Random, invoice: OpenInvoice) -> str:
        ref = invoice.payment_reference
        grouped = " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
        return r.choice((ref, grouped, ref.lower(), f"SCOR {grouped}"))

    return _reference(rng, world, write)


def _several(rng: random.Random, world: World) -> Built:
    customer = _customer_with(rng, world, lambda invoices: len(invoices) >= 2)
    invoices = world.of(customer.customer_id)
    chosen = rng.sample(invoices, min(len(invoices), rng.choice((2, 2, 3))))
    joiner = rng.choice((" + ", ", ", " / ", " and ", " "))
    text = joiner.join(
        number if rng.random() < 0.6 else _normalise(rng, number)
        for number in (i.number for i in chosen)
    )
    amount = sum((i.amount_due for i in chosen), Decimal(0))
    return _transfer(rng, customer, amount, f"Invoices {text}"), True, [_full(i) for i in chosen]


def _partial(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world, lambda i: i.amount_due >= 50)
    share = Decimal(rng.choice((25, 30, 40, 50, 60, 75))) / 100
    amount = quantize(invoice.amount_due * share, invoice.currency)
    text = f"{_template(rng, invoice.number)} part payment"
    return _transfer(rng, customer, amount, text), True, [(invoice.invoice_id, amount, Decimal(0))]


def _over(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world)
    amount = invoice.amount_due + Decimal(rng.choice((5, 10, 20, 100))) + Decimal("0.50")
    return _transfer(rng, customer, amount, _template(rng, invoice.number)), True, [_full(invoice)]


def _discount(rng: random.Random, world: World, *, in_time: bool) -> Built:
    customer, invoice = _pick(rng, world, lambda i: i.discount_until is not None)
    if invoice.discount_until is None:
        return None
    days = rng.randrange(0, 4) if in_time else -rng.randrange(1, 15)
    received = invoice.discount_until - timedelta(days=days)
    amount = invoice.amount_due - invoice.discount_amount
    payment_facts = _transfer(rng, customer, amount, _template(rng, invoice.number), received)
    if in_time:
        return payment_facts, True, [(invoice.invoice_id, amount, invoice.discount_amount)]
    return payment_facts, True, [(invoice.invoice_id, amount, Decimal(0))]


def _gateway(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world, customer_filter=lambda c: c.gateway)
    facts = PaymentFacts(
        amount=invoice.amount_due,
        currency=invoice.currency,
        received_on=TODAY,
        payer_name=rng.choice((None, customer.statement_name)),
        remittance=f"STRIPE ch_{rng.getrandbits(48):012x}",
        metadata={"invoice_number": invoice.number, "customer_id": customer.customer_id},
        customer_id=customer.customer_id,
    )
    return facts, True, [_full(invoice)]


def _gateway_customer_only(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world, customer_filter=lambda c: c.gateway)
    facts = PaymentFacts(
        amount=invoice.amount_due,
        currency=invoice.currency,
        received_on=TODAY,
        remittance=f"CARD *{customer.stem.split(maxsplit=1)[0].upper()[:12]}",
        metadata={"customer_id": customer.customer_id},
        customer_id=customer.customer_id,
    )
    return _by_amount(world, customer, facts, [invoice], identified=True)


def _payer_only(rng: random.Random, world: World) -> Built:
    customer = _customer_with(rng, world, lambda invoices: len(invoices) >= 1)
    invoices = world.of(customer.customer_id)
    chosen = rng.sample(invoices, 2) if len(invoices) >= 2 and rng.random() < 0.3 else invoices[:1]
    amount = sum((i.amount_due for i in chosen), Decimal(0))
    facts = _transfer(rng, customer, amount, rng.choice(FILLERS))
    return _by_amount(world, customer, facts, chosen, identified=_identifiable(world, customer))


def _ambiguous(rng: random.Random, world: World) -> Built:
    customer = _customer_with(
        rng, world, lambda invoices: len({i.amount_due for i in invoices}) < len(invoices)
    )
    invoices = world.of(customer.customer_id)
    amounts = [i.amount_due for i in invoices]
    repeated = next(i for i in invoices if amounts.count(i.amount_due) > 1)
    facts = _transfer(rng, customer, repeated.amount_due, rng.choice(FILLERS))
    return _by_amount(world, customer, facts, [repeated], identified=_identifiable(world, customer))


def _no_information(rng: random.Random, world: World) -> Built:
    _, invoice = _pick(rng, world)
    facts = PaymentFacts(
        amount=invoice.amount_due,
        currency=invoice.currency,
        received_on=TODAY,
        payer_name=rng.choice((None, *PEOPLE)),
        payer_account=rng.choice((None, _account(rng))),
        remittance=rng.choice(FILLERS),
    )
    return facts, False, []


def _typo(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world)
    prefix, year, sequence = invoice.number.split("-")
    digits = list(sequence)
    spot = rng.randrange(len(digits) - 1)
    digits[spot], digits[spot + 1] = digits[spot + 1], digits[spot]
    if digits == list(sequence):
        digits[-1] = str((int(digits[-1]) + 1) % 10)
    typo = f"{prefix}-{year}-{''.join(digits)}"
    facts = _transfer(rng, customer, invoice.amount_due, _template(rng, typo))
    open_numbers = {i.number for i in world.invoices if i.currency == invoice.currency}
    if typo in open_numbers:
        return facts, False, []  # it names another open invoice: the worklist is right
    return _by_amount(world, customer, facts, [invoice], identified=_identifiable(world, customer))


def _unknown_reference(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world)
    text = _template(rng, f"INV-2025-{rng.randrange(1, 999999):06d}")
    facts = _transfer(rng, customer, invoice.amount_due, text)
    return _by_amount(world, customer, facts, [invoice], identified=_identifiable(world, customer))


def _other_customer(rng: random.Random, world: World) -> Built:
    """Adversarial: the text names another customer's invoice, the amount is not its amount."""
    customer, own = _pick(rng, world)
    others = [
        i
        for i in world.invoices
        if i.customer_id != customer.customer_id
        and i.currency == own.currency
        and i.amount_due != own.amount_due
    ]
    if not others:
        return None
    foreign = rng.choice(others)
    if rng.random() < 0.5 and _identifiable(world, customer):
        facts = _transfer(rng, customer, own.amount_due, _template(rng, foreign.number))
    else:  # a stranger quoting someone else's invoice
        facts = PaymentFacts(
            amount=quantize(foreign.amount_due * Decimal("0.37"), own.currency),
            currency=own.currency,
            received_on=TODAY,
            payer_name=rng.choice(PEOPLE),
            payer_account=_account(rng),
            remittance=_template(rng, foreign.number),
        )
    return facts, False, []


def _wrong_currency(rng: random.Random, world: World) -> Built:
    customer, invoice = _pick(rng, world, customer_filter=lambda c: c.currency != "EUR")
    facts = _transfer(rng, customer, invoice.amount_due, _template(rng, invoice.number))
    return facts.model_copy(update={"currency": "EUR"}), False, []


SCENARIOS: dict[str, tuple[int, Callable[[random.Random, World], Built]]] = {
    "clean reference": (17, _clean),
    "normalised reference": (10, _normalised),
    "OCR-damaged reference": (7, _ocr),
    "RF creditor reference": (8, _creditor),
    "several invoices": (7, _several),
    "partial payment": (5, _partial),
    "overpayment": (3, _over),
    "discount in time": (5, lambda r, w: _discount(r, w, in_time=True)),
    "discount too late": (2, lambda r, w: _discount(r, w, in_time=False)),
    "gateway metadata": (10, _gateway),
    "gateway customer only": (3, _gateway_customer_only),
    "payer name and account only": (8, _payer_only),
    "same amounts, no reference": (3, _ambiguous),
    "no usable information": (5, _no_information),
    "typo in reference": (3, _typo),
    "reference not open": (1, _unknown_reference),
    "another customer's invoice": (2, _other_customer),
    "reference in another currency": (1, _wrong_currency),
}


# --- helpers -----------------------------------------------------------------------------------


def _pick(
    rng: random.Random,
    world: World,
    invoice_filter: Callable[[OpenInvoice], bool] = lambda _: True,
    customer_filter: Callable[[Customer], bool] = lambda _: True,
) -> tuple[Customer, OpenInvoice]:
    by_id = {c.customer_id: c for c in world.customers}
    invoices = [
        i for i in world.invoices if invoice_filter(i) and customer_filter(by_id[i.customer_id])
    ]
    invoice = rng.choice(invoices)
    return by_id[invoice.customer_id], invoice


def _customer_with(
    rng: random.Random, world: World, accept: Callable[[list[OpenInvoice]], bool]
) -> Customer:
    return rng.choice([c for c in world.customers if accept(world.of(c.customer_id))])


def _transfer(
    rng: random.Random,
    customer: Customer,
    amount: Decimal,
    text: str,
    received_on: date = TODAY,
) -> PaymentFacts:
    account = customer.account if rng.random() < 0.7 else customer.account.replace(" ", "")
    return PaymentFacts(
        amount=amount,
        currency=customer.currency,
        received_on=received_on,
        payer_name=customer.statement_name,
        payer_account=account,
        remittance=text,
    )


def _identifiable(world: World, customer: Customer) -> bool:
    """Whether a transfer from ``customer`` says who pays: a known alias or a unique billed name."""
    if customer.alias_known:
        return True
    twins = [c for c in world.customers if c.stem == customer.stem and world.of(c.customer_id)]
    return customer.pays_as_billed and len(twins) == 1


def _by_amount(
    world: World,
    customer: Customer,
    facts: PaymentFacts,
    meant: list[OpenInvoice],
    *,
    identified: bool,
) -> Built:
    """Matchable when the payer is identified and the amount fits its invoices one way only."""
    ways = _ways(world.of(customer.customer_id), facts.amount, facts.received_on)
    unique = len(ways) == 1 and ways[0] == {i.invoice_id for i in meant}
    return facts, identified and unique, [_full(i) for i in meant]


def _ways(invoices: list[OpenInvoice], amount: Decimal, on: date) -> list[set[str]]:
    """Every set of 1..4 invoices whose amounts (discounted when in time) sum to ``amount``."""
    ways = []
    for size in range(1, 5):
        for chosen in combinations(invoices, size):
            options = [
                (i.amount_due, i.amount_due - i.discount_amount)
                if i.discount_until and on <= i.discount_until
                else (i.amount_due,)
                for i in chosen
            ]
            if any(sum(choice) == amount for choice in product(*options)):
                ways.append({i.invoice_id for i in chosen})
    return ways


def _full(invoice: OpenInvoice) -> Allocation:
    return invoice.invoice_id, invoice.amount_due, Decimal(0)


def _template(rng: random.Random, reference: str) -> str:
    return rng.choice(
        (
            "{r}",
            "Invoice {r}",
            "SVWZ+{r} EREF+NOTPROVIDED",
            "Payment {r} thank you",
            "RE: {r}",
            "{r} KD-NR 40{n}",
            "Rg. {r} vom 12.05.2026",
        )
    ).format(r=reference, n=rng.randrange(100, 999))


def _normalise(rng: random.Random, number: str) -> str:
    prefix, year, sequence = number.split("-")
    return rng.choice(
        (
            number.lower(),
            f"{prefix}{year}{sequence}",
            f"{prefix} {year} {sequence}",
            f"{prefix.capitalize()}.{year}/{int(sequence)}",
            f"{prefix.lower()}_{year}_{sequence}",
            f"Invoice no. {year}-{sequence}",
        )
    )


def _ocr_noise(rng: random.Random, number: str) -> str:
    chars = list(number)
    spots = [i for i, c in enumerate(chars) if c in OCR_LOOKALIKES and i >= len("INV-")]
    for spot in rng.sample(spots, min(len(spots), rng.choice((1, 1, 2, 3)))):
        chars[spot] = rng.choice(OCR_LOOKALIKES[chars[spot]])
    return "".join(chars)
