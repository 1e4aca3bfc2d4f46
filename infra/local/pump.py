"""The event pump: what Lambda's event source mappings do on AWS, done by polling moto.

It reads the table's stream and every consumer queue declared in app.py, and calls the same
handlers with the same event shapes Lambda would: SQS batches with distinct message ids, stream
batches with sequence numbers. It deletes only what the handler reported as done (partial batch
responses), leaves failures to come back after their visibility timeout (moto moves them to the
DLQ after maxReceiveCount), and patches moto's EventBridge->SQS gap (no ``account``).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3

from infra.topology import STREAM_CONSUMERS, matches, queue_logical_id

ACCOUNT = "123456789012"
_log = logging.getLogger(__name__)


@dataclass
class LambdaContext:
    """Enough of Lambda's context object for Powertools and Chalice."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_millis: int = 60_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_millis


@dataclass
class _Consumer:
    handler: Any
    name: str
    queue_url: str
    queue_arn: str
    batch_size: int


Position = tuple[str, str]


@dataclass
class _StreamConsumer:
    """A handler on the table stream: its filter, where it reads each shard, its retries."""

    handler: Any
    name: str
    pattern: dict[str, Any]
    failure_queue: str | None
    # Where each shard is read next, as (iterator type, sequence number); None: not at all.
    positions: dict[str, Position | None] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


def _order(position: Position) -> tuple[int, int]:
    kind, sequence_number = position
    if kind == "TRIM_HORIZON":
        return (-1, 0)
    return (int(sequence_number), 1 if kind == "AFTER_SEQUENCE_NUMBER" else 0)


