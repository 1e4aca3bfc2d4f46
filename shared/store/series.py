"""Gap-free document numbers: one counter item per number series.

Key ``(SERIES#<legal entity>#<series>, COUNTER)``, attribute ``last``: the last number issued.

A number is taken only inside the transaction that also writes the document it numbers: the
caller reads the counter, asks for ``next_write`` (number ``last + 1`` with an update guarded by
``last`` still being what was read) and puts that update in the same ``TransactWriteItems`` as
the document. If the transaction fails, for whatever reason, no number was used; if another
writer took the number first, only the counter's guard fails and the caller reads again
(``issue``). Numbers are therefore exactly 1, 2, 3, ... in the order documents were written:
no gap, no duplicate, under any concurrency.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from botocore.exceptions import ClientError

from shared import clock
from shared.store import table
from shared.store.outbox import StaleStateError
from shared.store.table import Update

SORT_KEY = "COUNTER"
MAX_ATTEMPTS = 100
_FIRST_BACKOFF_SECONDS = 0.01
_MAX_BACKOFF_SECONDS = 0.2

T = TypeVar("T")


class SeriesContentionError(Exception):
    """The counter kept moving under us for ``MAX_ATTEMPTS`` reads (the caller's retry helps)."""


def counter_key(entity: str, series: str) -> tuple[str, str]:
    return f"SERIES#{entity}#{series}", SORT_KEY


def last_number(entity: str, series: str) -> int:
    """The last number issued in the series (0 before the first)."""
    item = table.get(*counter_key(entity, series), consistent=True)
    return int(item["last"]) if item else 0


def next_write(entity: str, series: str) -> tuple[int, Update]:
    """The next number of the series, and the counter update that claims it.

    The update succeeds only if nobody claimed a number since the counter was read.
    """
    current = last_number(entity, series)
    number = current + 1
    stamp = {":next": number, ":now": clock.iso(clock.now())}
    if current == 0:
        return number, Update(
            key=counter_key(entity, series),
            expression="SET #last = :next, entity = :entity, updated_at = :now",
            condition="attribute_not_exists(pk)",
            values={**stamp, ":entity": "SeriesCounter"},
            names={"#last": "last"},
        )
    return number, Update(
        key=counter_key(entity, series),
        expression="SET #last = :next, updated_at = :now",
        condition="#last = :current",
        values={**stamp, ":current": current},
        names={"#last": "last"},
    )


def issue(
    entity: str,
    series: str,
    write: Callable[[int, Update], T],
    *,
    attempts: int = MAX_ATTEMPTS,
) -> T:
    """Call ``write(number, counter_update)`` until the number it was given is its own.

    ``write`` must put ``counter_update`` FIRST in its ``outbox.commit`` state (index 0): a
    ``StaleStateError`` failing there alone means another writer took the number, and ``write``
    runs again with the next one; so it does when DynamoDB cancelled the transaction for a
    concurrent one on the counter (it cancels rather than waits). Any other failure is the
    caller's to handle.
    """
    for attempt in range(attempts):
        number, counter = next_write(entity, series)
        try:
            return write(number, counter)
        except StaleStateError as stale:
            if not _only_counter(stale.failed):
                raise
        except ClientError as error:
            if not _contention(error):
                raise
        time.sleep(_backoff(attempt))
    raise SeriesContentionError(f"series {entity}/{series}: no number after {attempts} reads")


def _backoff(attempt: int) -> float:
    """Exponential with full jitter: writers that lost spread out instead of colliding again."""
    return random.uniform(0, min(_MAX_BACKOFF_SECONDS, _FIRST_BACKOFF_SECONDS * 2**attempt))


def _only_counter(failed: Sequence[int]) -> bool:
    return tuple(failed) == (0,)


def _contention(error: ClientError) -> bool:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    return any(reason.get("Code") == "TransactionConflict" for reason in reasons)
