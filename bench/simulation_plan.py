"""The business a simulated month holds, drawn from a seed: customers, orders, shipments, payments.

``plan`` is pure: the same seed and sizes give the same plan, value for value, so two runs of it
(one fault-free, one with faults injected) must end in the same business state. Everything is
named by business references the plan chooses (customer refs, purchase orders, the gateway's and
the bank's payment references), never by the ids the system generates.

Each order is shipped in one to three parts over the following days; each invoice (one per
shipment, or one per order for customers invoiced per order) is paid through one channel - the
Stripe webhook, a camt.053 bank statement, or a cheque a clerk records - on time, late, or never,
in full, in part, or with too much; some card payments are disputed, and some disputes closed.
Some invoices are partly credited (a unit of one line) before they are paid; on some overdue ones
a collector records a promise to pay (all or half of what is due), kept by a late payment or
broken when none comes. Credits and promises are drawn from a second generator seeded from the
same seed, so they leave the orders, shipments and payments of a seed as they were.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

START = date(2026, 3, 2)  # a Monday

Channel = Literal["stripe", "bank", "cheque"]
AmountKind = Literal["full", "partial", "over"]
Timing = Literal["on_time", "late"]

# (kind, net days, discount percent, discount days); the terms a customer is opened with.
TERMS: tuple[tuple[str, int, str | None, int | None], ...] = (
    ("due_on_receipt", 0, None, None),
    ("net", 7, None, None),
    ("net", 14, "2", 5),
    ("net", 30, None, None),
)
POLICIES = ("default", "strict", "gentle")
# (currency, country, city, postal code); GBP customers are billed from the UK.
PLACES = (
    ("EUR", "DE", "Berlin", "10115"),
    ("EUR", "FR", "Paris", "75002"),
    ("EUR", "NL", "Amsterdam", "1012 AB"),
    ("GBP", "GB", "London", "EC2V 8AU"),
)
SKUS = {"EUR": ("WIDGET-1", "GADGET-2", "SERVICE-HOUR"), "GBP": ("WIDGET-1", "GADGET-2")}
PARTIAL_SHARE = Decimal("0.5")
OVERPAID_BY = Decimal("10.00")
CREDITED_SHARE = 0.15  # of the invoices billing two units or more
PROMISED_SHARE = 0.5  # of the invoices overdue a day and not paid yet


@dataclass(frozen=True)
class CustomerPlan:
    ref: str  # the plan's name for the account (its legal name carries it)
    legal_name: str
    billing_email: str
    currency: str
    country: str
    city: str
    postal_code: str
    terms: tuple[str, int, str | None, int | None]
    policy: str
    invoicing: Literal["per_shipment", "per_order"]

    def body(self) -> dict[str, Any]:
        """The POST /customers body."""
        kind, net_days, discount_percent, discount_days = self.terms
        terms: dict[str, Any] = {"kind": kind}
        if kind == "net":
            terms["net_days"] = net_days
        if discount_percent is not None:
            terms |= {"discount_percent": discount_percent, "discount_days": discount_days}
        return {
            "legal_name": self.legal_name,
            "billing_email": self.billing_email,
            "currency": self.currency,
            "billing_address": {
                "line1": "1 Market Street",
                "city": self.city,
                "postal_code": self.postal_code,
                "country": self.country,
            },
            "payment_terms": terms,
            "credit_limit": "10000000.00",
            "dunning_policy": self.policy,
            "invoicing": self.invoicing,
        }

    @property
    def net_days(self) -> int:
        return self.terms[1]


@dataclass(frozen=True)
class OrderPlan:
    purchase_order: str
    customer: str  # CustomerPlan.ref
    day: int
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass(frozen=True)
class ShipmentPlan:
    purchase_order: str
    ordinal: int  # 1.. within the order
    day: int
    lines: tuple[tuple[int, int], ...]  # (line_no, quantity)
    last: bool  # the order is shipped in full with it


@dataclass(frozen=True)
class PaymentPlan:
    reference: str  # the gateway's or the bank's reference, or the cheque number
    channel: Channel
    day: int
    invoice: str  # the invoice's business reference, ``invoice_ref``
    customer: str
    amount: AmountKind
    timing: Timing


@dataclass(frozen=True)
class DisputePlan:
    reference: str  # the dispute's id
    payment: str  # PaymentPlan.reference (a Stripe payment)
    day: int
    closing: Literal["won", "lost"] | None  # None: still open at the end
    closing_day: int | None


@dataclass(frozen=True)
class CreditPlan:
    """A partial credit note: ``quantity`` units of one order line the invoice bills."""

    invoice: str  # invoice_ref
    customer: str
    day: int
    order_line: int  # the order's line_no
    quantity: int  # fewer than the invoice bills in all: the invoice stays open


@dataclass(frozen=True)
class PromisePlan:
    """A promise to pay an overdue invoice: all or half of what is due then, by ``by_day``."""

    invoice: str  # invoice_ref
    customer: str
    day: int
    by_day: int
    share: Literal["all", "half"]


@dataclass(frozen=True)
class DayPlan:
    index: int
    on: date
    orders: tuple[OrderPlan, ...]
    shipments: tuple[ShipmentPlan, ...]
    payments: tuple[PaymentPlan, ...]
    disputes_opened: tuple[DisputePlan, ...]
    disputes_closed: tuple[DisputePlan, ...]
    credit_notes: tuple[CreditPlan, ...] = ()
    promises: tuple[PromisePlan, ...] = ()


@dataclass(frozen=True)
class Plan:
    seed: int
    customers: tuple[CustomerPlan, ...]
    days: tuple[DayPlan, ...]

    @property
    def orders(self) -> int:
        return sum(len(day.orders) for day in self.days)

    def customer(self, ref: str) -> CustomerPlan:
        return next(customer for customer in self.customers if customer.ref == ref)


def invoice_ref(purchase_order: str, ordinals: tuple[int, ...]) -> str:
    """An invoice's business reference: its order and the shipments it bills (``PO/1+2``)."""
    return f"{purchase_order}/{'+'.join(str(n) for n in ordinals)}"


