"""Requests to moto that can give the event pump work announce it: the pump sleeps until then.

A pass of the pump asks moto about the table's stream and every queue (over a dozen requests).
Polling that every fraction of a second keeps an idle stack busy; instead, moto's server (in the
same process) sets an event after each request that can put a record on the stream or a message
on a queue, and the pump waits for it. What no request announces (a message coming back after its
visibility timeout, a delayed message, an S3 notification) is found by the pass the pump still
makes every so often.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

# DynamoDB writes (stream records), SQS sends, EventBridge events (rules deliver to queues).
ANNOUNCED = frozenset(
    {
        "BatchWriteItem",
        "DeleteItem",
        "PutItem",
        "TransactWriteItems",
        "UpdateItem",
        "SendMessage",
        "SendMessageBatch",
        "PutEvents",
    }
)


def action_of(target: str) -> str:
    """The action of a JSON-protocol request from its X-Amz-Target ("DynamoDB_20120810.PutItem")."""
    return target.rpartition(".")[2]


@contextmanager
def announced_writes(work_waiting: threading.Event) -> Iterator[None]:
    """Set ``work_waiting`` after every moto request whose action is one of ``ANNOUNCED``."""
    from moto.core.responses import BaseResponse

    call_action = BaseResponse.call_action

    def announcing(handler: Any) -> Any:
        try:
            return call_action(handler)
        finally:
            headers = getattr(handler, "headers", None) or {}
            if action_of(headers.get("X-Amz-Target", "")) in ANNOUNCED:
                work_waiting.set()

    with mock.patch.object(BaseResponse, "call_action", announcing):
        yield
