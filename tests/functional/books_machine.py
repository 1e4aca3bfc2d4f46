"""A hypothesis state machine that drives the API through random sequences of what happens to a
customer's money, and checks after every step that every view of it agrees (one set of books).

Each example opens a new customer through the API and plays random steps on it: orders shipped
whole or in parts (invoices follow), credit notes (partial and full, on open and on paid
invoices), payments by cheque, bank transfer and card (part, whole and too much), partial card
refunds and disputes won or lost (Stripe events signed with Stripe's library), days passing, and
collection runs that remind, charge fees and interest and put customers on hold, and clerks
settling those fees and interest with the customer's cash or credit. After every step the
identities of shared/domain/reconciliation.py are checked over the API: the statement, the aging
report's row, the credit figures, every invoice's and charge's amount due, and the aging report
against the trial balance (the receivables control account).

The same machine runs small in ``make test`` (tests/functional/test_books_state_machine.py) and
large in ``make bench`` (bench/books.py), which reports the steps run and identities checked.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalice.test import Client
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from shared import clock
from shared.domain import reconciliation
from shared.domain.reconciliation import CustomerViews
from tests.functional import bank_files
from tests.functional.accounts import Answer, call, create_customer
from tests.functional.conftest import World
from tests.functional.invoicing import import_receivables
from tests.functional.payment_intake import (
    charge,
    dispute,
    payment_intent,
    post_stripe,
    stripe_event,
    stripe_signature,
)

CENT = Decimal("0.01")
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
SKUS = (("WIDGET-1", "19.99"), ("GADGET-2", "0.125"))
POLICIES = ("default", "strict")
CREDIT_LIMIT = "100000.00"


@dataclass
class Tally:
    """What the machine did, over every example: steps by name and identities checked."""

    steps: Counter[str] = field(default_factory=Counter)
    checks: int = 0
    differences: list[str] = field(default_factory=list)


@dataclass
class BankCredit:
    reference: str  # the bank's AcctSvcrRef
    amount: Decimal
    reversed: bool = False


@dataclass
class CardPayment:
    intent_id: str
    charge_id: str
    cents: int
    metadata: dict[str, str]
    refunded: int = 0
    disputed: bool = False

    @property
    def refundable(self) -> bool:
        return not self.disputed and self.refunded < self.cents


class SharedClock:
    """The simulated now, moving only forward across examples (the world is shared)."""

    def __init__(self) -> None:
        self.now = START

    def set(self) -> None:
        moment = self.now
        clock.set_clock(lambda: moment)

    def advance(self, days: int, hours: int = 0) -> None:
        self.now += timedelta(days=days, hours=hours)
        self.set()


def books_machine(
    client: Client, world: World, tally: Tally, renew: Callable[[], None] | None = None
) -> type[RuleBasedStateMachine]:
    """The machine class for one world: every example opens its own customer in it.

    ``renew`` puts the world back as seeded before each example (the clock back to its start):
    every view reads every customer of the world, so a long run in one world grows slower with
    each example; without it the examples share the world, as in ``make test``.
    """
    now = SharedClock()

    class Books(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            if renew is not None:
                renew()
                now.now = START
            self.customer_id = ""
            self.orders: dict[str, dict[int, int]] = {}  # order id -> line no -> qty unshipped
            self.invoices: list[dict[str, Any]] = []  # the customer's invoices, as last read
            self.cards: list[CardPayment] = []
            self.bank_credits: list[BankCredit] = []
            self.partly_shipped: set[str] = set()  # orders with something shipped, some not
            self.write_offs: list[tuple[str, str]] = []  # (invoice id, write-off id) standing
            self.business = 0  # steps since days last passed: a day sees some business first

        # --- helpers -----------------------------------------------------------------------

        def step(self, name: str) -> None:
            tally.steps[name] += 1
            self.business = 0 if name == "days_pass_and_collect" else self.business + 1

        def drain(self) -> None:
            world.pump.drain()

        def expect(self, answer: Answer, *statuses: int) -> Answer:
            assert answer.status in statuses, (answer.status, answer.body)
            assert answer.status < 500, answer.body
            return answer

        def learn(self) -> None:
            found: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                query = f"/invoices?customer_id={self.customer_id}&limit=100"
                page = self.expect(
                    call(client, "GET", query + (f"&cursor={cursor}" if cursor else "")), 200
                )
                found += page.body["invoices"]
                if not (cursor := page.body.get("next_cursor")):
                    break
            self.invoices = found

        def open_invoices(self) -> list[dict[str, Any]]:
            return [
                invoice
                for invoice in self.invoices
                if invoice["kind"] == "invoice" and Decimal(invoice["amount_due"]["amount"]) > 0
            ]

        def issued(self) -> list[dict[str, Any]]:
            return [invoice for invoice in self.invoices if invoice["kind"] == "invoice"]

        def creditable(self) -> list[dict[str, Any]]:
            """Invoices issued here (a legacy invoice has no lines to credit)."""
            return [invoice for invoice in self.issued() if not invoice.get("legacy")]

        # --- the customer ------------------------------------------------------------------

        @initialize(
            policy=st.sampled_from(POLICIES),
            net_days=st.sampled_from((0, 7, 14, 30)),
            credits=st.sampled_from(("manual", "oldest_first")),
        )
        def open_account(self, policy: str, net_days: int, credits: str) -> None:
            now.advance(days=1)
            customer = create_customer(
                client,
                legal_name=f"Books Test {uuid.uuid4().hex[:6]} GmbH",
                billing_email="ap@books.example",
                payment_terms={"kind": "net", "net_days": net_days}
                if net_days
                else {"kind": "due_on_receipt"},
                dunning_policy=policy,
                credit_limit=CREDIT_LIMIT,
                credit_application=credits,
            )
            self.customer_id = customer["id"]
            self.step("open_account")

        # --- orders and invoices -----------------------------------------------------------

        @rule(
            quantities=st.lists(st.integers(1, 4), min_size=1, max_size=2),
            whole=st.booleans(),
        )
        def order(self, quantities: list[int], whole: bool) -> None:
            lines = [
                {"sku": sku, "quantity": qty, "unit_price": price}
                for (sku, price), qty in zip(SKUS, quantities, strict=False)
            ]
            body = {
                "customer_id": self.customer_id,
                "currency": "EUR",
                "purchase_order": f"PO-{uuid.uuid4().hex[:8]}",
                "lines": lines,
            }
            placed = self.expect(call(client, "POST", "/orders", body=body), 201)
            self.drain()
            order = self.expect(call(client, "GET", f"/orders/{placed.body['id']}"), 200).body
            if order["status"] == "on_hold":  # a customer dunning put on hold: credit decides
                path = f"/orders/{order['id']}/approve"
                approved = call(client, "POST", path, body={"reason": "paid up"})
                order = self.expect(approved, 200).body
                self.drain()
                self.step("order_approved")
            self.step("order")
            assert order["status"] == "confirmed", order
            unshipped = {line["line_no"]: int(line["quantity"]) for line in order["lines"]}
            self.orders[order["id"]] = unshipped
            self.ship(order["id"], whole=whole)

        def ship(self, order_id: str, *, whole: bool) -> None:
            unshipped = self.orders[order_id]
            shipping = {no: qty if whole else max(qty // 2, 1) for no, qty in unshipped.items()}
            body = {
                "carrier": "DHL",
                "tracking_number": f"JD{uuid.uuid4().hex[:10]}",
                "lines": [{"line_no": no, "quantity": qty} for no, qty in shipping.items()],
            }
            self.expect(call(client, "POST", f"/orders/{order_id}/shipments", body=body), 201)
            self.drain()
            for no, qty in shipping.items():
                unshipped[no] -= qty
            self.orders[order_id] = {no: qty for no, qty in unshipped.items() if qty}
            self.partly_shipped.add(order_id)
            if not self.orders[order_id]:
                del self.orders[order_id]
                self.partly_shipped.discard(order_id)
            self.learn()
            self.step("ship" if whole else "ship_part")

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data())
        def ship_rest(self, data: st.DataObject) -> None:
            order_id = data.draw(st.sampled_from(sorted(self.orders)))
            self.ship(order_id, whole=True)

        @precondition(lambda self: bool(self.partly_shipped))
        @rule(data=st.data())
        def close_rest(self, data: st.DataObject) -> None:
            """The customer will not take the rest: the partly shipped order closes."""
            order_id = data.draw(st.sampled_from(sorted(self.partly_shipped)))
            body = {"reason": "rest no longer needed"}
            self.expect(call(client, "POST", f"/orders/{order_id}/close", body=body), 200)
            self.drain()
            self.partly_shipped.discard(order_id)
            del self.orders[order_id]
            self.learn()
            self.step("close_rest")

        @precondition(lambda self: bool(self.creditable()))
        @rule(data=st.data(), whole=st.booleans())
        def credit(self, data: st.DataObject, whole: bool) -> None:
            invoice = data.draw(st.sampled_from(self.creditable()))
            body: dict[str, Any] = {"reason": "Goods returned"}
            if not whole:
                body["lines"] = [{"line_no": invoice["lines"][0]["line_no"], "quantity": "1"}]
            answer = call(client, "POST", f"/invoices/{invoice['id']}/credit-notes", body=body)
            self.expect(answer, 201, 409, 422)  # 422: nothing left to credit on that line
            self.drain()
            self.learn()
            self.step("credit_note" if answer.status == 201 else "credit_note_refused")

        # --- money in ----------------------------------------------------------------------

        @precondition(lambda self: bool(self.issued()))
        @rule(
            data=st.data(),
            share=st.sampled_from((Decimal("0.4"), Decimal(1), Decimal("1.25"))),
            method=st.sampled_from(("cheque", "wire")),
        )
        def pay_manually(self, data: st.DataObject, share: Decimal, method: str) -> None:
            invoice = data.draw(st.sampled_from(self.issued()))
            paid = _share(invoice["total"]["amount"], share)
            body = {
                "amount": str(paid),
                "currency": "EUR",
                "method": method,
                "received_on": now.now.date().isoformat(),
                "payer_name": "Books Test",
                "reference": uuid.uuid4().hex[:10],
                "remittance": invoice["number"],
                "customer_id": self.customer_id,
            }
            self.expect(call(client, "POST", "/payments", body=body), 201)
            self.drain()
            self.learn()
            self.step(f"pay_{method}")

        @precondition(lambda self: bool(self.issued()))
        @rule(data=st.data(), share=st.sampled_from((Decimal("0.5"), Decimal(1))))
        def pay_by_card(self, data: st.DataObject, share: Decimal) -> None:
            invoice = data.draw(st.sampled_from(self.issued()))
            cents = int(_share(invoice["total"]["amount"], share) * 100)
            tag = uuid.uuid4().hex[:12]
            metadata = {"invoice_number": invoice["number"], "customer_id": self.customer_id}
            card = CardPayment(f"pi_{tag}", f"ch_{tag}", cents, metadata)
            intent = payment_intent(card.intent_id, cents, metadata=metadata, payer="Books Test")
            intent["charges"]["data"][0]["id"] = intent["latest_charge"] = card.charge_id
            self.stripe("payment_intent.succeeded", intent)
            self.cards.append(card)
            self.learn()
            self.step("pay_card")

        @precondition(lambda self: bool(self.issued()))
        @rule(data=st.data(), share=st.sampled_from((Decimal("0.5"), Decimal(1), Decimal("1.1"))))
        def pay_by_bank(self, data: st.DataObject, share: Decimal) -> None:
            """A credit transfer quoting the invoice number, in the bank's camt.053 file."""
            invoice = data.draw(st.sampled_from(self.issued()))
            credit = BankCredit(
                f"BANK-{uuid.uuid4().hex[:10]}", _share(invoice["total"]["amount"], share)
            )
            entry = bank_files.credit(
                credit.amount,
                reference=credit.reference,
                remittance=invoice["number"],
                day=now.now.date().isoformat(),
            )
            self.import_statement(entry)
            self.bank_credits.append(credit)
            self.step("pay_bank_file")

        @precondition(lambda self: any(not c.reversed for c in self.bank_credits))
        @rule(data=st.data())
        def bank_reverses(self, data: st.DataObject) -> None:
            """The bank takes a credit back (RvslInd) naming the original by its reference."""
            credit = data.draw(st.sampled_from([c for c in self.bank_credits if not c.reversed]))
            credit.reversed = True
            entry = bank_files.reversal(
                credit.amount,
                reference=f"REV-{uuid.uuid4().hex[:10]}",
                original=credit.reference,
                day=now.now.date().isoformat(),
            )
            self.import_statement(entry)
            self.step("bank_reversal")

        def import_statement(self, *entries: str) -> None:
            content = bank_files.statement(*entries, statement_id=f"STMT-{uuid.uuid4().hex[:8]}")
            response = bank_files.post_statement(client, content)
            assert response.status_code == 201, response.body
            self.drain()
            self.learn()

        @precondition(lambda self: bool(self.open_invoices()))
        @rule(data=st.data(), whole=st.booleans())
        def write_off(self, data: st.DataObject, whole: bool) -> None:
            """A credit manager gives up on (part of) an invoice as bad debt."""
            invoice = data.draw(st.sampled_from(self.open_invoices()))
            due = Decimal(invoice["amount_due"]["amount"])
            amount = due if whole else max((due / 2).quantize(CENT, ROUND_HALF_UP), CENT)
            body = {"amount": str(amount), "reason": "customer insolvent"}
            answer = call(client, "POST", f"/invoices/{invoice['id']}/write-offs", body=body)
            self.expect(answer, 201, 409)  # 409: disputed, or a race with the workers
            self.drain()
            if answer.status == 201:
                self.write_offs.append((invoice["id"], answer.body["write_off"]["id"]))
            self.learn()
            self.step("write_off" if answer.status == 201 else "write_off_refused")

        @precondition(lambda self: bool(self.write_offs))
        @rule(data=st.data())
        def reverse_write_off(self, data: st.DataObject) -> None:
            invoice_id, write_off_id = data.draw(st.sampled_from(self.write_offs))
            self.write_offs.remove((invoice_id, write_off_id))
            path = f"/invoices/{invoice_id}/write-offs/{write_off_id}/reversal"
            self.expect(call(client, "POST", path, body={"reason": "dividend paid"}), 200)
            self.drain()
            self.learn()
            self.step("write_off_reversed")

        # Stripe refuses to refund a charged-back charge (the dispute's is_charge_refundable is
        # false once its funds are withdrawn), so a disputed card is never refunded here.
        @precondition(lambda self: any(c.refundable for c in self.cards))
        @rule(data=st.data(), share=st.sampled_from((Decimal("0.25"), Decimal("0.5"), Decimal(1))))
        def refund_card(self, data: st.DataObject, share: Decimal) -> None:
            card = data.draw(st.sampled_from([c for c in self.cards if c.refundable]))
            more = max(int((card.cents * share).to_integral_value(ROUND_HALF_UP)), 1)
            card.refunded = min(card.cents, card.refunded + more)
            refunded = charge(
                card.charge_id,
                card.intent_id,
                card.cents,
                metadata=card.metadata,
                amount_refunded=card.refunded,
            )
            self.stripe("charge.refunded", refunded)
            self.learn()
            self.step("refund_card_in_full" if card.refunded == card.cents else "refund_card_part")

        @precondition(lambda self: any(not c.disputed and not c.refunded for c in self.cards))
        @rule(data=st.data(), won=st.booleans(), part=st.booleans())
        def dispute_card(self, data: st.DataObject, won: bool, part: bool) -> None:
            card = data.draw(
                st.sampled_from([c for c in self.cards if not c.disputed and not c.refunded])
            )
            card.disputed = True
            cents = card.cents // 2 if part and card.cents > 1 else card.cents
            opened = dispute(dispute_id=f"dp_{card.charge_id[3:]}", amount=cents)
            opened |= {"charge": card.charge_id, "payment_intent": card.intent_id}
            self.stripe("charge.dispute.created", opened)
            closed = opened | {"status": "won" if won else "lost"}
            self.stripe("charge.dispute.closed", closed)
            self.learn()
            self.step(f"dispute_{'won' if won else 'lost'}{'_part' if part else ''}")

        def stripe(self, event_type: str, obj: dict[str, Any]) -> None:
            moment = int(now.now.timestamp())
            obj["created"] = moment - 5
            event = json.loads(stripe_event(event_type, obj))
            event["created"] = moment
            body = json.dumps(event, indent=2).encode()
            signed = {"Stripe-Signature": stripe_signature(body, timestamp=moment)}
            response = post_stripe(client, body, signed)
            assert response.status_code == 200, response.body
            self.drain()

        # --- the customer's credit -------------------------------------------------------

        def credits(self) -> list[dict[str, Any]]:
            listed = self.expect(call(client, "GET", f"/customers/{self.customer_id}/credits"), 200)
            return [c for c in listed.body["credits"] if Decimal(c["remaining"]["amount"]) > 0]

        @precondition(lambda self: bool(self.cards or self.bank_credits or self.invoices))
        @rule(data=st.data(), whole=st.booleans())
        def apply_credit(self, data: st.DataObject, whole: bool) -> None:
            """A clerk applies a credit of the customer to one of its open invoices."""
            credits, open_invoices = self.credits(), self.open_invoices()
            if not credits or not open_invoices:
                self.step("apply_credit_nothing_to_apply")
                return
            credit = data.draw(st.sampled_from(credits))
            invoice = data.draw(st.sampled_from(open_invoices))
            most = min(
                Decimal(credit["remaining"]["amount"]), Decimal(invoice["amount_due"]["amount"])
            )
            amount = most if whole else max((most / 2).quantize(CENT, ROUND_HALF_UP), CENT)
            body = {"source": credit["source"], "invoice_id": invoice["id"], "amount": str(amount)}
            path = f"/customers/{self.customer_id}/credits/applications"
            answer = self.expect(call(client, "POST", path, body=body), 201, 409, 422)
            self.drain()
            self.learn()
            self.step("apply_credit" if answer.status == 201 else "apply_credit_refused")

        @precondition(lambda self: bool(self.cards or self.bank_credits or self.invoices))
        @rule(data=st.data(), by_allocation=st.booleans(), whole=st.booleans())
        def settle_charge(self, data: st.DataObject, by_allocation: bool, whole: bool) -> None:
            """A clerk settles an open fee or interest charge with a credit of the customer:
            allocating a payment's unapplied cash to it, or applying a credit to it."""
            path = f"/customers/{self.customer_id}/charges"
            charges = self.expect(call(client, "GET", path), 200).body["charges"]
            credits = self.credits()
            cash = [c for c in credits if c["source"]["kind"] == "payment"]
            by_allocation = by_allocation and bool(cash)  # only a payment's cash is allocated
            credits = cash if by_allocation else credits
            if not charges or not credits:
                self.step("settle_charge_nothing_to_settle")
                return
            charge = data.draw(st.sampled_from(charges))
            credit = data.draw(st.sampled_from(credits))
            most = min(
                Decimal(credit["remaining"]["amount"]), Decimal(charge["amount_due"]["amount"])
            )
            amount = most if whole else max((most / 2).quantize(CENT, ROUND_HALF_UP), CENT)
            if by_allocation:
                line = {"charge_id": charge["id"], "amount": str(amount)}
                target = f"/payments/{credit['source']['id']}/allocations"
                answer = call(client, "POST", target, body={"allocations": [line]})
            else:
                body = {
                    "source": credit["source"],
                    "charge_id": charge["id"],
                    "amount": str(amount),
                }
                target = f"/customers/{self.customer_id}/credits/applications"
                answer = call(client, "POST", target, body=body)
            self.expect(answer, 201, 409, 422)
            self.drain()
            self.learn()
            how = "allocation" if by_allocation else "credit"
            self.step(
                f"settle_charge_by_{how}" if answer.status == 201 else "settle_charge_refused"
            )

        @precondition(lambda self: bool(self.cards or self.bank_credits or self.invoices))
        @rule(data=st.data(), method=st.sampled_from(("bank_transfer", "cheque")))
        def refund_credit(self, data: st.DataObject, method: str) -> None:
            """The seller pays a credit back by transfer or cheque (card money: Stripe's way)."""
            recorded = [c for c in self.credits() if c["refund_channel"] == "recorded"]
            if not recorded:
                self.step("refund_credit_nothing_to_refund")
                return
            credit = data.draw(st.sampled_from(recorded))
            body = {
                "source": credit["source"],
                "amount": credit["remaining"]["amount"],
                "method": method,
                "reference": f"OUT-{uuid.uuid4().hex[:8]}",
            }
            path = f"/customers/{self.customer_id}/credits/refunds"
            answer = self.expect(call(client, "POST", path, body=body), 201, 409, 422)
            self.drain()
            self.learn()
            self.step("refund_credit" if answer.status == 201 else "refund_credit_refused")

        # --- migrated receivables ----------------------------------------------------------

        @rule(
            open_share=st.sampled_from((Decimal("0.3"), Decimal(1))),
            days_overdue=st.sampled_from((-10, 5, 40, 100)),
        )
        def import_legacy(self, open_share: Decimal, days_overdue: int) -> None:
            """A receivable of the old system arrives by the CSV migration."""
            due = now.now.date() - timedelta(days=days_overdue)
            issued = due - timedelta(days=30)
            number = f"OLD-{issued.year}-{uuid.uuid4().int % 10**6:06d}"
            original = Decimal("250.00")
            row = (
                f"{self.customer_id},{number},{issued},{due},EUR,{original},"
                f"{(original * open_share).quantize(CENT)}"
            )
            body = "customer_id,invoice_number,issue_date,due_date,currency,original_amount,"
            body += f"open_amount\n{row}\n"
            import_receivables(client, world, body)
            self.learn()
            self.step("import_legacy")

        def migrated(self) -> list[dict[str, Any]]:
            return [invoice for invoice in self.issued() if invoice.get("legacy")]

        @precondition(lambda self: bool(self.migrated()))
        @rule(data=st.data(), net=st.sampled_from(("10.00", "84.03", "300.00")))
        def credit_migrated(self, data: st.DataObject, net: str) -> None:
            """A migrated invoice is credited by an amount (300.00 + VAT is beyond any of them)."""
            invoice = data.draw(st.sampled_from(self.migrated()))
            amount = {"description": "Agreed reduction", "net_amount": net}
            body = {"reason": "Agreed", "amounts": [{**amount, "tax_category": "standard"}]}
            answer = call(client, "POST", f"/invoices/{invoice['id']}/credit-notes", body=body)
            self.expect(answer, 201, 409, 422)  # beyond its opening balance, or fully credited
            self.drain()
            self.learn()
            self.step("credit_migrated" if answer.status == 201 else "credit_migrated_refused")

        # --- time and collections ----------------------------------------------------------

        @precondition(lambda self: self.business >= 2)
        @rule(days=st.sampled_from((1, 8, 15, 31)))
        def days_pass(self, days: int) -> None:
            """Days pass; the day's collection run reminds, charges and holds (06:00 UTC)."""
            now.advance(days=days)
            self.expect(call(client, "POST", "/collection-runs", body={}), 202)
            self.drain()
            self.learn()
            self.step("days_pass_and_collect")

        # --- the identities ----------------------------------------------------------------

        @invariant()
        def every_view_agrees(self) -> None:
            if not self.customer_id:
                return
            get = api_get(client)
            found = reconciliation.customer_differences(read_views(get, self.customer_id))
            found += reconciliation.books_differences(*read_books(get))
            tally.checks += 1
            tally.differences += found
            assert found == [], found

    return Books


