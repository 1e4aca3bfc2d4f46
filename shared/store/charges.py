"""Fee and interest charges in the single table, beside the customer's ledger entries.

- charge: ``LEDGER#<customer id>`` / ``CHARGE#<charge id>`` (the charge id is its ledger entry
  id): written in the transaction that posts the charge, then replaced at the version read by
  every move that settles or reopens it. The customer's charges are one Query of its ledger
  partition (``entries_for`` reads ``ENTRY#`` keys only, so these never pass for entries).
  Put with its entry and refused if it exists, the record is the entry's guard too: the charge
  is posted once by its id, with no ``LEDGERENTRY#`` guard item.

A charge posted before charges had records is read from its ledger entry (version 0); the move
that first settles it creates its record, refused if someone created it meanwhile.
"""

from __future__ import annotations

from decimal import Decimal

from shared.domain import charges as domain
from shared.domain.charges import Charge
from shared.store import ledger, readable, table
from shared.store.table import Item, Put

PREFIX = "CHARGE#"


def charge_key(customer_id: str, charge_id: str) -> tuple[str, str]:
    return f"LEDGER#{customer_id}", f"{PREFIX}{charge_id}"


def to_item(charge: Charge) -> Item:
    pk, sk = charge_key(charge.customer_id, charge.charge_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Charge",
        "charge_id": charge.charge_id,
        "customer_id": charge.customer_id,
        "currency": charge.currency,
        "kind": charge.kind,
        **({"invoice_id": charge.invoice_id} if charge.invoice_id else {}),
        "amount": str(charge.amount),
        "amount_due": str(charge.amount_due),
        "charged_on": charge.charged_on.isoformat(),
        "version": charge.version,
    }


@readable.reader
def from_item(item: Item) -> Charge:
    return Charge.model_validate(
        {
            "charge_id": item["charge_id"],
            "customer_id": item["customer_id"],
            "currency": item["currency"],
            "kind": item["kind"],
            "invoice_id": item.get("invoice_id"),
            "amount": Decimal(str(item["amount"])),
            "amount_due": Decimal(str(item["amount_due"])),
            "charged_on": item["charged_on"],
            "version": int(item["version"]),
        }
    )


def created(charge: Charge) -> Put:
    """The record of a charge just posted (in the posting's transaction)."""
    return Put.new(to_item(charge.model_copy(update={"version": 1})))


def replacing(after: Charge, before: Charge) -> Put:
    """The charge's next version, refused if anyone wrote it since ``before`` was read (for a
    charge read from its entry alone: refused if its record exists by now)."""
    item = to_item(after.model_copy(update={"version": before.version + 1}))
    if before.version == 0:
        return Put.new(item)
    return Put.replacing(item, before.version)


def get(customer_id: str, charge_id: str) -> Charge | None:
    """The customer's charge: its record, else its ledger entry (None: no such charge)."""
    item = table.get(*charge_key(customer_id, charge_id))
    if item is not None:
        return from_item(item)
    guard = table.get(*ledger.guard_key(charge_id))
    if guard is None or guard.get("entry_pk") != f"LEDGER#{customer_id}":
        return None
    entry_item = table.get(guard["entry_pk"], guard["entry_sk"])
    if entry_item is None:
        return None
    entry = ledger.from_item(entry_item)
    return domain.from_entry(entry) if entry.kind in domain.KINDS else None


def for_customer(customer_id: str) -> list[Charge]:
    """Every charge of the customer (settled ones too), oldest first: the records, and the
    charges posted before records existed, read from their entries."""
    records: dict[str, Charge] = {}
    posted: list[Charge] = []
    cursor: str | None = None
    while True:
        page = table.query_page(
            f"LEDGER#{customer_id}", sk_from=PREFIX, sk_to="ENTRY#~", limit=500, cursor=cursor
        )
        for item in page.items:
            if item["sk"].startswith(PREFIX):
                records.update({c.charge_id: c for c in readable.each([item], from_item)})
            elif item.get("kind") in domain.KINDS:
                posted += [domain.from_entry(e) for e in readable.each([item], ledger.from_item)]
        if not (cursor := page.cursor):
            break
    unrecorded = [charge for charge in posted if charge.charge_id not in records]
    return sorted([*records.values(), *unrecorded], key=lambda c: (c.charged_on, c.charge_id))


def open_for(customer_id: str, currency: str | None = None) -> list[Charge]:
    """The customer's charges with something due (in ``currency``, if given), oldest first."""
    return [
        charge
        for charge in for_customer(customer_id)
        if not charge.settled and (currency is None or charge.currency == currency)
    ]
