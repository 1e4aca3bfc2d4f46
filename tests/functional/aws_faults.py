"""AWS failing once, as botocore hands a failure to the app when its own retries are spent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from infra.local.offline import reset_process_state
from shared.adapters import aws
from tests.functional.accounts import Answer

RETRY_AFTER = "2"


@contextmanager
def failing_once(operation: str, fault: str) -> Iterator[list[str]]:
    """The next ``operation`` call (e.g. ``dynamodb.Query``) fails once; yields what failed.

    ``throttle``: refused before it is sent; ``timeout``: sent and done, its answer lost;
    ``unreachable``: the endpoint cannot be reached.
    """
    service, name = operation.split(".")
    failed: list[str] = []

    def before(**_: Any) -> None:
        if failed:
            return
        if fault == "throttle":
            failed.append(operation)
            code = (
                "ProvisionedThroughputExceededException"
                if service == "dynamodb"
                else "ThrottlingException"
            )
            raise ClientError({"Error": {"Code": code, "Message": "Rate exceeded"}}, name)
        if fault == "unreachable":
            failed.append(operation)
            raise EndpointConnectionError(endpoint_url=f"https://{service}.amazonaws.com")

    def after(**_: Any) -> None:
        if fault == "timeout" and not failed:
            failed.append(operation)
            raise ReadTimeoutError(endpoint_url=f"https://{service}.amazonaws.com")

    reset_process_state()  # the clients made from now on carry the hooks
    events = aws.session().events
    events.register(f"before-call.{service}.{name}", before)
    events.register(f"after-call.{service}.{name}", after)
    try:
        yield failed
    finally:
        events.unregister(f"before-call.{service}.{name}", before)
        events.unregister(f"after-call.{service}.{name}", after)


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == RETRY_AFTER
    assert answer.body["type"] == "https://otc.example/problems/service-unavailable"
    assert answer.body["title"] == "Service unavailable"
    assert answer.body["status"] == 503
    assert "retry" in answer.body["detail"]
