"""The month's reports read from the lake, checked against the same reports read from the books.

At the end of a simulated month every report the lake answers is read over the API beside the
same report computed from the books (``source=live``): the aging and the open items of several
days and the month's KPIs from the whole lake (``source=lake``), and the aging and the open items
of the days after a nightly snapshot as answered by default (the snapshot's positions rolled
forward by the lake's days since: ``source=current``). Every figure or row that differs is a
difference. Reports still running on Athena (202) are followed to their status URL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from bench.simulation_driver import Answer

__all__ = ["LakeCheck", "lake_days", "lake_differences", "take_snapshot"]

Get = Callable[[str], Answer]
POLLS = 20  # status reads of a lake query that answered 202 before it counts as a difference
SHOWN = 5  # differing figures named per comparison
_NOT_COMPARED = ("source", "skipped", "service")  # how it was read; the cases come from the table


class LakeCheck:
    """How many reports were compared, what each lake-side answer said it read (``current``,
    ``lake``; ``live`` when no snapshot fitted), and what differed."""

    def __init__(self) -> None:
        self.comparisons = 0
        self.sources: Counter[str] = Counter()
        self.differences: list[str] = []

    def counts(self) -> dict[str, int]:
        by_source = {f"lake.source.{name}": n for name, n in sorted(self.sources.items())}
        return {"lake.comparisons": self.comparisons} | by_source


def lake_days(first: date, last: date) -> list[date]:
    """The days whose aging and open items are compared: the last day of each week of the
    month (Sunday) and its last day."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day.weekday() == 6 or day == last]


def take_snapshot(first: date, today: date) -> date:
    """The nightly snapshot of the oldest day a default report of ``today`` rolls forward from
    (not before ``first``), taken as the nightly run takes it; its day."""
    from functions.reporting import snapshot
    from functions.reporting.read_reports import MAX_CURRENT_DAYS

    day = max(first, today - timedelta(days=MAX_CURRENT_DAYS))
    snapshot.take(day)
    return day


def lake_differences(
    get: Get,
    days: Sequence[date],
    period: tuple[date, date],
    *,
    current_days: Sequence[date] = (),
) -> LakeCheck:
    """The aging and open items of every day and the KPIs of ``period`` from the whole lake, and
    the aging and open items of every ``current_days`` as answered by default, each against the
    same report from the books, read over the API with ``get``."""
    check = LakeCheck()
    start, end = period
    paths = [
        f"/reports/{report}?as_of={day.isoformat()}{source}"
        for source, of in (("&source=lake", days), ("", current_days))
        for day in of
        for report in ("aging", "open-items")
    ]
    paths.append(f"/reports/kpis?from={start.isoformat()}&to={end.isoformat()}&source=lake")
    for path in paths:
        check.comparisons += 1
        books_path = path.removesuffix("&source=lake") + "&source=live"
        lake, books = _read(get, path), _read(get, books_path)
        if (lake.status, books.status) != (200, 200):
            check.differences.append(
                f"lake {path}: answered {lake.status}, from the books {books.status}"
            )
            continue
        check.sources[str(lake.body.get("source"))] += 1
        found = list(differences(lake.body, books.body))
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


def _read(get: Get, path: str) -> Answer:
    """The report at ``path``, its lake query followed while it runs."""
    answer = get(path)
    for _ in range(POLLS):
        if answer.status != 202:
            break
        answer = get(answer.body["status_url"])
    return answer
