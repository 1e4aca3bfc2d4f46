"""Query parameters of the account listings: ``limit`` (1-100, default 50) and ``cursor``."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from shared import errors
from shared.domain.access import Principal, Role
from shared.model import Model

MAX_LIMIT = 100


class PageQuery(Model):
    """Parsed from the query string (values arrive as text, so not strict)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)


def invalid_cursor() -> errors.DomainError:
    return errors.InvalidQuery(
        [{"parameter": "cursor", "detail": "not a cursor this listing handed out"}]
    )


def only_customer(principal: Principal) -> str | None:
    """A partner bound to one customer lists that customer's items without saying so."""
    if principal.role is Role.PARTNER:
        if len(principal.customer_ids) == 1:
            return next(iter(principal.customer_ids))
        raise errors.InvalidQuery(
            [{"parameter": "customer_id", "detail": "required: the key acts for several customers"}]
        )
    return None
