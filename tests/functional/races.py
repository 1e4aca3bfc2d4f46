"""Racing requests from threads, each answered as the API would answer it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.server import one_dynamodb_request_at_a_time
from shared import errors
from shared.adapters import aws
from shared.http import problems
from shared.http.auth import Principal, authenticate
from tests.functional.conftest import ADMIN_KEY


@dataclass(frozen=True)
class Outcome:
    status: int  # 200 for a use case that returned; a problem's status; 500 for anything else
    body: Any


def reading_together(monkeypatch: Any, *readers: tuple[Any, str]) -> None:
    """Hold each racer after its first read (``getattr(owner, name)``, one racer each) until
    every racer has read: their writes then race on the same state, as overlapping requests do,
    however the threads are scheduled (on a loaded machine one may otherwise finish before the
    other starts, and two changes made one after the other may both rightly succeed)."""
    everyone = threading.Barrier(len(readers))
    for owner, name in readers:
        real = getattr(owner, name)
        done = threading.local()

        def read(*args: Any, _real: Any = real, _done: Any = done, **kwargs: Any) -> Any:
            found = _real(*args, **kwargs)
            if not getattr(_done, "read", False):
                _done.read = True
                everyone.wait(timeout=60)
            return found

        monkeypatch.setattr(owner, name, read)


def principal(key: str = ADMIN_KEY) -> Principal:
    return authenticate({"x-api-key": key})


def race(*calls: Callable[[], Any]) -> list[Outcome]:
    """Start every call at the same moment, each on its own thread; their outcomes in order.

    In-process moto is not atomic per request as DynamoDB is (a query iterating a partition
    while a transaction adds to it fails with "dictionary changed size during iteration"):
    requests are served one at a time, as the local stack serves them; requests of different
    calls still interleave, so every condition is judged on what the others wrote meanwhile.
    """
    aws.client("dynamodb")  # created before the threads: client creation is not thread-safe
    start = threading.Barrier(len(calls))
    outcomes: list[Outcome | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            outcomes[index] = Outcome(200, call())
        except problems.Problem as problem:
            outcomes[index] = Outcome(problem.status, problem.body())
        except errors.DomainError as refusal:  # the answer the HTTP layer renders it as
            answer = problems.of(refusal)
            outcomes[index] = Outcome(answer.status, answer.body())
        except Exception as error:  # what the API would answer 500: the tests count these
            outcomes[index] = Outcome(500, repr(error))

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    with one_dynamodb_request_at_a_time(threading.RLock()):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return [outcome for outcome in outcomes if outcome is not None]


def statuses(outcomes: list[Outcome]) -> list[int]:
    return sorted(outcome.status for outcome in outcomes)


def conflicts(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [outcome.body for outcome in outcomes if outcome.status == 409]


def after_both_read(read: Callable[..., Any], parties: int = 2) -> Callable[..., Any]:
    """``read``, holding each thread's first call until every party has made its own: the
    writes that follow all start from the same version, whatever the machine's timing."""
    barrier = threading.Barrier(parties)
    waited: set[int] = set()

    def held(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait(timeout=30)
        return found

    return held
