"""Order moves the state refuses, as the API answers them (409, with what to do next)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared import errors
from shared.domain.order import OrderTransitionError
from shared.store import orders
from shared.store.outbox import StaleStateError


@contextmanager
def refused_as_conflicts(order_id: str) -> Iterator[None]:
    """Refusals of the order's state, and lost races for it, as 409 with its current version."""
    try:
        yield
    except OrderTransitionError as error:
        raise errors.Conflict(
            "invalid-order-state", str(error), current_version=_current_version(order_id)
        ) from None
    except StaleStateError:
        raise errors.Conflict(
            "concurrent-modification",
            "the order changed meanwhile; read it again and retry",
            current_version=_current_version(order_id),
        ) from None


def _current_version(order_id: str) -> int | None:
    order = orders.get(order_id)
    return None if order is None else order.version
