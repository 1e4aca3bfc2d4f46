"""The simulation's driver: it plays a plan's days through the HTTP API and the event pump.

Each simulated day:

- 06:00 the collection run for the day (``POST /collection-runs``), and its reminders;
- 07:00 partial credit notes (``POST /invoices/{id}/credit-notes``), 08:00 promises to pay on
  overdue invoices (``POST /invoices/{id}/promises``);
- 09:00 disputes opened or closed, then the day's payments: Stripe webhooks, one camt.053 file
  per currency (``POST /bank-statements``), cheques a clerk records (``POST /payments``);
- 12:00 the day's shipments (invoicing and delivery e-mails follow);
- 15:00 the day's orders, each placed by its customer's procurement system with a partner key
  bound to that customer alone (confirmation follows); the credit manager then approves those
  credit control held.

Every request goes through ONE method, ``Driver.request``, that behaves like a real partner or
gateway: on a 5xx answer, or an exception the harness says it injected, it sends the same request
again (same Idempotency-Key, same body; a webhook signed afresh, as Stripe signs every delivery
attempt), up to the harness's ``attempts`` times.

The clock: every action runs at its moment of the simulated day, plus the time the harness's
faults have cost since the day began (a retry comes after a lease or a visibility timeout, as on
AWS). The day must end before midnight, or the dates the business records would change.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import stripe

from bench.aws_calls import CallLog
from bench.simulation_plan import (
    OVERPAID_BY,
    PARTIAL_SHARE,
    CreditPlan,
    DayPlan,
    DisputePlan,
    PaymentPlan,
    Plan,
    PromisePlan,
)
from bench.simulation_state import Books, KnownInvoice
from infra.local import stack
from infra.local.offline import ADMIN_KEY
from infra.local.pump import EventPump
from shared import clock

if TYPE_CHECKING:
    from bench.simulation import Harness

DRAIN_ROUNDS = 5000
STOCK_TOP_UP = 10_000_000
SELLER_IBAN = "DE89370400440532013000"
PAYER_IBAN = "DE02120300000000202051"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class SimulatedClock:
    """``shared.clock`` at a moment of the simulated day, plus what faults cost since it began."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.day: date | None = None
        self.moment = datetime.min.replace(tzinfo=UTC)
        self.since = timedelta(0)  # the harness's elapsed time when the day began
        self.overruns: list[str] = []

    def at(self, on: date, hour: int, second: int = 0) -> None:
        if on != self.day:
            self._check_day()
            self.day, self.since = on, self.harness.elapsed()
        self.moment = datetime(on.year, on.month, on.day, hour, tzinfo=UTC) + timedelta(
            seconds=second
        )
        clock.set_clock(self.now)

    def now(self) -> datetime:
        return self.moment + (self.harness.elapsed() - self.since)

    def _check_day(self) -> None:
        if self.day is not None and self.now().date() != self.day:
            self.overruns.append(
                f"the faults of {self.day} cost {self.harness.elapsed() - self.since}: "
                "the day ran past midnight"
            )

    def close(self) -> list[str]:
        self._check_day()
        return self.overruns


