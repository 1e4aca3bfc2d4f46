"""Who is acting: the principal of an HTTP request, or the function a trigger started.

Every domain event records its actor (``DomainEvent.actor`` reads it when the event is made), so
the audit trail says who caused each change without threading a principal through every use case.
The HTTP layer sets the authenticated principal; other triggers act as ``system:<function>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

SYSTEM = "system"

_actor: ContextVar[str] = ContextVar("actor", default=SYSTEM)


def current() -> str:
    return _actor.get()


def set_actor(actor: str) -> Token[str]:
    return _actor.set(actor)


def system(function_name: str | None) -> str:
    """The actor of a trigger that no person started (a queue, a stream, a schedule)."""
    return f"{SYSTEM}:{function_name}" if function_name else SYSTEM


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Act as ``actor`` for the block, then restore whoever acted before (warm Lambdas reuse it)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)