def plan(seed: int, *, customers: int, days: int, orders_per_day: int) -> Plan:
    """The month's business, the same for the same arguments."""
    rng = random.Random(seed)
    extras = random.Random(f"credits and promises {seed}")
    accounts = tuple(_customer(rng, n) for n in range(customers))
    orders: list[OrderPlan] = []
    shipments: list[ShipmentPlan] = []
    payments: list[PaymentPlan] = []
    disputes: list[DisputePlan] = []
    credits: list[CreditPlan] = []
    promises: list[PromisePlan] = []
    for day in range(days):
        for n in range(orders_per_day):
            account = accounts[rng.randrange(customers)]
            order = _order(rng, account, day, f"PO-{day + 1:02d}-{n + 1:04d}")
            orders.append(order)
            parts = _shipments(rng, order)
            shipments += [part for part in parts if part.day < days]
            for ordinals, issued in _invoices(account, parts, days):
                ref = invoice_ref(order.purchase_order, ordinals)
                payment = _payment(rng, account, ref, issued)
                paid_on = None if payment is None else payment.day
                billed = [line for part in parts if part.ordinal in ordinals for line in part.lines]
                credit = _credit(extras, account, ref, billed, issued, paid_on)
                if credit is not None and credit.day < days:
                    credits.append(credit)
                promise = _promise(extras, account, ref, issued, paid_on)
                if promise is not None and promise.day < days:
                    promises.append(promise)
                if payment is None or payment.day >= days:
                    continue
                payments.append(payment)
                dispute = _dispute(rng, payment)
                if dispute is not None and dispute.day < days:
                    disputes.append(dispute)
    return Plan(
        seed=seed,
        customers=accounts,
        days=tuple(
            DayPlan(
                index=day,
                on=START + timedelta(days=day),
                orders=tuple(o for o in orders if o.day == day),
                shipments=tuple(s for s in shipments if s.day == day),
                payments=tuple(p for p in payments if p.day == day),
                disputes_opened=tuple(d for d in disputes if d.day == day),
                disputes_closed=tuple(d for d in disputes if d.closing_day == day),
                credit_notes=tuple(c for c in credits if c.day == day),
                promises=tuple(p for p in promises if p.day == day),
            )
            for day in range(days)
        ),
    )


def _customer(rng: random.Random, n: int) -> CustomerPlan:
    currency, country, city, postal_code = rng.choice(PLACES)
    return CustomerPlan(
        ref=f"C{n:03d}",
        legal_name=f"Simulated Customer C{n:03d} Ltd",
        billing_email=f"ap.c{n:03d}@customers.example",
        currency=currency,
        country=country,
        city=city,
        postal_code=postal_code,
        terms=rng.choice(TERMS),
        policy=rng.choice(POLICIES),
        invoicing="per_order" if rng.random() < 0.2 else "per_shipment",
    )


def _order(rng: random.Random, account: CustomerPlan, day: int, purchase_order: str) -> OrderPlan:
    skus = SKUS[account.currency]
    chosen = rng.sample(skus, rng.randint(1, len(skus)))
    return OrderPlan(
        purchase_order=purchase_order,
        customer=account.ref,
        day=day,
        lines=tuple((sku, rng.randint(1, 12)) for sku in chosen),
    )


