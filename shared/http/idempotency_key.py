"""The Idempotency-Key header every POST from outside carries (light: read at every POST)."""

from __future__ import annotations

from typing import Any

from shared.http import problems

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


def require_key(headers: Any) -> str:
    key = headers.get(HEADER, "")
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise problems.idempotency_key_required()
    return key
