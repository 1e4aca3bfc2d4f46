"""Items read ahead in one BatchGetItem, for the reads a use case is about to make one by one.

A worker that knows which items it will read (the order's customer, the stock of its SKUs, its
audit chain head) reads them in one call inside ``table.reading_ahead(keys)``; each later
``table.get`` or ``table.get_many`` of such a key is answered from that read once (a retry reads
afresh), and keys outside it are read as usual. Every read ahead is consistent. The items live
only in the ``with`` block of the current context: nothing is kept across messages or requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Key = tuple[str, str]
Item = dict[str, Any]

# key -> the item read ahead, or None when it does not exist
_ahead: ContextVar[dict[Key, Item | None] | None] = ContextVar("read_ahead", default=None)


@contextmanager
def holding(items: dict[Key, Item | None]) -> Iterator[None]:
    """Answer reads of these keys from ``items`` (None: absent) in the ``with`` block (use
    ``table.reading_ahead``, which reads them)."""
    token = _ahead.set(dict(items))
    try:
        yield
    finally:
        _ahead.reset(token)


def take(key: Key) -> tuple[bool, Item | None]:
    """(True, the item or None) when ``key`` was read ahead and is not taken yet; else (False,
    None)."""
    ahead = _ahead.get()
    if ahead is None or key not in ahead:
        return False, None
    return True, ahead.pop(key)
