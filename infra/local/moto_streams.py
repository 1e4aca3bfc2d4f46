"""moto's DynamoDB stream with a stream's memory, not a log's: what keeps a day-long stack flat.

moto keeps every stream record of a table for as long as the process lives, and every shard
iterator it ever handed out (each ``GetShardIterator`` and each ``GetRecords`` adds one, about a
kilobyte, never removed): the event pump asks for both several times a second. DynamoDB Streams
trims records after 24 hours and expires iterators after 15 minutes. Here:

- ``bounded_shard_iterators`` keeps only the most recent iterators of each streams backend, and
  a TRIM_HORIZON iterator reads from the oldest record there is when it is read (moto fails on
  one taken before a trim);
- ``trim_stream`` drops the records a reader is done with once they are older than a retention
  window, moving the shard's starting sequence number past them (what TRIM_HORIZON then reads),
  so sequence numbers stay what they were;
- ``trimmed_reads_refused``: an iterator at a sequence number no longer held answers
  ``TrimmedDataAccessException`` and an unknown shard ``ResourceNotFoundException``, as DynamoDB
  Streams does (moto fails an assertion on both).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

SHARD_ITERATORS_KEPT = 256


class _RecentIterators(OrderedDict[str, Any]):
    """A dict of shard iterators that forgets the oldest beyond ``SHARD_ITERATORS_KEPT``."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > SHARD_ITERATORS_KEPT:
            self.popitem(last=False)


@contextmanager
def bounded_shard_iterators() -> Iterator[None]:
    """While active, every streams backend keeps only its most recent shard iterators."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    get_records = DynamoDBStreamsBackend.get_records

    def bounded(backend: DynamoDBStreamsBackend) -> None:
        if not isinstance(backend.shard_iterators, _RecentIterators):
            backend.shard_iterators = _RecentIterators(backend.shard_iterators)

    def get_iterator(backend: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
        bounded(backend)
        return get_shard_iterator(backend, *args, **kwargs)

    def read(backend: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> Any:
        bounded(backend)
        iterator = backend.shard_iterators.get(iterator_arn)
        if iterator is not None and iterator.shard_iterator_type == "TRIM_HORIZON":
            # the horizon is where the oldest record is when it is read (trimmed meanwhile)
            shard = iterator.stream_shard
            iterator.sequence_number = max(iterator.sequence_number, shard.starting_sequence_number)
        return get_records(backend, iterator_arn, limit)

    with (
        mock.patch.object(DynamoDBStreamsBackend, "get_shard_iterator", get_iterator),
        mock.patch.object(DynamoDBStreamsBackend, "get_records", read),
    ):
        yield


def trim_read_records(
    table_name: str,
    positions: dict[str, tuple[str, str] | None],
    retention: timedelta,
    lock: threading.RLock,
) -> int:
    """Trim the stream of moto's table ``table_name`` (in this process) up to where the pump's
    ``positions`` (shard id -> position) have read, keeping the last ``retention``."""
    from moto.core.utils import utcnow
    from moto.dynamodb.models import dynamodb_backends

    with lock:
        for account in dynamodb_backends.values():
            for backend in account.values():
                table = backend.tables.get(table_name)
                shard = table.stream_shard if table is not None else None
                if shard is None or shard.id not in positions:
                    continue
                read = read_through(positions[shard.id])
                if read is not None:
                    return trim_stream(shard, read, utcnow() - retention)
    return 0


def trim_stream(shard: Any, read_through: int, older_than: datetime) -> int:
    """Drop ``shard``'s records up to sequence number ``read_through`` (all read) that were
    created before ``older_than`` (naive UTC, as moto stamps them); return how many."""
    done = 0
    for record in shard.items:
        dynamodb = record.record["dynamodb"]
        if int(dynamodb["SequenceNumber"]) > read_through:
            break
        if dynamodb["ApproximateCreationDateTime"] >= older_than:
            break
        done += 1
    if done:
        del shard.items[:done]
        shard.starting_sequence_number += done
    return done


@contextmanager
def trimmed_reads_refused() -> Iterator[None]:
    """While active, moto refuses an iterator on records it no longer holds as DynamoDB does."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator

    def checked(
        backend: DynamoDBStreamsBackend,
        arn: str,
        shard_id: str,
        shard_iterator_type: str,
        sequence_number: str | None = None,
    ) -> Any:
        shard = backend._get_table_from_arn(arn).stream_shard
        if shard is None or shard.id != shard_id:
            raise JsonRESTError(
                "ResourceNotFoundException", f"Requested resource not found: {shard_id}"
            )
        first = {"AT_SEQUENCE_NUMBER": 0, "AFTER_SEQUENCE_NUMBER": 1}.get(shard_iterator_type)
        if first is not None and int(sequence_number or 0) + first < shard.starting_sequence_number:
            raise JsonRESTError(
                "TrimmedDataAccessException",
                "The operation attempted to read past the oldest stream record in a shard.",
            )
        return get_shard_iterator(backend, arn, shard_id, shard_iterator_type, sequence_number)

    with mock.patch.object(DynamoDBStreamsBackend, "get_shard_iterator", checked):
        yield


def read_through(position: tuple[str, str] | None) -> int | None:
    """The last sequence number a pump position has read (None: nothing read yet, or none)."""
    if position is None:
        return None
    kind, sequence_number = position
    if kind == "AFTER_SEQUENCE_NUMBER":
        return int(sequence_number)
    if kind == "AT_SEQUENCE_NUMBER":
        return int(sequence_number) - 1
    return None
