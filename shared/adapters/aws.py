"""AWS clients, created on first use and shared for the life of the process.

Lazy creation matters twice: a cold start pays only for the clients its handler touches, and
moto can patch botocore before any client exists. ``AWS_ENDPOINT_URL`` (set by the local stack)
points every client at moto's server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client (tests start a fresh moto world per test)."""
    client.cache_clear()
    session.cache_clear()
