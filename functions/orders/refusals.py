"""Order moves the state refuses, as the API answers them (409, with what to do next)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.domain.order import OrderTransitionError
from shared.http import problems
from shared.store.outbox import StaleStateError


@contextmanager
def refused_as_conflicts() -> Iterator[None]:
    try:
        yield
    except OrderTransitionError as error:
        raise problems.conflict("invalid-order-state", str(error)) from None
    except StaleStateError:
        raise problems.conflict(
            "concurrent-modification", "the order changed meanwhile; read it again and retry"
        ) from None
