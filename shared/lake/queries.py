"""The lake's SQL (shared/lake/sql/*.sql) with its parameters bound as literals.

One text runs on Athena (Trino) and on DuckDB. Parameters are typed values rendered as SQL
literals both dialects read alike (``DATE 'yyyy-mm-dd'``, ``TIMESTAMP '...'``, integers,
``INTERVAL 'n' DAY``), never text from a caller, so rendering cannot inject anything. A
placeholder ``{{_name}}`` includes the fragment ``sql/_name.sql`` (rendered with the same
parameters). Literals rather than Athena's ``?`` execution parameters: a query reads a day in
several places, and a partition's ``dt`` compares with the day as text (so Athena prunes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from shared.domain.aging import MAX_EDGES, check_edges
from shared.domain.kpis import COUNTBACK_MONTHS, SERVICE_WINDOW_DAYS, trend_months

SQL = Path(__file__).resolve().parent / "sql"
QUERIES = ("open_items", "aging", "kpis", "behaviour", "dso_trend", "positions", "movements")
NEVER = 2_147_483_647  # an edge no age reaches: unused bucket edges
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class Literal(str):
    """SQL text already rendered from a typed value."""


def day(value: date) -> Literal:
    return Literal(f"DATE '{value.isoformat()}'")


def partition(value: date) -> Literal:
    """The ``dt`` partition value of a day, as text."""
    return Literal(f"'{value.isoformat()}'")


def instant(value: datetime) -> Literal:
    return Literal(f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}'")


def days(count: int) -> Literal:
    return Literal(f"INTERVAL '{int(count)}' DAY")


def number(value: int) -> Literal:
    return Literal(str(int(value)))


@cache
def text(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def render(name: str, params: Mapping[str, Literal]) -> str:
    """The query ``name`` with its placeholders replaced (KeyError for a missing one)."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("_"):
            return render(key, params).strip()
        value = params[key]
        if not isinstance(value, Literal):
            raise TypeError(f"parameter {key} is not a rendered literal")
        return value

    return _PLACEHOLDER.sub(replace, text(name))


def open_items(as_of: date) -> str:
    return render("open_items", {"as_of": day(as_of), "as_of_dt": partition(as_of)})


def positions(as_of: date) -> str:
    return render("positions", {"as_of": day(as_of), "as_of_dt": partition(as_of)})


def movements(since: date, as_of: date) -> str:
    """What moved ``since``..``as_of``, read from those days' partitions only."""
    if since > as_of:
        raise ValueError(f"'since' ({since}) is after 'as_of' ({as_of})")
    return render(
        "movements",
        {
            "since": day(since),
            "since_dt": partition(since),
            "as_of": day(as_of),
            "as_of_dt": partition(as_of),
        },
    )


def aging(as_of: date, edges: Sequence[int]) -> str:
    chosen = check_edges(edges)
    padded = [*chosen, *[NEVER] * (MAX_EDGES - len(chosen))]
    return render(
        "aging",
        {
            "as_of": day(as_of),
            "as_of_dt": partition(as_of),
            **{f"edge_{index}": number(edge) for index, edge in enumerate(padded, start=1)},
        },
    )


def kpis(start: date, end: date, window_days: int = SERVICE_WINDOW_DAYS) -> str:
    if start > end:
        raise ValueError(f"'from' ({start}) is after 'to' ({end})")
    first_counted = _months_before(end.replace(day=1), COUNTBACK_MONTHS - 1)
    return render(
        "kpis",
        {
            "start": day(start),
            "start_dt": partition(start),
            "end": day(end),
            "end_dt": partition(end),
            "opening": day(start - timedelta(days=1)),
            "after_end": instant(datetime.combine(end + timedelta(days=1), time.min)),
            "window": days(window_days),
            "countback_from": day(min(start, first_counted)),
            "countback_from_dt": partition(min(start, first_counted)),
        },
    )


def behaviour(start: date, as_of: date) -> str:
    """Customer behaviour over ``start``..``as_of``; the second half starts at the window's
    middle day (the later half has the odd day)."""
    if start > as_of:
        raise ValueError(f"'from' ({start}) is after 'as_of' ({as_of})")
    return render(
        "behaviour",
        {
            "start": day(start),
            "start_dt": partition(start),
            "as_of": day(as_of),
            "as_of_dt": partition(as_of),
            "second_half": day(second_half(start, as_of)),
        },
    )


def dso_trend(end: date, months: int) -> str:
    """Month-end DSO's parts for the ``months`` calendar months up to ``end``."""
    chosen = trend_months(end, months)
    first = chosen[0][0]
    bounds = ", ".join(f"({day(first_day)}, {day(last_day)})" for first_day, last_day in chosen)
    return render(
        "dso_trend",
        {
            "months": Literal(bounds),
            "first": day(first),
            "first_dt": partition(first),
            "end": day(end),
            "end_dt": partition(end),
        },
    )


def second_half(start: date, as_of: date) -> date:
    """The first day of the window's second half."""
    return start + timedelta(days=((as_of - start).days + 1) // 2)


def _months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