class EventPump:
    """Moves events from the stream and the queues into the app's handlers, until all is quiet."""

    STREAM_MAX_RETRIES = 10  # as MaximumRetryAttempts on the packaged stream event source

    def __init__(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queue_urls: dict[str, str],
        stream_arn: str,
        *,
        retry_delay_seconds: int = 0,
        stream_positions: Mapping[str, Position | None] | None = None,
        queue_arns: Mapping[str, str] | None = None,
    ) -> None:
        """``queue_arns``: the ARN of each queue URL, where known (the rest are asked of SQS)."""
        self._session = session
        self._sqs = session.client("sqs")
        self._streams = session.client("dynamodbstreams")
        self._stream_arn = stream_arn
        self._retry_delay = retry_delay_seconds
        # Each stream consumer reads from its own positions. A fresh iterator is taken from them
        # on every pass: in-process moto replaces the table (and its stream shard) when it rolls
        # a failed transaction back, and an iterator kept from before would go on reading the
        # discarded shard, missing every later record.
        self._consumers: list[_Consumer] = []
        self.stream_consumers: dict[str, _StreamConsumer] = {}
        self._app_module = app_module
        for source in app_module.app.event_sources:
            handler = getattr(app_module, source.name)
            if source.__class__.__name__ == "SQSEventConfig":
                url = queue_urls[queue_logical_id(source.queue)]
                arn = (queue_arns or {}).get(url) or self._queue_arn(url)
                self._consumers.append(_Consumer(handler, source.name, url, arn, source.batch_size))
            elif source.__class__.__name__ == "DynamoDBEventConfig":
                wiring = STREAM_CONSUMERS[source.name]
                self.stream_consumers[source.name] = _StreamConsumer(
                    handler,
                    source.name,
                    wiring.pattern,
                    queue_urls.get(wiring.failure_queue),
                    dict(stream_positions or {}),
                )

    def _queue_arn(self, url: str) -> str:
        answer = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn: str = answer["Attributes"]["QueueArn"]
        return arn

    @property
    def queue_arns(self) -> dict[str, str]:
        """The ARN of each queue the pump reads, by URL (a pump over the same queues takes them)."""
        return {consumer.queue_url: consumer.queue_arn for consumer in self._consumers}

    @property
    def stream_positions(self) -> dict[str, Position | None]:
        """Where each shard is read next by the consumer furthest behind (a restarted pump given
        these goes on from there; what a consumer further ahead reads again, it lands again)."""
        merged: dict[str, Position | None] = {}
        for consumer in self.stream_consumers.values():
            for shard_id, position in consumer.positions.items():
                known = merged.get(shard_id)
                behind = (
                    position is not None and known is not None and _order(position) < _order(known)
                )
                if shard_id not in merged or known is None or behind:
                    merged[shard_id] = position
        return merged

    # --- one pass -----------------------------------------------------------------------------

    def drain(self, max_rounds: int = 100) -> int:
        """Pump until no record is left to hand over; return how many records were handed over.

        Failed records count too (they are retried, as Lambda would), so a batch that keeps
        failing ends in its DLQ or on-failure destination, or runs out of rounds.
        """
        total = 0
        for _ in range(max_rounds):
            moved = self.pump_once()
            total += moved
            if not moved:
                return total
        raise RuntimeError(f"events still moving after {max_rounds} rounds")

    def pump_once(self) -> int:
        """One pass over the stream and every queue; return how many records were handed over."""
        return self.pump_stream() + sum(self.pump_queue(consumer) for consumer in self._consumers)

    def pump_stream(self) -> int:
        """One pass of every stream consumer over every shard. Consumers at the same position
        (the usual case) share one read: moto's stream reads are the pump's costliest calls."""
        if not self.stream_consumers:
            return 0
        description = self._streams.describe_stream(StreamArn=self._stream_arn)
        moved = 0
        for shard in description["StreamDescription"]["Shards"]:
            reads: dict[Position, tuple[list[dict[str, Any]], Position]] = {}
            for consumer in self.stream_consumers.values():
                shard_id = shard["ShardId"]
                position = consumer.positions.setdefault(shard_id, ("TRIM_HORIZON", ""))
                if position is None:
                    continue
                if position not in reads:
                    reads[position] = self._read(shard_id, position)
                records, after = reads[position]
                moved += self._hand_over(consumer, shard_id, records, after)
        return moved

    def _read(self, shard_id: str, position: Position) -> tuple[list[dict[str, Any]], Position]:
        """The next records of the shard from ``position``, and the position after them."""
        iterator = self._iterator(shard_id, position)
        answer = self._streams.get_records(ShardIterator=iterator, Limit=100)
        if answer["Records"]:
            position = (
                "AFTER_SEQUENCE_NUMBER",
                answer["Records"][-1]["dynamodb"]["SequenceNumber"],
            )
        return [self._stream_record(record) for record in answer["Records"]], position

    def _hand_over(
        self,
        consumer: _StreamConsumer,
        shard_id: str,
        read: list[dict[str, Any]],
        position: Position,
    ) -> int:
        """Give the consumer the records its filter passes, as Lambda would; move it on."""
        records = [record for record in read if matches(consumer.pattern, record)]
        if not records:
            consumer.positions[shard_id] = position
            return 0
        try:
            result = consumer.handler({"Records": records}, LambdaContext(consumer.name)) or {}
            failures = [item["itemIdentifier"] for item in result.get("batchItemFailures", [])]
        except Exception:  # the whole batch failed: Lambda retries it from its first record
            _log.exception("%s failed on a stream batch of %d records", consumer.name, len(records))
            failures = [records[0]["dynamodb"]["SequenceNumber"]]
        if not failures:
            consumer.attempts.pop(shard_id, None)
            consumer.positions[shard_id] = position
            return len(records)
        first = min(failures, key=int)
        attempts = consumer.attempts[shard_id] = consumer.attempts.get(shard_id, 0) + 1
        if attempts > self.STREAM_MAX_RETRIES:  # Lambda's on-failure destination, then move on
            consumer.attempts.pop(shard_id)
            self._send_stream_failure(consumer, shard_id, first, records)
            consumer.positions[shard_id] = position
            return len(records)
        consumer.positions[shard_id] = ("AT_SEQUENCE_NUMBER", first)
        return len(records)

    def _iterator(self, shard_id: str, position: Position) -> str:
        kind, sequence_number = position
        request: dict[str, Any] = {
            "StreamArn": self._stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if sequence_number:
            request["SequenceNumber"] = sequence_number
        iterator: str = self._streams.get_shard_iterator(**request)["ShardIterator"]
        return iterator

    def _send_stream_failure(
        self, consumer: _StreamConsumer, shard_id: str, first: str, records: list[dict[str, Any]]
    ) -> None:
        """What Lambda sends to a stream source's on-failure destination: where, not what."""
        if not consumer.failure_queue:
            return
        region = self._session.region_name
        failed = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= int(first)]
        failure = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{region}:123456789012:function:{consumer.name}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.STREAM_MAX_RETRIES + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": _arrival(datetime.now(UTC).timestamp()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first,
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _arrival(
                    failed[0]["dynamodb"].get("ApproximateCreationDateTime")
                ),
                "approximateArrivalOfLastRecord": _arrival(
                    records[-1]["dynamodb"].get("ApproximateCreationDateTime")
                ),
                "batchSize": len(failed),
                "streamArn": self._stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=consumer.failure_queue, MessageBody=json.dumps(failure))

    def pump_queue(self, consumer: _Consumer) -> int:
        answer = self._sqs.receive_message(
            QueueUrl=consumer.queue_url,
            MaxNumberOfMessages=min(consumer.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._sqs_record(message, consumer.queue_arn) for message in messages]}
        try:
            result = consumer.handler(event, LambdaContext(consumer.name)) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as Lambda would see it
            _log.exception("%s failed on a batch of %d messages", consumer.name, len(messages))
            failed = {message["MessageId"] for message in messages}
        self._settle(consumer, messages, failed)
        return len(messages)

    def _settle(
        self, consumer: _Consumer, messages: Sequence[Mapping[str, Any]], failed: set[str]
    ) -> None:
        """Delete what the handler did; what failed comes back after the retry delay."""
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=consumer.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=consumer.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay,
                )

    def fire_schedule(self, handler_name: str) -> Any:
        """What EventBridge Scheduler does on AWS (moto never fires schedules)."""
        handler = getattr(self._app_module, handler_name)
        return handler(scheduled_event(handler_name), LambdaContext(handler_name))

    # --- Lambda event shapes ------------------------------------------------------------------

    def _stream_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record["dynamodb"])
        for image in ("NewImage", "OldImage"):
            if image in dynamodb:  # Lambda's JSON carries a binary attribute as base64
                dynamodb[image] = {
                    name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
                    for name, value in dynamodb[image].items()
                }
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self._session.region_name),
            "dynamodb": dynamodb,
            "eventSourceARN": self._stream_arn,
        }

    def _sqs_record(self, message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": with_account(message["Body"]),
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": self._session.region_name,
        }


def with_account(body: str) -> str:
    """moto's EventBridge->SQS deliveries lack the envelope's ``account``; AWS always sets it."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    if isinstance(envelope, dict) and "detail-type" in envelope and "account" not in envelope:
        envelope["account"] = ACCOUNT
        return json.dumps(envelope)
    return body


def scheduled_event(handler_name: str = "schedule") -> dict[str, Any]:
    """What Scheduler hands a function now (the envelope infra/wiring/merge.py makes its Input)."""
    return {
        "version": "0",
        "id": uuid.uuid4().hex[:16],
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{handler_name}"],
        "detail": {},
    }


def _arrival(created: float | None) -> str:
    """A stream record's creation time as Lambda writes it in DDBStreamBatchInfo (seconds, Z)."""
    moment = datetime.fromtimestamp(created, UTC) if created else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
