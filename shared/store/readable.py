"""Reading stored items for a report or a list: one unreadable item is skipped, not fatal.

Stores map items through ``each`` (or ``one``). Outside a ``skipping`` scope an item that does
not read raises, as before: a write path must not act on books it could not read. Inside one (a
report, a list, the nightly snapshot, a collection run) the item is left out, logged by its key
(never its content), counted in the ``UnreadableRecords`` metric, and noted, so the answer can
name what it left out (``skipped``).
"""

from __future__ import annotations

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


def each(items: Iterable[dict[str, Any]], read: Callable[[dict[str, Any]], T]) -> list[T]:
    """``read`` of every item; inside ``skipping``, the items that do not read are left out."""
    found: list[T] = []
    for item in items:
        try:
            found.append(read(item))
        except UNREADABLE as error:
            _skip_or_raise(item, error)
    return found


def one(item: dict[str, Any], read: Callable[[dict[str, Any]], T]) -> T | None:
    """``read(item)``; inside ``skipping``, None when it does not read."""
    try:
        return read(item)
    except UNREADABLE as error:
        _skip_or_raise(item, error)
        return None


def _skip_or_raise(item: dict[str, Any], error: Exception) -> None:
    noted = _noted.get()
    if noted is None:
        raise error
    skipped = Skipped(pk=str(item.get("pk", "")), sk=str(item.get("sk", "")), reason=_reason(error))
    logger.warning(
        "unreadable item skipped",
        extra={"pk": skipped.pk, "sk": skipped.sk, "error": type(error).__name__},
    )
    metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=1)
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
