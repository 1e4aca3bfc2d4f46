"""Kinesis Data Firehose: PutRecordBatch within its limits, retrying the records it refused.

A call takes at most 500 records and 4 MiB; Firehose may accept a call and still refuse some of
its records (``FailedPutCount``, one ``ErrorCode`` per refused record, typically throttling), so
those are put again, with backoff, a few times before giving up (the caller's retry then puts the
whole batch again: duplicates in the lake are harmless, its readers keep one row per key).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from shared.adapters import aws

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
ATTEMPTS = 5
BACKOFF_SECONDS = 0.1


class DeliveryError(Exception):
    """Firehose kept refusing records."""


def chunks(records: Sequence[bytes]) -> Iterator[list[bytes]]:
    """The records in order, in calls of at most 500 records and 4 MiB each."""
    chunk: list[bytes] = []
    size = 0
    for record in records:
        if len(record) > MAX_RECORD_BYTES:
            raise ValueError(f"a Firehose record is at most {MAX_RECORD_BYTES} bytes")
        full = len(chunk) == MAX_RECORDS_PER_CALL or size + len(record) > MAX_BYTES_PER_CALL
        if chunk and full:
            yield chunk
            chunk, size = [], 0
        chunk.append(record)
        size += len(record)
    if chunk:
        yield chunk


def put_records(stream: str, records: Sequence[bytes]) -> None:
    """Put every record on the delivery stream, or raise ``DeliveryError``."""
    for chunk in chunks(records):
        _put_chunk(stream, chunk)


def _put_chunk(stream: str, chunk: list[bytes]) -> None:
    pending = chunk
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        answer = aws.client("firehose").put_record_batch(
            DeliveryStreamName=stream, Records=[{"Data": record} for record in pending]
        )
        if not answer.get("FailedPutCount"):
            return
        pending = [
            record
            for record, result in zip(pending, answer["RequestResponses"], strict=True)
            if "ErrorCode" in result
        ]
    raise DeliveryError(f"{len(pending)} records refused by {stream} after {ATTEMPTS} attempts")
