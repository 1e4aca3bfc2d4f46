"""The final state of a simulated month, read back and named by business references.

``Books`` is what the driver learnt from the API's answers (business reference -> generated id);
``State`` reads the table and moto's SES after a run and gives its ``digest`` (keyed by customer
refs, purchase orders, invoice refs = order + shipment ordinals, payment references: never by
generated ids or numbers, so two runs of one plan compare equal), its ``counts`` and the
invariants that did not hold (``violations``).
"""

from __future__ import annotations

import email
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

from bench.simulation_plan import PaymentPlan, invoice_ref
from infra.local import stack
from infra.wiring import cfn_yaml
from shared.domain.invoice import Invoice
from shared.domain.ledger import Account, JournalEntry, balances
from shared.domain.order import Order
from shared.domain.payment import Payment
from shared.store import invoices as invoice_store
from shared.store import ledger as ledger_store
from shared.store import orders as order_store
from shared.store import payments as payment_store

_INVOICE_NUMBER = re.compile(r"\b[A-Z]{2,4}-\d{4}-\d{4,}\b")
_TRACKING_NUMBER = re.compile(r"\bSIMPO\d+\b")  # the simulation's own, one per shipment


@dataclass
class KnownInvoice:
    ref: str
    invoice_id: str
    number: str
    total: Decimal
    currency: str
    customer_id: str
    lines: dict[int, int] = field(default_factory=dict)  # order line_no -> invoice line_no
    credited: Decimal = Decimal(0)  # what credit notes took off it


@dataclass
class Books:
    """What the driver learnt from the API's answers, by business reference."""

    customers: dict[str, str] = field(default_factory=dict)  # ref -> customer id
    partner_keys: dict[str, str] = field(default_factory=dict)  # customer ref -> partner's key
    orders: dict[str, str] = field(default_factory=dict)  # purchase order -> order id
    ordered_by: dict[str, str] = field(default_factory=dict)  # purchase order -> customer id
    shipments: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (PO, ordinal)
    invoices: dict[str, KnownInvoice] = field(default_factory=dict)  # invoice ref -> invoice
    payments: dict[str, PaymentPlan] = field(default_factory=dict)  # reference -> its plan
    paid: dict[str, tuple[int, str]] = field(default_factory=dict)  # reference -> cents, cur.

    def billed(self, shipment_ids: Iterable[str]) -> str | None:
        """The business reference of the invoice of those shipments (None: not all known)."""
        billed = [self.shipments.get(shipment_id) for shipment_id in shipment_ids]
        known = [pair for pair in billed if pair is not None]
        if not known or len(known) < len(billed):
            return None
        return invoice_ref(known[0][0], tuple(sorted(ordinal for _, ordinal in known)))


