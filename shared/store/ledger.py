"""The customer ledger in the single table: double-entry journal entries, each posted once.

- entry: ``LEDGER#<customer id>`` / ``ENTRY#<posted at>#<entry id>``: the entry with its
  postings, in time order within the customer's partition (a statement reads it front to back);
- guard: ``LEDGERENTRY#<entry id>`` / ``ENTRY``: put with the entry, refused if the entry id was
  posted before. Entry ids are deterministic (``<kind>:<source id>``), so the document that
  causes an entry can never post it twice, whenever and however often it is retried. A fee or
  interest charge's entry has none: its charge record, put with it, is that guard.

The journal across customers reads the entries by posting month on gsi2: ``JOURNAL#<YYYY-MM>`` /
``<posted at>#<entry id>`` (UTC). The index keys ride on the entry item itself, so the journal
costs one index write per entry and no item of its own; a month is one partition, read as one
key range for any span of days in it.

Entries are immutable: a correction is another entry (a credit note's, a reversal's).
"""

from __future__ import annotations

from decimal import Decimal

from shared import clock
from shared.domain import ledger as ledger_domain
from shared.domain.ledger import JournalEntry
from shared.store import readable, table
from shared.store.table import Item, Page, Put, Write

GUARD_SORT_KEY = "ENTRY"
JOURNAL_INDEX = "gsi2"
JOURNAL_PREFIX = "JOURNAL#"
_KEYS = ("pk", "sk", "entity", "gsi2pk", "gsi2sk")


def entry_key(entry: JournalEntry) -> tuple[str, str]:
    return f"LEDGER#{entry.customer_id}", f"ENTRY#{clock.iso(entry.posted_at)}#{entry.entry_id}"


def guard_key(entry_id: str) -> tuple[str, str]:
    return f"LEDGERENTRY#{entry_id}", GUARD_SORT_KEY


def journal_key(entry: JournalEntry) -> tuple[str, str]:
    posted_at = clock.iso(entry.posted_at)
    return journal_partition(posted_at[:7]), f"{posted_at}#{entry.entry_id}"


def journal_partition(month: str) -> str:
    """The gsi2 partition of a month's entries (``month``: ``YYYY-MM``)."""
    return f"{JOURNAL_PREFIX}{month}"


def to_item(entry: JournalEntry) -> Item:
    pk, sk = entry_key(entry)
    gsi2pk, gsi2sk = journal_key(entry)
    return {
        **entry.to_item_data(),
        "pk": pk,
        "sk": sk,
        "entity": "LedgerEntry",
        "gsi2pk": gsi2pk,
        "gsi2sk": gsi2sk,
    }


@readable.reader
def from_item(item: Item) -> JournalEntry:
    data = {key: value for key, value in item.items() if key not in _KEYS}
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


def post_guarded_elsewhere(entry: JournalEntry) -> Put:
    """The entry alone, for an entry whose id another item of the same transaction guards: a
    fee or interest charge's record (``shared.store.charges``) is keyed by the entry id and
    refused if it exists, so the charge is posted once without a guard item of its own."""
    return Put.new(to_item(entry))


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


def journal_page(
    month: str,
    *,
    first_day: str,
    last_day: str,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """One page of the entries posted in ``month`` (``YYYY-MM``) from ``first_day`` to
    ``last_day`` (ISO dates, both included), in posting order (time, then entry id)."""
    return table.query_page(
        journal_partition(month),
        index=JOURNAL_INDEX,
        sk_from=first_day,
        sk_to=f"{last_day}~",
        limit=limit,
        cursor=cursor,
    )
