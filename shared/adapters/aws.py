"""AWS clients, created on first use and shared for the life of the process.

Lazy creation matters twice: a cold start pays only for the clients its handler touches, and
moto can patch botocore before any client exists. ``AWS_ENDPOINT_URL`` (set by the local stack)
points every client at moto's server. Every client carries one botocore configuration
(timeouts, standard retries): the helpers that make clients of their own (Powertools'
idempotency store and parameters provider, the presigning S3 client) are given these clients,
or ``config()``.

``unavailable`` tells a failure of AWS itself (slow, throttled, unreachable) from an answer
about the request: the first is worth a retry later, the second is not.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from shared.config import aws_client_settings

# Error codes AWS answers when it is overloaded, throttling or failing inside: the same request
# may succeed later. DynamoDB's TransactionInProgressException says a transaction with the same
# client token is still running: once it ends, the same call again answers its outcome.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "InternalServerError",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
    }
)
# A transaction DynamoDB cancelled for being throttled, or for meeting another one in flight.
_TRANSIENT_CANCELLATIONS = frozenset({"ThrottlingError", "TransactionConflict"})
_UNREACHABLE = (
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


@cache
def config() -> Config:
    """The botocore configuration of every client (``shared.config.aws_client_settings``)."""
    configured = aws_client_settings()
    return Config(
        connect_timeout=configured.connect_timeout_seconds,
        read_timeout=configured.read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": configured.max_attempts},
    )


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return session().client(service, config=config())  # type: ignore[call-overload]


def unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is AWS being slow, throttled or unreachable."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, ClientError) and _retryable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _retryable(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
        return bool(reasons & _TRANSIENT_CANCELLATIONS) and "ConditionalCheckFailed" not in reasons
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in RETRYABLE_CODES or status in (500, 502, 503, 504)


def reset() -> None:
    """Forget every client (tests start a fresh moto world per test)."""
    client.cache_clear()
    session.cache_clear()
    config.cache_clear()
    aws_client_settings.cache_clear()