@dataclass
class State:
    """The final state, read from the table and moto's SES, named by business references."""

    books: Books
    orders: list[Order]
    invoices: list[Invoice]
    payments: list[Payment]
    entries: list[JournalEntry]
    levels: list[dict[str, Any]]
    reminders: list[dict[str, Any]]
    dunning: list[dict[str, Any]]  # each invoice's collection state
    promises: list[dict[str, Any]]  # every promise to pay recorded
    emails: list[tuple[str, str, str]]  # (recipient, subject, HTML body or attachment names)
    unreadable: list[str]

    @classmethod
    def read(cls, infra: boto3.session.Session, outputs: dict[str, str], books: Books) -> State:
        from shared.store.table import from_dynamo

        scan = infra.client("dynamodb").get_paginator("scan")
        pages = scan.paginate(TableName=outputs["TableName"])
        by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for page in pages:
            for raw in page["Items"]:
                item = from_dynamo(raw)
                by_entity[str(item.get("entity"))].append(item)
        unreadable: list[str] = []
        return cls(
            books=books,
            orders=[order_store.from_item(item) for item in by_entity["Order"]],
            invoices=[
                invoice_store.from_item(item) for item in by_entity["Invoice"] if "document" in item
            ],
            payments=[payment_store.from_item(item) for item in by_entity["Payment"]],
            entries=_entries(by_entity["LedgerEntry"], unreadable),
            levels=by_entity["DunningLevel"],
            reminders=by_entity["Reminder"],
            dunning=by_entity["DunningState"],
            promises=by_entity["PromiseToPay"],
            emails=_emails(infra.region_name),
            unreadable=unreadable,
        )

    # --- names ---------------------------------------------------------------------------------

    def customer_ref(self, customer_id: str | None) -> str:
        for ref, known in self.books.customers.items():
            if known == customer_id:
                return ref
        return str(customer_id)

    def invoice_refs(self) -> dict[str, str]:
        """Invoice id -> business reference: order + shipment ordinals (``PO/1+2``); a credit
        note, its invoice's and its rank among that invoice's notes (``PO/1+2/credit-1``)."""
        refs = {}
        notes: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in self.invoices:
            ref = self.books.billed(invoice.shipment_ids)
            if invoice.kind.value == "invoice" and ref is not None:
                refs[invoice.invoice_id] = ref
            elif invoice.kind.value == "credit_note" and invoice.credited_invoice_id:
                notes[invoice.credited_invoice_id].append(invoice)
            else:
                refs[invoice.invoice_id] = f"{invoice.kind.value}:{invoice.number}"
        for credited_id, issued in notes.items():
            credited = refs.get(credited_id, credited_id)
            for rank, note in enumerate(sorted(issued, key=lambda n: n.number), start=1):
                refs[note.invoice_id] = f"{credited}/credit-{rank}"
        return refs

    def email_keys(self) -> list[str]:
        """Each e-mail as ``recipient|subject|invoices``, invoice numbers named by reference."""
        by_number = {invoice.number: ref for invoice, ref in self._invoices_with_refs()}
        keys = []
        for recipient, subject, text in self.emails:
            named = _INVOICE_NUMBER.sub(lambda m: by_number.get(m.group(0), "?"), subject)
            mentioned = sorted(
                {by_number.get(n, "?") for n in _INVOICE_NUMBER.findall(text)}
                | set(_TRACKING_NUMBER.findall(text))
            )
            keys.append(f"{recipient}|{named}|{'+'.join(mentioned)}")
        return keys

    def _invoices_with_refs(self) -> list[tuple[Invoice, str]]:
        refs = self.invoice_refs()
        return [(invoice, refs[invoice.invoice_id]) for invoice in self.invoices]

    # --- digest and counts ---------------------------------------------------------------------

    def digest(self) -> dict[str, Any]:
        refs = self.invoice_refs()
        by_customer: dict[str, list[JournalEntry]] = defaultdict(list)
        for entry in self.entries:
            by_customer[self.customer_ref(entry.customer_id)].append(entry)
        charges = {
            f"{entry.kind}|{_charge_ref(entry, refs)}": str(entry.total)
            for entry in self.entries
            if entry.kind in ("fee", "interest")
        }
        return {
            "ledger": {
                ref: {
                    str(account): str(amount)
                    for account, amount in sorted(balances(entries).items())
                }
                for ref, entries in sorted(by_customer.items())
            },
            "orders": {
                str(order.purchase_order): {
                    "status": order.status.value,
                    "shipped": [line.shipped for line in order.lines],
                }
                for order in sorted(self.orders, key=lambda o: str(o.purchase_order))
            },
            "invoices": {
                ref: {
                    "status": invoice.status.value,
                    "total": str(invoice.total),
                    "amount_due": str(invoice.amount_due),
                }
                for invoice, ref in sorted(self._invoices_with_refs(), key=lambda pair: pair[1])
            },
            "payments": {
                payment.external_id: {
                    "source": payment.source,
                    "status": payment.status.value,
                    "applied": str(payment.applied),
                    "refunded": str(payment.refunded),
                    "invoices": sorted(
                        refs.get(a.invoice_id, a.invoice_id)
                        for a in payment.allocations
                        if a.reversed_at is None
                    ),
                }
                for payment in sorted(self.payments, key=lambda p: p.external_id)
            },
            "emails": dict(sorted(Counter(self.email_keys()).items())),
            "charges": dict(sorted(charges.items())),
            "reminders": {
                f"{self.customer_ref(item['customer_id'])}|{item['as_of']}": sorted(
                    f"{refs.get(line['invoice_id'], '?')}@{line.get('level_name')}"
                    for line in item["lines"]
                )
                for item in sorted(self.reminders, key=lambda r: (r["customer_id"], r["as_of"]))
            },
            "collections": self._collections(refs),
        }

    def _collections(self, refs: dict[str, str]) -> dict[str, Any]:
        """Per invoice: its dunning level, interest charged, open promise and broken flag, and
        every promise recorded (when it is due, how much, of how much due then)."""
        found: dict[str, Any] = {}
        for item in self.dunning:
            promise = item.get("promise") or {}
            level = item.get("last_level")
            found[refs.get(item["invoice_id"], item["invoice_id"])] = {
                "level": None if level is None else int(level),
                "interest_charged": str(item.get("interest_charged", 0)),
                "open_promise": promise.get("promised_on"),
                "broken_promise": bool(item.get("broken_promise")),
            }
        promised: dict[str, list[str]] = defaultdict(list)
        for item in self.promises:
            promised[refs.get(item["invoice_id"], item["invoice_id"])].append(
                f"{item['promised_on']}|{item['amount']}|{item['due_when_made']}"
            )
        return {
            "states": dict(sorted(found.items())),
            "promises": {ref: sorted(made) for ref, made in sorted(promised.items())},
        }

    def counts(self) -> dict[str, Any]:
        counted: Counter[str] = Counter()
        counted["invoices"] = sum(1 for i in self.invoices if i.kind.value == "invoice")
        counted["credit_notes"] = sum(1 for i in self.invoices if i.kind.value == "credit_note")
        counted["promises"] = len(self.promises)
        counted["promises.broken"] = sum(1 for item in self.dunning if item.get("broken_promise"))
        counted.update(
            f"invoices.{i.status.value}" for i in self.invoices if i.kind.value == "invoice"
        )
        counted["payments"] = len(self.payments)
        counted.update(f"payments.by_source.{p.source}" for p in self.payments)
        counted.update(f"payments.{p.status.value}" for p in self.payments)
        counted["payments.disputed_now"] = sum(1 for p in self.payments if p.disputed)
        counted["reminders"] = len(self.reminders)
        counted["dunning_levels"] = len(self.levels)
        counted["emails"] = len(self.emails)
        counted["fees"] = sum(1 for e in self.entries if e.kind == "fee")
        counted["interest_charges"] = sum(1 for e in self.entries if e.kind == "interest")
        counted["ledger_entries"] = len(self.entries)
        return {f"state.{name}": n for name, n in sorted(counted.items())}

    # --- invariants ----------------------------------------------------------------------------

    def violations(self) -> list[str]:
        return [
            *self.unreadable,
            *self._ledger_violations(),
            *self._invoice_violations(),
            *self._duplicate_violations(),
        ]

    def _ledger_violations(self) -> list[str]:
        found = []
        for entry in self.entries:
            debits = sum((p.debit for p in entry.postings), Decimal(0))
            if debits != sum((p.credit for p in entry.postings), Decimal(0)):
                found.append(f"ledger entry {entry.kind} {entry.source_id} does not balance")
        by_currency: dict[str, Decimal] = defaultdict(Decimal)
        for entry in self.entries:
            for posting in entry.postings:
                by_currency[entry.currency] += posting.debit - posting.credit
        found += [
            f"the {currency} ledger sums to {total}, not 0"
            for currency, total in sorted(by_currency.items())
            if total
        ]
        return found

    def _invoice_violations(self) -> list[str]:
        """amount due == total - credited - applied, applied from the payments' allocations."""
        applied: dict[str, Decimal] = defaultdict(Decimal)
        for payment in self.payments:
            for allocation in payment.allocations:
                if allocation.reversed_at is None:
                    applied[allocation.invoice_id] += allocation.amount + allocation.discount
        credited: dict[str, Decimal] = defaultdict(Decimal)
        receivable: dict[str, Decimal] = defaultdict(Decimal)
        for invoice in self.invoices:
            if invoice.kind.value == "credit_note" and invoice.credited_invoice_id:
                credited[invoice.credited_invoice_id] += invoice.total
        for entry in self.entries:
            # the invoice's own receivable: not its fees and interest, nor cash on those
            if entry.invoice_id and entry.kind not in ("fee", "interest") and not entry.charge_id:
                for posting in entry.postings:
                    if posting.account == Account.RECEIVABLES:
                        receivable[entry.invoice_id] += posting.debit - posting.credit
        found = []
        for invoice, ref in self._invoices_with_refs():
            if invoice.kind.value != "invoice":
                continue
            owed = max(
                Decimal(0),
                invoice.total
                - credited[invoice.invoice_id]
                - applied[invoice.invoice_id]
                - invoice.amount_written_off,  # small differences and bad debts in force
            )
            if invoice.amount_due != owed:
                found.append(
                    f"invoice {ref}: amount due {invoice.amount_due}, but total {invoice.total} "
                    f"- credited {credited[invoice.invoice_id]} - applied "
                    f"{applied[invoice.invoice_id]} - written off {invoice.amount_written_off} "
                    f"= {owed}"
                )
            if receivable[invoice.invoice_id] != invoice.amount_due:
                found.append(
                    f"invoice {ref}: amount due {invoice.amount_due}, but the ledger's "
                    f"receivable on it is {receivable[invoice.invoice_id]}"
                )
        return found

    def _duplicate_violations(self) -> list[str]:
        found = [
            f"e-mail sent {n} times: {key}"
            for key, n in sorted(Counter(self.email_keys()).items())
            if n > 1
        ]
        charged = Counter(
            (entry.kind, entry.source_id)
            for entry in self.entries
            if entry.kind in ("fee", "interest")
        )
        found += [
            f"{kind} {source} charged {n} times"
            for (kind, source), n in sorted(charged.items())
            if n > 1
        ]
        return found


