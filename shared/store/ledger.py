"""The customer ledger in the single table: double-entry journal entries, each posted once.

- entry: ``LEDGER#<customer id>`` / ``ENTRY#<posted at>#<entry id>``: the entry with its
  postings, in time order within the customer's partition (a statement reads it front to back);
- guard: ``LEDGERENTRY#<entry id>`` / ``ENTRY``: put with the entry, refused if the entry id was
  posted before. Entry ids are deterministic (``<kind>:<source id>``), so the document that
  causes an entry can never post it twice, whenever and however often it is retried.

Entries are immutable: a correction is another entry (a credit note's, a reversal's).
"""

from __future__ import annotations

from decimal import Decimal

from shared import clock
from shared.domain import ledger as ledger_domain
from shared.domain.ledger import JournalEntry
from shared.store import readable, table
from shared.store.table import Item, Put, Write

GUARD_SORT_KEY = "ENTRY"


def entry_key(entry: JournalEntry) -> tuple[str, str]:
    return f"LEDGER#{entry.customer_id}", f"ENTRY#{clock.iso(entry.posted_at)}#{entry.entry_id}"


def guard_key(entry_id: str) -> tuple[str, str]:
    return f"LEDGERENTRY#{entry_id}", GUARD_SORT_KEY


def to_item(entry: JournalEntry) -> Item:
    pk, sk = entry_key(entry)
    return {**entry.to_item_data(), "pk": pk, "sk": sk, "entity": "LedgerEntry"}


def from_item(item: Item) -> JournalEntry:
    data = {key: value for key, value in item.items() if key not in ("pk", "sk", "entity")}
    return JournalEntry.from_item_data(data)


def post(entry: JournalEntry) -> list[Write]:
    """The entry and its guard, both refused if the entry was posted before."""
    pk, sk = entry_key(entry)
    guard_pk, guard_sk = guard_key(entry.entry_id)
    guard = {
        "pk": guard_pk,
        "sk": guard_sk,
        "entity": "LedgerEntryGuard",
        "entry_id": entry.entry_id,
        "entry_pk": pk,
        "entry_sk": sk,
    }
    return [Put.new(to_item(entry)), Put.new(guard)]


def is_posted(entry_id: str) -> bool:
    return table.get(*guard_key(entry_id)) is not None


def entries_for(customer_id: str) -> list[JournalEntry]:
    """Every entry of the customer, oldest first."""
    entries: list[JournalEntry] = []
    cursor: str | None = None
    while True:
        page = table.query_page(
            f"LEDGER#{customer_id}", sk_from="ENTRY#", sk_to="ENTRY#~", limit=500, cursor=cursor
        )
        entries += readable.each(page.items, from_item)
        if not (cursor := page.cursor):
            return entries


def balance(customer_id: str) -> Decimal:
    """What the customer owes by its ledger (negative: what the seller owes it)."""
    return ledger_domain.customer_balance(entries_for(customer_id))


def credit_held(customer_id: str) -> dict[str, Decimal]:
    """What the seller holds for the customer per currency (its unapplied cash account's credit
    balance: money received and not applied, a credit note beyond what its invoice had open)."""
    held: dict[str, Decimal] = {}
    for entry in entries_for(customer_id):
        for posting in entry.postings:
            if posting.account is ledger_domain.Account.UNAPPLIED_CASH:
                held[entry.currency] = held.get(entry.currency, Decimal(0)) - posting.amount
    return {currency: amount for currency, amount in held.items() if amount > 0}
