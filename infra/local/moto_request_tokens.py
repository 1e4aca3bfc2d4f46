"""``ClientRequestToken`` on moto's TransactWriteItems, as DynamoDB documents it.

moto ignores the token, so a transaction the SDK re-sends after a timeout (the first send went
through) meets its own writes and fails its conditions, where DynamoDB answers it as the success
it was. ``honoured_request_tokens`` keeps what DynamoDB keeps: for ten minutes after a
transaction succeeds, the same token with the same request succeeds again without writing
anything; the same token with another request is ``IdempotentParameterMismatchException``. A
token whose transaction was cancelled is not remembered (the re-send runs again).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

TOKEN_LIFETIME_SECONDS = 600
PRUNE_ABOVE = 10_000  # tokens remembered before the expired ones are dropped


@contextmanager
def honoured_request_tokens() -> Iterator[None]:
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    succeeded: dict[str, tuple[str, float]] = {}  # token -> (digest of its request, when)
    lock = threading.Lock()
    transact_write_items = DynamoHandler.transact_write_items

    def remembering(handler: Any) -> Any:
        token = handler.body.get("ClientRequestToken")
        if not token:
            return transact_write_items(handler)
        key = f"{handler.current_account}:{handler.region}:{token}"
        digest = hashlib.sha256(
            json.dumps(handler.body["TransactItems"], sort_keys=True, default=repr).encode()
        ).hexdigest()
        with lock:
            now = time.monotonic()
            known = succeeded.get(key)
            if known and now - known[1] < TOKEN_LIFETIME_SECONDS:
                if known[0] != digest:
                    raise DynamodbException(
                        "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                        "the ClientRequestToken was used with another request",
                    )
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        answer = transact_write_items(handler)
        with lock:
            succeeded[key] = (digest, time.monotonic())
            if len(succeeded) > PRUNE_ABOVE:  # a day-long local stack keeps only live tokens
                for stale in [
                    k for k, (_, at) in succeeded.items() if now - at >= TOKEN_LIFETIME_SECONDS
                ]:
                    del succeeded[stale]
        return answer

    with mock.patch.object(DynamoHandler, "transact_write_items", remembering):
        yield