class Driver:
    def __init__(
        self, client: Any, pump: EventPump, harness: Harness, log: CallLog, at: SimulatedClock
    ) -> None:
        self.client = client
        self.pump = pump
        self.harness = harness
        self.log = log
        self.at = at
        self.books = Books()
        self.counts: Counter[str] = Counter()
        self.violations: list[str] = []

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        key: str | None = ADMIN_KEY,
        signed: Callable[[], dict[str, str]] | None = None,
    ) -> Answer:
        """One request as a partner or gateway sends it: again, unchanged, after a failure.

        ``signed``: headers made afresh for every attempt (a gateway signs each delivery)."""
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent["X-Api-Key"] = key
        if method == "POST" and key is not None:
            sent["Idempotency-Key"] = str(uuid.uuid4())
        sent |= headers or {}
        raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        self.counts["requests"] += 1
        attempts = self.harness.attempts
        for attempt in range(1, attempts + 1):
            if signed is not None:
                sent |= signed()
            try:
                with self.log.phase(f"{method} {path}"):
                    response = getattr(self.client.http, method.lower())(
                        path, headers=sent, body=raw
                    )
            except BaseException as error:
                if attempt == attempts or not self.harness.request_failed(error):
                    raise
                self.counts["retries"] += 1
                continue
            if response.status_code >= 500 and attempt < attempts:
                self.counts["retries"] += 1
                continue
            parsed = json.loads(response.body) if response.body else None
            return Answer(response.status_code, parsed)
        raise AssertionError("unreachable")

    def expect(self, answer: Answer, what: str, *statuses: int) -> bool:
        if answer.status in (statuses or (200, 201, 202)):
            return True
        self.violations.append(f"{what} answered {answer.status}: {answer.body}")
        return False

    def drain(self) -> None:
        with self.log.phase("pump"):
            self.pump.drain(max_rounds=DRAIN_ROUNDS)

    # --- the month ----------------------------------------------------------------------------

    def run(self, month: Plan) -> None:
        self.at.at(month.days[0].on, 5)
        self.open_accounts(month)
        for day in month.days:
            self.collect(day)
            self.adjust(day)
            self.take_payments(day)
            self.ship(day)
            self.take_orders(day, month)

    def open_accounts(self, month: Plan) -> None:
        for sku in ("WIDGET-1", "GADGET-2"):
            body = {"delta": STOCK_TOP_UP, "reason": "simulation stock"}
            self.expect(self.request("POST", f"/stock/{sku}/adjustments", body=body), "stock")
        for account in month.customers:
            answer = self.request("POST", "/customers", body=account.body())
            if not self.expect(answer, f"customer {account.ref}", 201):
                continue
            self.books.customers[account.ref] = answer.body["id"]
            # The customer's procurement system places its orders with a key bound to it alone
            body = {"name": f"{account.ref} procurement", "customer_ids": [answer.body["id"]]}
            partner = self.request("POST", "/partners", body=body)
            if self.expect(partner, f"partner of {account.ref}", 201):
                self.books.partner_keys[account.ref] = partner.body["api_key"]["secret"]
        self.drain()

    def collect(self, day: DayPlan) -> None:
        self.at.at(day.on, 6)
        answer = self.request("POST", "/collection-runs", body={"as_of": day.on.isoformat()})
        self.expect(answer, f"collection run {day.on}", 202)
        self.counts["collection_runs"] += 1
        self.drain()

    def take_payments(self, day: DayPlan) -> None:
        for n, dispute in enumerate((*day.disputes_opened, *day.disputes_closed)):
            self.at.at(day.on, 9, n)
            self.dispute(dispute, closed=dispute in day.disputes_closed)
        by_bank: dict[str, list[tuple[PaymentPlan, KnownInvoice]]] = defaultdict(list)
        for n, payment in enumerate(day.payments):
            invoice = self.books.invoices.get(payment.invoice)
            if invoice is None:
                self.violations.append(f"{payment.reference}: invoice {payment.invoice} not issued")
                continue
            self.at.at(day.on, 10, n)
            self.books.payments[payment.reference] = payment
            self.counts[f"payments.{payment.channel}"] += 1
            self.counts[f"payments.{payment.amount}"] += 1
            self.counts[f"payments.{payment.timing}"] += 1
            if payment.channel == "stripe":
                self.pay_by_card(payment, invoice)
            elif payment.channel == "cheque":
                self.pay_by_cheque(payment, invoice, day.on)
            else:
                by_bank[invoice.currency].append((payment, invoice))
        for n, (currency, credits) in enumerate(sorted(by_bank.items())):
            self.at.at(day.on, 11, n)
            content = statement_file(day.on, currency, credits, self.books)
            answer = self.request(
                "POST",
                "/bank-statements",
                body=content,
                headers={"Content-Type": "application/xml"},
            )
            self.expect(answer, f"statement {day.on} {currency}", 200, 201)
            self.counts["bank_files"] += 1
        self.drain()

    def adjust(self, day: DayPlan) -> None:
        """The day's partial credit notes, then its promises to pay."""
        for n, credit in enumerate(day.credit_notes):
            self.at.at(day.on, 7, n)
            self.credit(credit)
        for n, promise in enumerate(day.promises):
            self.at.at(day.on, 8, n)
            self.promise(promise, day.on + timedelta(days=promise.by_day - day.index))
        if day.credit_notes or day.promises:
            self.drain()

    def credit(self, credit: CreditPlan) -> None:
        invoice = self.books.invoices.get(credit.invoice)
        if invoice is None:
            self.violations.append(f"credit note on {credit.invoice}: invoice not issued")
            return
        line_no = invoice.lines.get(credit.order_line)
        if line_no is None:
            self.violations.append(f"{credit.invoice} bills no order line {credit.order_line}")
            return
        body = {
            "reason": "goods damaged in transit",
            "lines": [{"line_no": line_no, "quantity": str(credit.quantity)}],
        }
        path = f"/invoices/{invoice.invoice_id}/credit-notes"
        answer = self.request("POST", path, body=body)
        if self.expect(answer, f"credit note on {credit.invoice}", 201):
            invoice.credited += Decimal(answer.body["total"]["amount"])
            self.counts["credit_notes"] += 1

    def promise(self, promise: PromisePlan, by: date) -> None:
        invoice = self.books.invoices.get(promise.invoice)
        if invoice is None:
            self.violations.append(f"promise on {promise.invoice}: invoice not issued")
            return
        due = invoice.total - invoice.credited
        amount = due if promise.share == "all" else (due * PARTIAL_SHARE).quantize(CENT)
        body = {"promised_on": by.isoformat(), "amount": str(amount)}
        answer = self.request("POST", f"/invoices/{invoice.invoice_id}/promises", body=body)
        if self.expect(answer, f"promise on {promise.invoice}", 201):
            self.counts["promises"] += 1

    def pay_by_card(self, payment: PaymentPlan, invoice: KnownInvoice) -> None:
        cents = _cents(_amount(payment, invoice))
        self.books.paid[payment.reference] = (cents, invoice.currency)
        intent = {
            "id": payment.reference,
            "object": "payment_intent",
            "amount": cents,
            "amount_received": cents,
            "currency": invoice.currency.lower(),
            "created": int(clock.now().timestamp()),
            "latest_charge": _charge_id(payment.reference),
            "metadata": {"invoice_number": invoice.number, "customer_id": invoice.customer_id},
            "payment_method_types": ["card"],
            "status": "succeeded",
        }
        self.stripe(f"evt_{payment.reference}", "payment_intent.succeeded", intent)

    def dispute(self, dispute: DisputePlan, *, closed: bool) -> None:
        paid = self.books.paid.get(dispute.payment)
        if paid is None:
            return  # the payment was never made (its invoice was not issued)
        cents, currency = paid
        obj = {
            "id": dispute.reference,
            "object": "dispute",
            "amount": cents,
            "currency": currency.lower(),
            "charge": _charge_id(dispute.payment),
            "payment_intent": dispute.payment,
            "reason": "fraudulent",
            "status": dispute.closing if closed else "needs_response",
            "created": int(clock.now().timestamp()),
        }
        kind = "charge.dispute.closed" if closed else "charge.dispute.created"
        self.counts["disputes.closed" if closed else "disputes.opened"] += 1
        self.stripe(f"evt_{dispute.reference}_{'closed' if closed else 'created'}", kind, obj)

    def stripe(self, event_id: str, event_type: str, obj: dict[str, Any]) -> None:
        event = {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(clock.now().timestamp()),
            "data": {"object": obj},
            "livemode": False,
            "type": event_type,
        }
        content = json.dumps(event, indent=2)

        def signed() -> dict[str, str]:  # Stripe signs every delivery attempt when it sends it
            signature = stripe.WebhookSignature.generate_signature_header(
                content, stack.DEMO_WEBHOOK_SECRETS["stripe"], int(clock.now().timestamp())
            )
            return {"Stripe-Signature": str(signature)}

        answer = self.request(
            "POST",
            "/webhooks/stripe",
            body=content.encode(),
            key=None,
            headers={"User-Agent": "Stripe/1.0"},
            signed=signed,
        )
        self.expect(answer, f"stripe {event_id}", 200)

    def pay_by_cheque(self, payment: PaymentPlan, invoice: KnownInvoice, on: date) -> None:
        body = {
            "amount": str(_amount(payment, invoice)),
            "currency": invoice.currency,
            "method": "cheque",
            "received_on": on.isoformat(),
            "payer_name": self.legal_name(payment.customer),
            "reference": payment.reference,
            "remittance": invoice.number,
            "customer_id": invoice.customer_id,
        }
        self.expect(self.request("POST", "/payments", body=body), payment.reference, 201)

    def legal_name(self, ref: str) -> str:
        return f"Simulated Customer {ref} Ltd"

    def ship(self, day: DayPlan) -> None:
        shipped_for: set[str] = set()
        for n, shipment in enumerate(day.shipments):
            order_id = self.books.orders.get(shipment.purchase_order)
            if order_id is None:
                continue
            self.at.at(day.on, 12, n)
            body = {
                "carrier": "DHL",
                "tracking_number": f"SIM{shipment.purchase_order}{shipment.ordinal}".replace(
                    "-", ""
                ),
                "lines": [{"line_no": no, "quantity": qty} for no, qty in shipment.lines],
            }
            answer = self.request("POST", f"/orders/{order_id}/shipments", body=body)
            what = f"shipment {shipment.purchase_order}/{shipment.ordinal}"
            if self.expect(answer, what, 201):
                shipment_id = answer.body["shipment"]["shipment_id"]
                self.books.shipments[shipment_id] = (shipment.purchase_order, shipment.ordinal)
                self.counts["shipments"] += 1
                shipped_for.add(self.books.ordered_by[shipment.purchase_order])
        self.drain()
        for customer_id in sorted(shipped_for):
            self.learn_invoices(customer_id, day.on)

    def learn_invoices(self, customer_id: str, on: date) -> None:
        """The invoices issued to the customer on the day, by their business references."""
        cursor: str | None = None
        while True:
            path = f"/invoices?customer_id={customer_id}&issued_from={on}&issued_to={on}&limit=100"
            answer = self.request("GET", path + (f"&cursor={cursor}" if cursor else ""))
            if not self.expect(answer, f"invoices of {customer_id}", 200):
                return
            for found in answer.body["invoices"]:
                if found["kind"] != "invoice" or not found.get("shipment_ids"):
                    continue
                ref = self.books.billed(found["shipment_ids"])
                if ref is None:
                    continue
                self.books.invoices[ref] = KnownInvoice(
                    ref=ref,
                    invoice_id=found["id"],
                    number=found["number"],
                    total=Decimal(found["total"]["amount"]),
                    currency=found["currency"],
                    customer_id=customer_id,
                    lines={
                        line["order_line_no"]: line["line_no"]
                        for line in found.get("lines", ())
                        if line.get("order_line_no") is not None
                    },
                )
            cursor = answer.body.get("next_cursor")
            if not cursor:
                return

    def take_orders(self, day: DayPlan, month: Plan) -> None:
        for n, order in enumerate(day.orders):
            account = month.customer(order.customer)
            customer_id = self.books.customers.get(order.customer)
            if customer_id is None:
                continue
            self.at.at(day.on, 15, n)
            body = {
                "customer_id": customer_id,
                "currency": account.currency,
                "purchase_order": order.purchase_order,
                "lines": [{"sku": sku, "quantity": qty} for sku, qty in order.lines],
            }
            key = self.books.partner_keys.get(order.customer)
            if key is None:
                self.violations.append(f"order {order.purchase_order}: its partner holds no key")
                continue
            answer = self.request("POST", "/orders", body=body, key=key)
            if self.expect(answer, f"order {order.purchase_order}", 201):
                self.books.orders[order.purchase_order] = answer.body["id"]
                self.books.ordered_by[order.purchase_order] = customer_id
                self.counts["orders"] += 1
        self.drain()
        self.release_held(day)

    def release_held(self, day: DayPlan) -> None:
        """The credit manager approves the day's orders credit control held (over the limit, or
        a customer on a dunning credit hold), as the business goes on shipping to them."""
        for order in day.orders:
            order_id = self.books.orders.get(order.purchase_order)
            if order_id is None:
                continue
            placed = self.request("GET", f"/orders/{order_id}")
            if placed.status == 200 and placed.body["status"] == "on_hold":
                answer = self.request("POST", f"/orders/{order_id}/approve", body={})
                if self.expect(answer, f"approval of {order.purchase_order}", 200):
                    self.counts["orders.released_from_hold"] += 1
        self.drain()