Get = Callable[[str], Any]  # a GET of a path, answering an Answer-like (status, body)


def api_get(client: Client) -> Get:
    """GETs as the admin, straight through the test client."""
    return lambda path: call(client, "GET", path)


def read_views(get: Get, customer_id: str) -> CustomerViews:
    """The customer's views of today, each read over the API."""
    today = clock.now().date().isoformat()
    statement = _read(get, f"/customers/{customer_id}/statement?to={today}")
    aging = _read(get, f"/reports/aging?as_of={today}")
    rows = [
        row
        for group in aging["currencies"]
        for row in group["customers"]
        if row.get("customer_id") == customer_id
    ]
    return CustomerViews(
        customer_id=customer_id,
        statement=statement,
        aging_row=rows[0] if rows else None,
        credit=_read(get, f"/customers/{customer_id}").get("credit"),
        invoices=_read(get, f"/invoices?customer_id={customer_id}&limit=100")["invoices"],
        charges=_read(get, f"/customers/{customer_id}/charges?status=all")["charges"],
    )


def read_books(get: Get) -> tuple[dict[str, Any], dict[str, Any]]:
    """Today's aging report and trial balance, read over the API."""
    today = clock.now().date().isoformat()
    return (
        _read(get, f"/reports/aging?as_of={today}"),
        _read(get, f"/ledger/trial-balance?as_of={today}"),
    )


def _read(get: Get, path: str) -> dict[str, Any]:
    answer = get(path)
    assert answer.status == 200, (path, answer.body)
    body: dict[str, Any] = answer.body
    return body


def _share(total: str, share: Decimal) -> Decimal:
    return max((Decimal(total) * share).quantize(CENT, ROUND_HALF_UP), CENT)
