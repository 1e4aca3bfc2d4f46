"""Identifiers: ULIDs (time-ordered, 128 bits, Crockford base32) with a short type prefix."""

from __future__ import annotations

import hashlib
import os
import secrets

from shared import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    millis = int(clock.now().timestamp() * 1000)
    return _base32((millis << 80) | int.from_bytes(os.urandom(10), "big"))


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"


def derived_id(prefix: str, seed: str) -> str:
    """The same id for the same ``seed``, every time (128 bits of its SHA-256, as a ULID is)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}_{_base32(int.from_bytes(digest[:16], 'big'))}"


def _base32(value: int) -> str:
    """128 bits as 26 Crockford base32 characters, most significant first."""
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_key() -> str:
    """A new API key's secret (shown once; the table keeps only its hash)."""
    return "otc_" + secrets.token_urlsafe(32)
