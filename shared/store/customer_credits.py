"""Customer credits in the single table, and the one place that lists them all.

- credit note credit: ``CUSTOMERCREDIT#<customer id>`` / ``CREDITNOTE#<credit note id>``: what
  a credit note owed the customer beyond its invoice's amount due, with its applications and
  refunds (``shared.domain.credits.CreditNoteCredit`` as JSON), guarded by its version;
- payment credits are the payments themselves (their unapplied part): read, never copied.
"""

from __future__ import annotations

import json

from shared.domain import credits as credits_domain
from shared.domain.credits import CreditNoteCredit, CustomerCredit
from shared.store import payments, readable, table
from shared.store.table import Item, Put

SORT_PREFIX = "CREDITNOTE#"
MAX_ID_LENGTH = 64


def credit_key(customer_id: str, credit_note_id: str) -> tuple[str, str]:
    return f"CUSTOMERCREDIT#{customer_id}", f"{SORT_PREFIX}{credit_note_id}"


def to_item(credit: CreditNoteCredit) -> Item:
    pk, sk = credit_key(credit.customer_id, credit.credit_note_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "CreditNoteCredit",
        "customer_id": credit.customer_id,
        "remaining": credit.remaining,
        "version": credit.version,
        "document": json.dumps(credit.to_data(), separators=(",", ":"), sort_keys=True),
    }


@readable.reader
def from_item(item: Item) -> CreditNoteCredit:
    return CreditNoteCredit.from_data(json.loads(item["document"]))


def arising(credit: CreditNoteCredit) -> Put:
    """The new credit (with its credit note, in the note's transaction)."""
    return Put.new(to_item(credit))


def replacing(after: CreditNoteCredit, before: CreditNoteCredit) -> Put:
    """The credit's next version, refused if anyone wrote since ``before`` was read."""
    return Put.replacing(to_item(after), before.version)


def get_credit_note_credit(customer_id: str, credit_note_id: str) -> CreditNoteCredit | None:
    if not credit_note_id or len(credit_note_id) > MAX_ID_LENGTH:
        return None
    item = table.get(*credit_key(customer_id, credit_note_id))
    return from_item(item) if item else None


def credit_note_credits(customer_id: str) -> list[CreditNoteCredit]:
    """Every credit note credit of the customer (open or used up)."""
    found: list[CreditNoteCredit] = []
    cursor: str | None = None
    while True:
        page = table.query_page(
            f"CUSTOMERCREDIT#{customer_id}",
            sk_from=SORT_PREFIX,
            sk_to=f"{SORT_PREFIX}~",
            limit=200,
            cursor=cursor,
        )
        found += readable.each(page.items, from_item)
        if not (cursor := page.cursor):
            return found


def payment_credits(customer_id: str) -> list[CustomerCredit]:
    """The customer's payments that still hold money to apply or pay back."""
    found: list[CustomerCredit] = []
    cursor: str | None = None
    while True:
        page = payments.list_for_customer(customer_id, limit=200, cursor=cursor)
        for payment in readable.each(page.items, payments.from_item):
            if credits_domain.is_open_payment_credit(payment):
                found.append(credits_domain.of_payment(payment))
        if not (cursor := page.cursor):
            return found


def open_credits(customer_id: str) -> list[CustomerCredit]:
    """Every open credit of the customer, oldest first."""
    notes = [
        credits_domain.of_credit_note(credit)
        for credit in credit_note_credits(customer_id)
        if credit.remaining > 0
    ]
    return credits_domain.oldest_first([*payment_credits(customer_id), *notes])
