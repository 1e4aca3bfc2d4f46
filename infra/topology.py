"""Conventions the packaged template and the local stack share, so both wire the same system."""

from __future__ import annotations

import re
from typing import Any

# Lambda event filter on the table stream: only new event items reach the outbox publisher.
OUTBOX_EVENTS_ONLY: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"entity": {"S": ["Event"]}}},
}


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
