"""The one source of 'now', so tests and simulations can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (``None`` restores the system clock)."""
    global _now  # noqa: PLW0603
    _now = source or (lambda: datetime.now(UTC))


def iso(moment: datetime) -> str:
    """UTC timestamp with milliseconds: sorts as text in the same order as in time."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
