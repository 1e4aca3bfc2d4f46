"""The SDK re-sending a call whose first send went through: the caller never saw the answer.

botocore's standard retry mode re-sends a request after a read timeout, and DynamoDB may have
applied the first send already (a conditional write then meets its own result). Here the first
send of a matching call is handed to moto (the write happens), then times out; botocore's own
retry sends it again, as on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ReadTimeoutError

from shared.adapters import aws


@contextmanager
def first_send_times_out(
    operation: str, matches: Callable[[dict[str, Any]], bool] = lambda _: True
) -> Iterator[list[dict[str, Any]]]:
    """The first DynamoDB ``operation`` whose request body ``matches`` is written, then times
    out; yields the bodies of the sends that timed out (one, once it happened)."""
    from moto.core.models import botocore_stubber

    timed_out: list[dict[str, Any]] = []
    event = f"before-send.dynamodb.{operation}"

    def write_then_time_out(request: Any, **kwargs: Any) -> Any:
        body = json.loads(request.body)
        if timed_out or not matches(body):
            return None
        botocore_stubber(event_name=event, request=request)  # moto applies the first send
        timed_out.append(body)
        raise ReadTimeoutError(endpoint_url=request.url)

    events = aws.client("dynamodb").meta.events
    events.register_first(event, write_then_time_out, unique_id="first-send-times-out")
    try:
        yield timed_out
    finally:
        events.unregister(event, unique_id="first-send-times-out")
