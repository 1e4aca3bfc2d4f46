"""moto's DynamoDB transactions, isolated and with a rollback that costs what they touch.

moto backs up the WHOLE table (a deep copy) before the items of a transaction so it can roll a
cancelled one back, which makes each transaction cost the size of the table: thousands of
writes become quadratic in time and memory. ``lean_transactions`` backs up only the items a
transaction names and puts exactly those back when it is cancelled - all a transaction can have
changed - and runs transactions one at a time with no single-item read overlapping one (moto
creates an updated item before it sets its attributes; DynamoDB never shows half an item).
Every condition is still moto's own, and a cancelled transaction's stream records are taken
back with its items (as moto's own rollback does), so no event of it is ever published. The
local stack, tests that race writers and the benchmarks use it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock


@contextmanager
def lean_transactions() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    lock = threading.RLock()  # moto reads items inside its own transactions
    transact_write_items, get_item = DynamoDBBackend.transact_write_items, DynamoDBBackend.get_item

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            saved = []
            streams = {}  # table -> its stream's length before the transaction
            for operation in transact_items:
                [(kind, request)] = operation.items()
                table = backend.tables[request["TableName"]]
                key = request["Item"] if kind == "Put" else request["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
                before = table.get_item(hash_key, range_key)
                saved.append((table, hash_key, range_key, copy.deepcopy(before)))
                if table.stream_shard is not None:
                    streams[table] = len(table.stream_shard.items)
            try:
                transact_write_items(backend, transact_items)
            except Exception:
                for table, hash_key, range_key, before in saved:
                    _restore(table.items, hash_key, range_key, before)
                for table, length in streams.items():
                    if table.stream_shard is not None:
                        del table.stream_shard.items[length:]
                raise

    def read(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return get_item(backend, *args, **kwargs)

    with (
        mock.patch.object(models, "copy", SimpleNamespace(deepcopy=deepcopy)),
        mock.patch.object(DynamoDBBackend, "transact_write_items", transact),
        mock.patch.object(DynamoDBBackend, "get_item", read),
    ):
        yield


def _restore(items: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    """Put an item back as it was (``None``: absent), in a table with or without a range key
    (a transaction may span the single table and the idempotency table)."""
    if range_key is None:
        if before is None:
            items.pop(hash_key, None)
        else:
            items[hash_key] = before
    elif before is None:
        items[hash_key].pop(range_key, None)
    else:
        items[hash_key][range_key] = before
