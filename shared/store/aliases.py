"""Payer aliases: which customer a payer name or account turned out to be, as a clerk confirmed.

Key ``PAYERALIAS#<payer key>`` / ``ALIAS``, where the payer key is what
``remittance.payer_key`` makes of a payer's name and account (``account:DE89...``,
``name:acme trading``). A clerk who allocates a payment by hand confirms whose money it was; the
allocation writes an alias for each of the payment's payer keys in the same transaction, so the
next payment from that payer is matched to that customer without asking again. A later
correction overwrites the alias: the clerk's latest word counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared import clock
from shared.store import table
from shared.store.table import Put

SORT_KEY = "ALIAS"
MAX_KEY_LENGTH = 400  # a payer name is free text; DynamoDB caps a partition key at 2048 bytes


def alias_key(payer_key: str) -> tuple[str, str]:
    return f"PAYERALIAS#{payer_key}", SORT_KEY


def get_many(payer_keys: Iterable[str]) -> dict[str, str]:
    """Payer key -> customer id, for the keys a clerk has confirmed."""
    wanted = [key for key in dict.fromkeys(payer_keys) if 0 < len(key) <= MAX_KEY_LENGTH]
    if not wanted:
        return {}
    items = table.get_many(alias_key(key) for key in wanted)
    return {item["payer_key"]: item["customer_id"] for item in items}


def remember(payer_keys: Iterable[str], customer_id: str, *, by: str, payment_id: str) -> list[Put]:
    """Puts teaching that these payer keys are ``customer_id`` (learnt from ``payment_id``)."""
    now = clock.iso(clock.now())
    writes = []
    for payer_key in dict.fromkeys(payer_keys):
        if not 0 < len(payer_key) <= MAX_KEY_LENGTH:
            continue
        pk, sk = alias_key(payer_key)
        writes.append(
            Put(
                item={
                    "pk": pk,
                    "sk": sk,
                    "entity": "PayerAlias",
                    "payer_key": payer_key,
                    "customer_id": customer_id,
                    "confirmed_by": by,
                    "learnt_from": payment_id,
                    "confirmed_at": now,
                }
            )
        )
    return writes
