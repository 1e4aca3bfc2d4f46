"""Business dates: the calendar days and moments a request, a bank file or a gateway may name.

A business date is written ``YYYY-MM-DD`` (not a date-time, not a number) and falls inside the
business window (``shared.config.business_window``, by default 2000-01-01..2099-12-31): a day
outside it is a typing error or a probe, never a real invoice, payment or promise, and stored it
would be read back by every report. ``BusinessDate`` and ``BusinessMoment`` are the pydantic types
of request fields; ``check_day`` and ``check_moment`` the same rule for parsers of files and events.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from shared.config import business_window

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class OutOfWindowError(ValueError):
    """A date outside the business window."""


def check_day(day: date) -> date:
    """``day`` if inside the business window, else an OutOfWindowError naming the window."""
    first, last = business_window()
    if not first <= day <= last:
        raise OutOfWindowError(_outside())
    return day


def check_moment(moment: datetime) -> datetime:
    """``moment`` if its UTC day is inside the business window (a naive moment is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        day = aware.astimezone(UTC).date()
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC day
        raise OutOfWindowError(_outside()) from None
    check_day(day)
    return moment


def _outside() -> str:
    first, last = business_window()
    return f"a date from {first} to {last} is required"


def _written_as_day(value: object) -> object:
    """Only the text ``YYYY-MM-DD`` (or a ``date`` from Python code) is a business date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return date.fromisoformat(value)  # a date, so strict validation takes it as one


def _written_as_moment(value: object) -> object:
    """A moment is ISO 8601 text or a ``datetime``; numbers (epoch seconds) are refused."""
    if isinstance(value, datetime) or (isinstance(value, str) and _DAY.match(value)):
        return value
    raise ValueError("a date-time is written YYYY-MM-DDTHH:MM:SS (UTC unless an offset is given)")


# Its JSON Schema: the day as written (the window is the deployment's, so no schema states it).
_DAY_SCHEMA = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
BusinessDate = Annotated[
    date,
    BeforeValidator(_written_as_day),
    AfterValidator(check_day),
    WithJsonSchema({**_DAY_SCHEMA, "examples": ["2026-12-01"]}),
]
BusinessMoment = Annotated[
    datetime, BeforeValidator(_written_as_moment), AfterValidator(check_moment)
]
