"""Conventions the packaged template and the local stack share, so both wire the same system."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Lambda event filter on the table stream: only new event items reach the outbox publisher.
OUTBOX_EVENTS_ONLY: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"entity": {"S": ["Event"]}}},
}


# The lake's landing worker: new journal entries and new event items (functions/lake/land.py).
LAKE_FACTS_ONLY: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"entity": {"S": ["Event", "LedgerEntry"]}}},
}


@dataclass(frozen=True)
class StreamWiring:
    """A table stream consumer's event filter and its on-failure destination (a queue)."""

    pattern: dict[str, Any]
    failure_queue: str


# Every handler app.py declares on the table stream, by its name.
STREAM_CONSUMERS: dict[str, StreamWiring] = {
    "publish_events": StreamWiring(OUTBOX_EVENTS_ONLY, "EventRecoveryQueue"),
    "land_in_lake": StreamWiring(LAKE_FACTS_ONLY, "LakeDeadLetterQueue"),
}


def function_logical_id(handler_name: str) -> str:
    """'land_in_lake' (app.py) -> 'LandInLake' (the function Chalice packages)."""
    return "".join(part.capitalize() for part in handler_name.split("_"))


def queue_logical_id(queue_name: str) -> str:
    """'order-confirmation' (app.py) -> 'OrderConfirmationQueue' (infra/resources.yaml)."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", queue_name)) + "Queue"


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """Lambda's event filtering for patterns of exact values (the only kind this project uses)."""
    for key, expected in pattern.items():
        if key not in record:
            return False
        if isinstance(expected, dict):
            if not isinstance(record[key], dict) or not matches(expected, record[key]):
                return False
        elif record[key] not in expected:
            return False
    return True
