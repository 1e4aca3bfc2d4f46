"""The month's reports read from the lake, checked against the same reports read from the books.

At the end of a simulated month every report the lake answers (``source=lake``: the aging and
the open items as of several days, the month's KPIs) is read over the API beside the same report
computed from the books (``source=live``); every figure or row that differs is a difference.
Reports that are still running on Athena (202) are followed to their status URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from bench.simulation_driver import Answer

__all__ = ["LakeCheck", "lake_days", "lake_differences"]

Get = Callable[[str], Answer]
POLLS = 20  # status reads of a lake query that answered 202 before it counts as a difference
SHOWN = 5  # differing figures named per comparison
_NOT_COMPARED = ("source", "skipped", "service")  # how it was read; the cases come from the table


class LakeCheck:
    """How many reports were compared, and what differed."""

    def __init__(self) -> None:
        self.comparisons = 0
        self.differences: list[str] = []


def lake_days(first: date, last: date) -> list[date]:
    """The days whose aging and open items are compared: the last day of each week of the
    month (Sunday) and its last day."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day.weekday() == 6 or day == last]


def lake_differences(get: Get, days: Sequence[date], period: tuple[date, date]) -> LakeCheck:
    """The aging and open items of every day and the KPIs of ``period``, from the lake and from
    the books, read over the API with ``get``."""
    check = LakeCheck()
    start, end = period
    paths = [
        f"/reports/{report}?as_of={day.isoformat()}"
        for day in days
        for report in ("aging", "open-items")
    ]
    paths.append(f"/reports/kpis?from={start.isoformat()}&to={end.isoformat()}")
    for path in paths:
        check.comparisons += 1
        lake, books = _read(get, f"{path}&source=lake"), _read(get, f"{path}&source=live")
        found = list(differences(lake, books))
        check.differences += [f"lake {path}: {text}" for text in found[:SHOWN]]
        if len(found) > SHOWN:
            check.differences.append(f"lake {path}: {len(found) - SHOWN} more differences")
    return check


def differences(lake: Any, books: Any, where: str = "") -> Iterator[str]:
    """Every place where the lake's answer differs from the books', named by its path."""
    if isinstance(lake, dict) and isinstance(books, dict):
        for key in sorted(set(lake) | set(books)):
            if where == "" and key in _NOT_COMPARED:
                continue
            yield from differences(lake.get(key), books.get(key), f"{where}.{key}")
    elif isinstance(lake, list) and isinstance(books, list):
        if len(lake) != len(books):
            yield f"{where or '.'}: {len(lake)} rows in the lake, {len(books)} in the books"
        for n, (mine, theirs) in enumerate(zip(lake, books, strict=False)):
            yield from differences(mine, theirs, f"{where}[{_label(theirs, n)}]")
    elif lake != books:
        yield f"{where or '.'}: lake {lake!r}, books {books!r}"


def _label(row: Any, n: int) -> str:
    """A row named by its business key where it has one, else by its place."""
    if isinstance(row, dict):
        for key in ("item_id", "customer_id", "currency"):
            if key in row:
                return f"{key}={row[key]}"
    return str(n)


def _read(get: Get, path: str) -> Any:
    answer = get(path)
    for _ in range(POLLS):
        if answer.status != 202:
            break
        answer = get(answer.body["status_url"])
    if answer.status != 200:
        return {"status": answer.status, "body": answer.body}
    return answer.body
