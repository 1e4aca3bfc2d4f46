"""Reading stored items: one that does not read is named by its key, never a crash.

Stores map items through a ``reader`` (their ``from_item`` functions), ``each`` or ``one``. An
item that does not read (a missing attribute, a malformed date or number, bad JSON) raises
``UnreadableRecord``, logged by its key (never its content) and counted in the
``UnreadableRecords`` metric. Outside a ``skipping`` scope it propagates: a single read or a
write path must not act on books it could not read, and the API answers it as a problem naming
the record. Inside one (a report, a list, the nightly snapshot, a collection run) ``each`` and
``one`` leave the item out and note it, so the answer can name what it left out (``skipped``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from shared.observability import logger, metrics

T = TypeVar("T")

#: what mapping a malformed item raises (missing attributes, bad text, bad numbers, bad JSON)
UNREADABLE = (ValueError, TypeError, LookupError, ArithmeticError, AttributeError)
METRIC = "UnreadableRecords"

_noted: ContextVar[list[Skipped] | None] = ContextVar("skipped", default=None)


class UnreadableRecord(Exception):
    """A stored item that does not read: its key and why (never its content)."""

    def __init__(self, pk: str, sk: str, reason: str) -> None:
        super().__init__(f"the stored record {pk} / {sk} does not read: {reason}")
        self.pk = pk
        self.sk = sk
        self.reason = reason


@dataclass(frozen=True)
class Skipped:
    """An item left out of an answer: its key and why it did not read."""

    pk: str
    sk: str
    reason: str

    def to_wire(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": self.sk, "reason": self.reason}


@contextmanager
def skipping() -> Iterator[list[Skipped]]:
    """A scope in which unreadable items are skipped; yields the list of them (nested scopes
    share the outermost list)."""
    outer = _noted.get()
    if outer is not None:
        yield outer
        return
    noted: list[Skipped] = []
    token = _noted.set(noted)
    try:
        yield noted
    finally:
        _noted.reset(token)


def wire(noted: Iterable[Skipped]) -> list[dict[str, str]]:
    return [skipped.to_wire() for skipped in noted]


def reader(read: Callable[[dict[str, Any]], T]) -> Callable[[dict[str, Any]], T]:
    """``read``, raising ``UnreadableRecord`` (logged, counted) for an item that does not read."""

    @functools.wraps(read)
    def reading(item: dict[str, Any]) -> T:
        try:
            return read(item)
        except UnreadableRecord:
            raise  # a record inside the item did not read: it is named already
        except UNREADABLE as error:
            raise _unreadable(item, error) from error

    return reading


def record(item: dict[str, Any], read: Callable[[dict[str, Any]], T]) -> T:
    """``read(item)``; raises ``UnreadableRecord`` when it does not read, in any scope."""
    return reader(read)(item)


def each(items: Iterable[dict[str, Any]], read: Callable[[dict[str, Any]], T]) -> list[T]:
    """``read`` of every item; inside ``skipping``, the items that do not read are left out."""
    found: list[T] = []
    for item in items:
        try:
            found.append(record(item, read))
        except UnreadableRecord as unreadable:
            _skip_or_raise(unreadable)
    return found


def one(item: dict[str, Any], read: Callable[[dict[str, Any]], T]) -> T | None:
    """``read(item)``; inside ``skipping``, None when it does not read."""
    try:
        return record(item, read)
    except UnreadableRecord as unreadable:
        _skip_or_raise(unreadable)
        return None


def _unreadable(item: dict[str, Any], error: Exception) -> UnreadableRecord:
    unreadable = UnreadableRecord(
        pk=str(item.get("pk", "")) if isinstance(item, dict) else "",
        sk=str(item.get("sk", "")) if isinstance(item, dict) else "",
        reason=_reason(error),
    )
    logger.warning(
        "stored record does not read",
        extra={"pk": unreadable.pk, "sk": unreadable.sk, "error": type(error).__name__},
    )
    metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=1)
    return unreadable


def _skip_or_raise(unreadable: UnreadableRecord) -> None:
    noted = _noted.get()
    if noted is None:
        raise unreadable
    skipped = Skipped(pk=unreadable.pk, sk=unreadable.sk, reason=unreadable.reason)
    logger.warning("unreadable item skipped", extra={"pk": skipped.pk, "sk": skipped.sk})
    if skipped not in noted:
        noted.append(skipped)


def _reason(error: Exception) -> str:
    """Why an item did not read (a validation error names its fields, not their values)."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'item'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        )
    if isinstance(error, KeyError):
        return f"the attribute {error} is missing"
    return f"{type(error).__name__}: {str(error)[:200]}"