def statement_file(
    on: date, currency: str, credits: list[tuple[PaymentPlan, KnownInvoice]], books: Books
) -> bytes:
    """A camt.053.001.08 end-of-day statement: one booked credit per payment."""
    entries = []
    for payment, invoice in credits:
        amount = _amount(payment, invoice)
        books.paid[payment.reference] = (_cents(amount), currency)
        entries.append(
            f"""<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{on}</Dt></BookgDt><ValDt><Dt>{on}</Dt></ValDt>
<AcctSvcrRef>{payment.reference}</AcctSvcrRef><NtryDtls><TxDtls>
<Refs><EndToEndId>{payment.reference}</EndToEndId></Refs>
<RltdPties><Dbtr><Pty><Nm>{escape(f"Simulated Customer {payment.customer} Ltd")}</Nm></Pty></Dbtr>
<DbtrAcct><Id><IBAN>{PAYER_IBAN}</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>{escape(invoice.number)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>SIM-{on:%Y%m%d}-{currency}</MsgId><CreDtTm>{on}T18:00:00+00:00</CreDtTm></GrpHdr>
<Stmt><Id>SIMSTMT-{on:%Y%m%d}-{currency}</Id><CreDtTm>{on}T18:00:00+00:00</CreDtTm>
<Acct><Id><IBAN>{SELLER_IBAN}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
{"".join(entries)}</Stmt></BkToCstmrStmt></Document>""".encode()


def _amount(payment: PaymentPlan, invoice: KnownInvoice) -> Decimal:
    """What the customer pays: what it owes (the total less credit notes), half, or more."""
    owed = invoice.total - invoice.credited
    if payment.amount == "partial":
        return (owed * PARTIAL_SHARE).quantize(CENT)
    if payment.amount == "over":
        return owed + OVERPAID_BY
    return owed


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _charge_id(reference: str) -> str:
    return "ch_" + reference.removeprefix("pi_")
