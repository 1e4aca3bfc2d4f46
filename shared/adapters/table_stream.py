"""The table's DynamoDB stream read back by position: the records of a batch Lambda gave up on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from shared.adapters import aws

MAX_EMPTY_PAGES = 10  # an open shard may answer empty pages before the records that follow
GONE = {"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"}


class RecordsGoneError(Exception):
    """The stream no longer holds these records (older than its 24 hours, or the shard closed
    and expired)."""


def records_between(
    stream_arn: str, shard_id: str, first: str, last: str
) -> Iterator[dict[str, Any]]:
    """The shard's records from sequence number ``first`` through ``last``, as GetRecords
    answers them (binary attributes as bytes)."""
    streams = aws.client("dynamodbstreams")
    try:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=first,
        )["ShardIterator"]
        empty = 0
        while iterator and empty < MAX_EMPTY_PAGES:
            answer = streams.get_records(ShardIterator=iterator)
            records = answer["Records"]
            empty = 0 if records else empty + 1
            for record in records:
                if int(record["dynamodb"]["SequenceNumber"]) > int(last):
                    return
                yield record
                if record["dynamodb"]["SequenceNumber"] == last:
                    return
            iterator = answer.get("NextShardIterator")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in GONE:
            raise RecordsGoneError(str(error)) from error
        raise
