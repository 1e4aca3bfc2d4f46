"""The chaotic pump: every SQS message delivered twice, batches and queues shuffled.

:class:`ChaoticPump` delivers every SQS message twice (the second time in a later batch), shuffles
batches and queue order (seeded), and hands every stream batch to the publisher twice (so every
EventBridge event is published twice). A worker that crashes (:class:`Crash`, raised by the fault
injector of bench/faults.py) fails its whole batch, as Lambda sees it, and the batch comes back.
"""

from __future__ import annotations

import copy
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3

from bench.simulation import has_visible_messages
from infra.local.pump import EventPump, LambdaContext, _Consumer

_log = logging.getLogger(__name__)


class Crash(BaseException):
    """The worker died (Lambda timeout or out of memory): nothing in the app may catch it."""


class WorkerCrashed(Exception):
    """What the event source mapping sees when an invocation crashed: the batch failed."""


def surviving_crashes(app_module: ModuleType) -> ModuleType:
    """The app as the pump sees it, where a crashed invocation is a failed batch (Lambda's view)."""
    proxy = ModuleType(f"{app_module.__name__}_crashing")
    proxy.app = app_module.app  # type: ignore[attr-defined]
    for source in app_module.app.event_sources:
        setattr(proxy, source.name, _crash_is_failure(getattr(app_module, source.name)))
    return proxy


def _crash_is_failure(handler: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        except Crash as crash:
            raise WorkerCrashed(str(crash)) from None

    return invoke


@dataclass
class _Redelivery:
    event: dict[str, Any]  # a stream batch, or one SQS record
    attempts: int = 0


class ChaoticPump(EventPump):
    """Every message twice, in shuffled batches and queue order; every stream batch twice."""

    MAX_REDELIVERIES = 5  # a duplicate that keeps failing is given up (and counted)

    def __init__(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        queue_urls: dict[str, str],
        stream_arn: str,
        *,
        seed: int = 0,
        retry_delay_seconds: int = 0,
    ) -> None:
        super().__init__(
            surviving_crashes(app_module),
            session,
            queue_urls,
            stream_arn,
            retry_delay_seconds=retry_delay_seconds,
        )
        self._random = random.Random(seed)
        self._duplicated: set[str] = set()
        self._pending: dict[str, list[_Redelivery]] = {c.name: [] for c in self._consumers}
        self._stream_replays: list[_Redelivery] = []
        self.duplicates_delivered = 0
        self.stream_batches_replayed = 0
        self.given_up: list[str] = []
        if (publisher := self.stream_consumers.get("publish_events")) is not None:
            self._publish_once = publisher.handler
            publisher.handler = self._publish_and_remember

    def drain(self, max_rounds: int = 300) -> int:
        return super().drain(max_rounds)

    def pump_once(self) -> int:
        moved = self.pump_stream()
        consumers = list(self._consumers)
        self._random.shuffle(consumers)
        return moved + sum(self.pump_queue(consumer) for consumer in consumers)

    # --- the stream: every batch handed over twice --------------------------------------------

    def _publish_and_remember(self, event: dict[str, Any], context: Any) -> Any:
        result = self._publish_once(event, context) or {}
        if not result.get("batchItemFailures"):
            self._stream_replays.append(_Redelivery(copy.deepcopy(event)))
        return result

    def pump_stream(self) -> int:
        replays, self._stream_replays = self._stream_replays, []
        moved = 0
        for replay in replays:
            moved += len(replay.event["Records"])
            try:
                result = self._publish_once(copy.deepcopy(replay.event), self._context()) or {}
                failed = bool(result.get("batchItemFailures"))
            except Exception:
                failed = True
            if failed:
                self._again(replay, self._stream_replays, "stream batch")
            else:
                self.stream_batches_replayed += 1
        return moved + super().pump_stream()

    # --- the queues: shuffled batches, every message a second time later ---------------------

    def pump_queue(self, consumer: _Consumer) -> int:
        if not self._pending[consumer.name] and not has_visible_messages(consumer.queue_url):
            return 0
        limit = min(consumer.batch_size, 10)
        answer = self._sqs.receive_message(
            QueueUrl=consumer.queue_url,
            MaxNumberOfMessages=limit,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        pending = self._pending[consumer.name]
        room = max(0, consumer.batch_size - len(messages))
        duplicates, self._pending[consumer.name] = pending[:room], pending[room:]
        if not messages and not duplicates:
            return 0
        fresh = [self._sqs_record(message, consumer.queue_arn) for message in messages]
        records = fresh + [duplicate.event for duplicate in duplicates]
        self._random.shuffle(records)
        try:
            result = consumer.handler({"Records": records}, LambdaContext(consumer.name)) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as Lambda would see it
            _log.info("%s failed on a batch of %d messages", consumer.name, len(records))
            failed = {record["messageId"] for record in records}
        self._settle(consumer, messages, failed)
        for duplicate in duplicates:
            if duplicate.event["messageId"] in failed:
                self._again(duplicate, self._pending[consumer.name], consumer.name)
            else:
                self.duplicates_delivered += 1
        for record in fresh:
            if record["messageId"] not in failed and record["messageId"] not in self._duplicated:
                self._duplicated.add(record["messageId"])
                twin = copy.deepcopy(record)
                twin["receiptHandle"] = f"duplicate-{uuid.uuid4()}"
                self._pending[consumer.name].append(_Redelivery(twin))
        return len(records)

    def _again(self, redelivery: _Redelivery, pending: list[_Redelivery], where: str) -> None:
        redelivery.attempts += 1
        if redelivery.attempts < self.MAX_REDELIVERIES:
            pending.append(redelivery)
        else:
            self.given_up.append(where)

    def _context(self) -> LambdaContext:
        return LambdaContext("publish_events")

    @property
    def quiet(self) -> bool:
        return not self._stream_replays and not any(self._pending.values())