def _entries(items: list[dict[str, Any]], unreadable: list[str]) -> list[JournalEntry]:
    """The ledger's entries; one that does not read back (say, unbalanced) is a violation."""
    entries = []
    for item in items:
        try:
            entries.append(ledger_store.from_item(item))
        except ValueError as error:
            unreadable.append(f"ledger entry {item.get('sk')} is invalid: {error}")
    return entries


def _charge_ref(entry: JournalEntry, refs: dict[str, str]) -> str:
    """``<invoice ref>|level<n>`` for a fee, ``<invoice ref>|<day>`` for interest."""
    invoice_id, _, what = entry.source_id.partition(":")
    return f"{refs.get(invoice_id, invoice_id)}|{what}"


def _emails(region: str) -> list[tuple[str, str, str]]:
    """Every e-mail SES accepted: (recipient, subject, HTML body and attachment names)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import RawMessage, ses_backends

    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages:
        if isinstance(message, RawMessage):
            parsed = email.message_from_string(message.raw_data)
            texts = []
            for part in parsed.walk():
                payload = part.get_payload(decode=True)
                if part.get_filename():
                    texts.append(part.get_filename() or "")
                elif part.get_content_type() == "text/html" and isinstance(payload, bytes):
                    texts.append(payload.decode())
            found.append((str(parsed["To"]), str(parsed["Subject"]), " ".join(texts)))
        else:
            [recipient] = message.destinations["ToAddresses"]
            found.append((recipient, message.subject, message.body))
    return found


def queue_violations(infra: boto3.session.Session, queues: dict[str, str]) -> list[str]:
    """Every queue empty but the DLQs; a DLQ holding messages must have an alarm on it."""
    template = cfn_yaml.load(stack.RESOURCES)
    alarmed = {
        dimension["Value"]["Fn::GetAtt"][0]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        for dimension in resource["Properties"].get("Dimensions", [])
        if isinstance(dimension.get("Value"), dict) and "Fn::GetAtt" in dimension["Value"]
    }
    sqs = infra.client("sqs")
    found = []
    for logical_id, url in sorted(queues.items()):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depth = sum(int(value) for value in attributes.values())
        if not depth:
            continue
        if "DeadLetter" not in logical_id:
            found.append(f"queue {logical_id} holds {depth} messages")
        elif logical_id not in alarmed:
            found.append(f"dead-letter queue {logical_id} holds {depth} messages and has no alarm")
    return found


def differences(expected: Any, found: Any, path: str = "", limit: int = 10) -> list[str]:
    """The first ``limit`` places where two digests differ, as ``path: expected != found``."""
    if isinstance(expected, dict) and isinstance(found, dict):
        listed: list[str] = []
        for key in sorted(set(expected) | set(found), key=str):
            if len(listed) >= limit:
                break
            where = f"{path}/{key}" if path else str(key)
            if key not in found:
                listed.append(f"{where}: missing (expected {expected[key]!r})")
            elif key not in expected:
                listed.append(f"{where}: unexpected {found[key]!r}")
            else:
                listed += differences(expected[key], found[key], where, limit - len(listed))
        return listed
    return [] if expected == found else [f"{path}: {expected!r} != {found!r}"]