def _shipments(rng: random.Random, order: OrderPlan) -> list[ShipmentPlan]:
    """One to three parts, a day or more apart, the first the day after the order."""
    parts = rng.choice((1, 1, 2, 2, 3))
    split: list[list[tuple[int, int]]] = [[] for _ in range(parts)]
    for line_no, (_, quantity) in enumerate(order.lines, start=1):
        cuts = sorted(rng.randint(0, quantity) for _ in range(parts - 1))
        bounds = [0, *cuts, quantity]
        for part in range(parts):
            if shipped := bounds[part + 1] - bounds[part]:
                split[part].append((line_no, shipped))
    filled = [lines for lines in split if lines]
    found, day = [], order.day
    for ordinal, lines in enumerate(filled, start=1):
        day += rng.randint(1, 3) if ordinal == 1 else rng.randint(1, 4)
        found.append(
            ShipmentPlan(order.purchase_order, ordinal, day, tuple(lines), ordinal == len(filled))
        )
    return found


def _invoices(
    account: CustomerPlan, parts: list[ShipmentPlan], days: int
) -> list[tuple[tuple[int, ...], int]]:
    """(the shipments billed, the day issued) of each invoice issued within the month."""
    shipped = [part for part in parts if part.day < days]
    if account.invoicing == "per_shipment":
        return [((part.ordinal,), part.day) for part in shipped]
    if len(shipped) == len(parts):
        return [(tuple(part.ordinal for part in parts), parts[-1].day)]
    return []


def _payment(
    rng: random.Random, account: CustomerPlan, invoice: str, issued: int
) -> PaymentPlan | None:
    if rng.random() < 0.1:
        return None  # never paid: collections take over
    channel: Channel = rng.choices(("stripe", "bank", "cheque"), weights=(40, 35, 25))[0]
    timing: Timing = "late" if rng.random() < 0.3 else "on_time"
    due = issued + account.net_days
    # Payments come before the day's shipments: an invoice is paid the day after it, at the soonest.
    on_time = issued + rng.randint(1, max(1, account.net_days))
    day = due + rng.randint(2, 12) if timing == "late" else on_time
    amount: AmountKind = rng.choices(("full", "partial", "over"), weights=(78, 12, 10))[0]
    prefix = {"stripe": "pi_sim", "bank": "SIMBANK", "cheque": "CHQ"}[channel]
    reference = f"{prefix}{invoice.replace('/', '').replace('+', '').replace('-', '')}"
    return PaymentPlan(reference, channel, day, invoice, account.ref, amount, timing)


def _dispute(rng: random.Random, payment: PaymentPlan) -> DisputePlan | None:
    if payment.channel != "stripe" or payment.amount != "full" or rng.random() >= 0.15:
        return None
    opened = payment.day + rng.randint(1, 3)
    closing: Literal["won", "lost"] | None = rng.choice(("won", "lost", None))
    return DisputePlan(
        reference=f"dp_sim{payment.reference.removeprefix('pi_sim')}",
        payment=payment.reference,
        day=opened,
        closing=closing,
        closing_day=None if closing is None else opened + rng.randint(1, 4),
    )


def _credit(
    rng: random.Random,
    account: CustomerPlan,
    invoice: str,
    billed: list[tuple[int, int]],
    issued: int,
    paid_on: int | None,
) -> CreditPlan | None:
    """A unit of the line billed most, credited after the invoice and before its payment."""
    units: dict[int, int] = {}
    for line_no, quantity in billed:
        units[line_no] = units.get(line_no, 0) + quantity
    if sum(units.values()) < 2 or rng.random() >= CREDITED_SHARE:
        return None
    last = issued + 3 if paid_on is None else paid_on - 1
    if last < issued + 1:
        return None
    line_no = max(sorted(units), key=lambda no: units[no])
    day = rng.randint(issued + 1, last)
    return CreditPlan(invoice, account.ref, day, line_no, 1)


def _promise(
    rng: random.Random, account: CustomerPlan, invoice: str, issued: int, paid_on: int | None
) -> PromisePlan | None:
    """The day after the due date, on an invoice not paid by then."""
    day = issued + account.net_days + 1
    if paid_on is not None and paid_on <= day:
        return None
    if rng.random() >= PROMISED_SHARE:
        return None
    share: Literal["all", "half"] = rng.choice(("all", "half"))
    return PromisePlan(invoice, account.ref, day, day + rng.randint(2, 6), share)
