"""Answers of Idempotency-Keys saved in the transaction that made their effect.

A record in the idempotency table (key ``id``, TTL attribute ``expiration``) holds the answer and
the body's digest. It is written by a conditional Put inside the use case's own transaction: the
answer is saved if and only if the effect is, and a second request with the key finds it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from shared.adapters import aws
from shared.config import settings
from shared.store.table import Put, from_dynamo, to_dynamo

COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class SavedAnswer:
    body_digest: str
    answer: dict[str, Any]


def save(record_id: str, body_digest: str, answer: dict[str, Any]) -> Put:
    """The Put saving ``answer``; it fails while a live record of the key exists."""
    now = int(time.time())
    return Put(
        item={
            "id": record_id,
            "status": COMPLETED,
            "validation": body_digest,
            "data": json.dumps(answer, separators=(",", ":")),
            "expiration": now + settings().idempotency_ttl_seconds,
        },
        condition="attribute_not_exists(id) OR expiration < :now",
        values={":now": now},
        table=settings().idempotency_table_name,
    )


def find(record_id: str) -> SavedAnswer | None:
    """The live answer saved under ``record_id``, if any (expired ones wait for the TTL sweep)."""
    found = aws.client("dynamodb").get_item(
        TableName=settings().idempotency_table_name,
        Key=to_dynamo({"id": record_id}),
        ConsistentRead=True,
    )
    item = from_dynamo(found["Item"]) if "Item" in found else None
    if not item or item.get("status") != COMPLETED or int(item["expiration"]) < time.time():
        return None
    return SavedAnswer(body_digest=item["validation"], answer=json.loads(item["data"]))
