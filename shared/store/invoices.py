"""Invoices and credit notes in the single table: the document, its receivable, its listings.

- document: ``INVOICE#<id>`` / ``INVOICE``: the invoice or credit note (its wire form, as JSON)
  and the receivable's figures (status, amount due, version) as attributes;
- source guard: ``INVOICESOURCE#<shipment id, or ORDER#<order id>>`` / ``INVOICESOURCE``: the
  invoice that billed it.

Index keys of a document:

- gsi1: ``CUSTOMER#<customer id>`` / ``INVOICE#<issued on>#<id>`` (a customer's documents by
  date; legacy invoices imported from CSV carry the same keys, see shared/store/imports.py);
- gsi2: ``INVOICESTATUS#<status>`` / ``<due on, else issued on>#<id>`` (worklists by status);
- open_by_due (sparse): ``OPEN`` / ``<due on>#<customer id>#<number>`` while an invoice is open,
  partially paid or disputed; a write that settles it (paid, credited) drops the keys, and the
  collection runs never see it again.

An issued document never changes; the receivable's figures (credited, paid, due, status) do,
each write replacing the version that was read. The source guards make billing exactly once per
shipment: their puts fail if any invoice already billed that shipment, whatever happened to the
consumed markers (they expire) or to the customer's invoicing setting since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from shared.domain import invoice as invoice_domain
from shared.domain.invoice import (
    CashApplied,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Party,
    PartyAddress,
)
from shared.domain.money import quantize
from shared.domain.reporting import InvoiceFact
from shared.store import readable, table
from shared.store.table import Item, Page, Put, Update, Write

SORT_KEY = "INVOICE"
SOURCE_SORT_KEY = "INVOICESOURCE"
OPEN_PARTITION = "OPEN"
OPEN_STATUSES = frozenset(
    {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.DISPUTED}
)
MAX_ID_LENGTH = 64
LEGACY_SERIES = "legacy"  # the series of a legacy invoice read as a receivable (it has none)
CASH_APPLIED = "cash_applied"  # the item attribute of ``Invoice.cash_applied``
_UNKNOWN_PARTY = Party(name="", address=PartyAddress(line1="", city="", postal_code="", country=""))


def invoice_key(invoice_id: str) -> tuple[str, str]:
    return f"INVOICE#{invoice_id}", SORT_KEY


def source_key(source: str) -> tuple[str, str]:
    return f"INVOICESOURCE#{source}", SOURCE_SORT_KEY


def order_source(order_id: str) -> str:
    """The source of an invoice that bills a whole order (customers invoiced per order)."""
    return f"ORDER#{order_id}"


def invoice_id_for(source: str) -> str:
    """The id of the invoice that bills ``source``: the same source always yields the same id."""
    return "inv_" + hashlib.sha256(source.encode()).hexdigest()[:26]


# --- mapping ----------------------------------------------------------------------------------


def to_item(invoice: Invoice) -> Item:
    pk, sk = invoice_key(invoice.invoice_id)
    issued_on = invoice.issued_on.isoformat()
    listed_on = (invoice.due_on or invoice.issued_on).isoformat()
    item: Item = {
        "pk": pk,
        "sk": sk,
        "entity": "Invoice",
        "gsi1pk": f"CUSTOMER#{invoice.customer_id}",
        "gsi1sk": f"INVOICE#{issued_on}#{invoice.invoice_id}",
        "gsi2pk": f"INVOICESTATUS#{invoice.status.value}",
        "gsi2sk": f"{listed_on}#{invoice.invoice_id}",
        "invoice_id": invoice.invoice_id,
        "kind": invoice.kind.value,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "order_id": invoice.order_id,
        "currency": invoice.currency,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "status": invoice.status.value,
        "issued_on": issued_on,
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "version": invoice.version,
        "document": table.compressed(
            json.dumps(invoice.to_wire(), separators=(",", ":"), sort_keys=True)
        ),
    }
    if invoice.cash_applied is not None:
        item[CASH_APPLIED] = stored_cash_applied(invoice.cash_applied)
    if is_open(invoice):
        assert invoice.due_on is not None, "an open invoice has a due date"
        item["open_due_pk"] = OPEN_PARTITION
        item["open_due_sk"] = f"{invoice.due_on.isoformat()}#{invoice.customer_id}#{invoice.number}"
    return item


def stored_cash_applied(applied: Iterable[CashApplied]) -> list[dict[str, Any]]:
    return [cash.to_stored() for cash in applied]


def cash_applied(item: Item) -> tuple[CashApplied, ...] | None:
    """The payment allocations' cash on the invoice item (None: an item from before the store
    kept them, whose allocations only the payments know)."""
    stored = item.get(CASH_APPLIED)
    if stored is None:
        return None
    return tuple(CashApplied.from_stored(cash) for cash in stored)


def is_open(invoice: Invoice) -> bool:
    """An invoice collections still chase (credit notes never are)."""
    return invoice.kind is DocumentKind.INVOICE and invoice.status in OPEN_STATUSES


def is_legacy(item: Item) -> bool:
    """An open receivable imported from the legacy system (no document of ours)."""
    return bool(item.get("legacy")) or "document" not in item


def is_booked_legacy(item: Item) -> bool:
    """A legacy invoice whose open amount the ledger holds (its opening-balance entry was
    posted with it): cash settles it like ours. One imported before that has no such entry,
    and is left as it was (a clerk's, reported at its imported open amount)."""
    return is_legacy(item) and bool(item.get("opening_entry_id"))


def is_legacy_invoice(invoice: Invoice) -> bool:
    """An ``Invoice`` read from a legacy item (``legacy_receivable``)."""
    return invoice.series == LEGACY_SERIES


@readable.reader
def legacy_receivable(item: Item) -> Invoice:
    """A booked legacy invoice as the receivable cash application works on.

    It has no lines, parties or terms. Its ``total`` is what these books took over: the
    amount open when it was imported, booked as its opening balance (what the old system had
    settled before is not ours to reverse); what this system applied since is paid or
    discounted, what its credit notes took credited, so ``amount_due`` is the item's
    ``open_amount``. (Items written before they kept ``amount_paid`` had no credit notes: their
    paid part is what is neither open nor discounted.)
    """
    currency = item["currency"]
    opened = Decimal(str(item["opening_amount"]))
    still_open = Decimal(str(item["open_amount"]))
    discounted = Decimal(str(item.get("amount_discounted", 0)))
    credited = Decimal(str(item.get("amount_credited", 0)))
    paid = Decimal(str(item.get("amount_paid", opened - still_open - discounted)))
    reclaimed = Decimal(str(item.get("amount_reclaimed", 0)))
    issued_on = date.fromisoformat(item["issue_date"])
    return Invoice(
        invoice_id=item["invoice_id"],
        kind=DocumentKind.INVOICE,
        number=item["invoice_number"],
        series=LEGACY_SERIES,
        customer_id=item["customer_id"],
        order_id=None,
        shipment_ids=(),
        purchase_order=None,
        currency=currency,
        seller=_UNKNOWN_PARTY,
        buyer=_UNKNOWN_PARTY,
        payment=None,
        lines=(),
        taxes=(),
        net_total=opened,
        tax_total=Decimal(0),
        total=opened,
        issued_on=issued_on,
        issued_at=datetime.combine(issued_on, time.min, UTC),
        due_on=date.fromisoformat(item["due_date"]),
        terms=None,
        discount_until=None,
        discount_amount=Decimal(0),
        payment_reference="",
        amount_credited=credited,
        amount_paid=paid,
        amount_discounted=discounted,
        amount_reclaimed=reclaimed,
        amount_due=still_open,
        status=InvoiceStatus(item["status"]),
        version=int(item["version"]),
        cash_applied=cash_applied(item),
    )


@readable.reader
def from_item(item: Item) -> Invoice:
    """The document with its receivable as last written (not for legacy items, see is_legacy)."""
    invoice = invoice_domain.from_wire(json.loads(item["document"]))
    return invoice.model_copy(update={"cash_applied": cash_applied(item)})


@readable.reader
def legacy_wire(item: Item) -> dict[str, Any]:
    """A legacy invoice as the API shows it: its number, dates and amounts (it has no lines)."""
    currency = item["currency"]
    original, still_open = item["original_amount"], item["open_amount"]
    credited = Decimal(str(item.get("amount_credited", 0)))
    # paid: what the old system had settled before the import, and what was applied since
    opened = item.get("opening_amount", original)
    paid = original - opened + item.get("amount_paid", opened - still_open)
    return {
        "id": item["invoice_id"],
        "kind": DocumentKind.INVOICE.value,
        "legacy": True,
        "number": item["invoice_number"],
        "customer_id": item["customer_id"],
        "currency": currency,
        "total": {"amount": str(original), "currency": currency},
        "amount_credited": {"amount": str(quantize(credited, currency)), "currency": currency},
        "amount_paid": {"amount": str(quantize(paid, currency)), "currency": currency},
        "amount_due": {"amount": str(still_open), "currency": currency},
        "status": item["status"],
        "issued_on": date.fromisoformat(item["issue_date"]).isoformat(),  # dates, checked
        "due_on": date.fromisoformat(item["due_date"]).isoformat(),
    }


@readable.reader
def fact(item: Item) -> InvoiceFact:
    """Any invoice item as the books read it: its figures as issued (or as imported)."""
    if is_legacy(item):
        return InvoiceFact(
            invoice_id=item["invoice_id"],
            customer_id=item["customer_id"],
            number=item["invoice_number"],
            currency=item["currency"],
            issued_on=date.fromisoformat(item["issue_date"]),
            due_on=date.fromisoformat(item["due_date"]),
            total=Decimal(str(item["original_amount"])),
            legacy=True,
            open_amount=Decimal(str(item["open_amount"])),
        )
    document = from_item(item)
    return InvoiceFact(
        invoice_id=document.invoice_id,
        customer_id=document.customer_id,
        number=document.number,
        currency=document.currency,
        kind=document.kind.value,
        issued_on=document.issued_on,
        due_on=document.due_on,
        total=document.total,
        credited_invoice_id=document.credited_invoice_id,
    )


@readable.reader
def wire(item: Item) -> dict[str, Any]:
    """Any invoice item as the API shows it: ours in full, a legacy one in summary."""
    return legacy_wire(item) if is_legacy(item) else from_item(item).to_wire()


# --- reads ------------------------------------------------------------------------------------


def get_item(invoice_id: str) -> Item | None:
    if not invoice_id or len(invoice_id) > MAX_ID_LENGTH:
        return None
    return table.get(*invoice_key(invoice_id))


def get(invoice_id: str) -> Invoice | None:
    """The invoice or credit note this system issued (None when unknown, or legacy)."""
    item = get_item(invoice_id)
    return from_item(item) if item and not is_legacy(item) else None


def receivable(invoice_id: str) -> Invoice | None:
    """What cash can be applied to or taken back from: a document of ours, or a legacy invoice
    the ledger holds (None when unknown, or legacy without its opening entry)."""
    item = get_item(invoice_id)
    if item is None:
        return None
    if is_legacy(item):
        return legacy_receivable(item) if is_booked_legacy(item) else None
    return from_item(item)


def billed_by(sources: Iterable[str]) -> dict[str, str]:
    """Source -> id of the invoice that billed it, for the sources already billed."""
    items = table.get_many(source_key(source) for source in sources)
    return {item["source"]: item["invoice_id"] for item in items}


def list_for_customer(
    customer_id: str, *, since: str | None, until: str | None, limit: int, cursor: str | None
) -> Page:
    """A customer's documents (legacy invoices too), newest issue date first."""
    return table.customer_page(
        customer_id, "INVOICE", since=since, until=until, limit=limit, cursor=cursor
    )


def list_by_status(
    status: InvoiceStatus,
    *,
    due_from: str | None,
    due_to: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Documents in ``status`` by due date (credit notes by issue date), oldest first."""
    partition = f"INVOICESTATUS#{status.value}"
    return table.status_page(partition, since=due_from, until=due_to, limit=limit, cursor=cursor)


# --- writes -----------------------------------------------------------------------------------


def source_guard(source: str, invoice: Invoice) -> Put:
    pk, sk = source_key(source)
    return Put.new(
        {
            "pk": pk,
            "sk": sk,
            "entity": "InvoiceSource",
            "source": source,
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
        }
    )


def issue_writes(invoice: Invoice, sources: Iterable[str] = ()) -> list[Write]:
    """The new document (refused if its id exists) and a guard per source it bills."""
    return [Put.new(to_item(invoice)), *(source_guard(source, invoice) for source in sources)]


def replacing(invoice: Invoice, before: Invoice) -> Write:
    """The receivable's next version, refused if anyone wrote since ``before`` was read."""
    if is_legacy_invoice(invoice):
        return _replacing_legacy(invoice, before)
    return Put.replacing(to_item(invoice), before.version)


def _replacing_legacy(invoice: Invoice, before: Invoice) -> Update:
    """A legacy item's receivable figures, in its own shape (the import's attributes stay).

    Settled (paid): it leaves the open-by-due index, so collection runs no longer see it;
    reopened: it is listed again under its due date.
    """
    assert invoice.due_on is not None, "a legacy invoice has a due date"
    values: Item = {
        ":open": quantize(invoice.amount_due, invoice.currency),
        ":discounted": quantize(invoice.amount_discounted, invoice.currency),
        ":credited": quantize(invoice.amount_credited, invoice.currency),
        ":paid": quantize(invoice.amount_paid, invoice.currency),
        ":reclaimed": quantize(invoice.amount_reclaimed, invoice.currency),
        ":status": invoice.status.value,
        ":version": invoice.version,
        ":expected": before.version,
    }
    assignments = (
        "open_amount = :open, amount_discounted = :discounted, amount_credited = :credited, "
        "amount_paid = :paid, amount_reclaimed = :reclaimed, #status = :status, version = :version"
    )
    if invoice.cash_applied is not None:
        values[":cash_applied"] = stored_cash_applied(invoice.cash_applied)
        assignments += f", {CASH_APPLIED} = :cash_applied"
    if is_open(invoice):
        values[":open_pk"] = OPEN_PARTITION
        values[":open_sk"] = f"{invoice.due_on.isoformat()}#{invoice.customer_id}#{invoice.number}"
        expression = f"SET {assignments}, open_due_pk = :open_pk, open_due_sk = :open_sk"
    else:
        expression = f"SET {assignments} REMOVE open_due_pk, open_due_sk"
    return Update(
        key=invoice_key(invoice.invoice_id),
        expression=expression,
        condition="version = :expected",
        values=values,
        names={"#status": "status"},
    )
