"""The one source of 'now', and the one format every stored timestamp is written and read in.

Stored timestamps are UTC with milliseconds, fixed width (``YYYY-MM-DDTHH:MM:SS.mmmZ``, years
zero-padded to four digits), so they sort as text in the same order as in time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)


class TimestampError(ValueError):
    """Text that is not a timestamp in the stored format."""


def now() -> datetime:
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (``None`` restores the system clock)."""
    global _now  # noqa: PLW0603
    _now = source or (lambda: datetime.now(UTC))


def iso(moment: datetime) -> str:
    """``moment`` as a stored timestamp: UTC, milliseconds, fixed width (sorts as it happened)."""
    at = moment.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}"
        f"T{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond // 1000:03d}Z"
    )


def parse(text: object) -> datetime:
    """A stored timestamp back as an aware UTC datetime; any other shape is a TimestampError."""
    if not isinstance(text, str) or not _STAMP.fullmatch(text):
        raise TimestampError("not a timestamp in the stored format YYYY-MM-DDTHH:MM:SS.mmmZ")
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the shape is right, the calendar is not (2026-02-30, 25:00)
        raise TimestampError("not a valid calendar timestamp") from None


def parse_optional(text: object) -> datetime | None:
    """``parse`` of a stored timestamp that may be absent (None)."""
    return None if text is None else parse(text)
