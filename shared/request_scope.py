"""The request being produced, for ids stable across its retries (see ``shared.http.idempotency``).

A use case names what it creates with ``request_scoped_id`` so a retry of the same request finds
the first attempt's write instead of creating it a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from shared import ids

T = TypeVar("T")

# (operation, caller, key) of the request being produced; set by shared.http.idempotency.once.
producing: ContextVar[str | None] = ContextVar("idempotent_request", default=None)


def request_scoped_id(prefix: str) -> str | None:
    """An id this request alone gets, the same on every retry of it; ``None`` outside one.

    Powertools saves the answer only after ``produce`` returns: a Lambda that dies between the
    use case's commit and that save leaves the request to run again on the partner's retry. A
    use case that names what it creates with this id finds the first attempt's write (its
    ``attribute_not_exists`` guard fails) instead of creating it a second time.
    """
    scope = producing.get()
    return None if scope is None else ids.derived_id(prefix, f"{scope}#{prefix}")


def made_before(prefix: str, read: Callable[[str], T | None]) -> T | None:
    """What an earlier attempt of this request created under ``request_scoped_id(prefix)``.

    For a use case's error path (its checks refused the retry, or its ``attribute_not_exists``
    guard failed): ``read`` the id, ``None`` when nothing was created or outside a request.
    """
    made_id = request_scoped_id(prefix)
    return None if made_id is None else read(made_id)


class AnsweredBefore(Exception):
    """Another attempt of this request committed first, and saved its answer with its effect.

    Raised by a use case whose transaction carried the request's answer record (see
    ``shared.http.idempotency_in_commit``) when that record's guard failed; the HTTP layer
    replays the saved answer.
    """
