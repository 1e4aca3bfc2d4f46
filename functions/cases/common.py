"""What the case use cases share: reading a case for a caller, its events, the e-mails."""

from __future__ import annotations

import html
from typing import Any

from shared import clock, errors, request_scope
from shared.domain.access import Principal
from shared.domain.events import DomainEvent
from shared.observability import logger
from shared.store import cases as store
from shared.store import outbox
from shared.store.outbox import StaleStateError
from shared.store.table import Item, Write

SOURCE = "otc.cases"


def readable(case_id: str, principal: Principal) -> Item:
    """The case if the caller may see it (a partner: its customers' cases only), else 404."""
    case = store.get(case_id)
    if case is None or not principal.may_act_for(case["customer_id"]):
        raise errors.NotFound(f"case {case_id}")
    return case


def event(detail_type: str, case: Item, **data: Any) -> DomainEvent:
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=case["case_id"],
        occurred_at=clock.parse(case["updated_at"]),
        data={**store.public(case), **data},
    )


def stale(case_id: str) -> errors.Conflict:
    """409 naming the version the case is at now."""
    current = store.get(case_id)
    return errors.Conflict(
        "version-mismatch",
        f"case {case_id} changed meanwhile; read it again",
        current_version=int(current["version"]) if current else None,
    )


def email_once(key: str, recipient: str, subject: str, text: str) -> str | None:
    """E-mail ``recipient`` once per ``key`` (the claim protocol of the customer e-mails: a
    retry never sends it twice); ``None`` when it went before.

    A failed send releases the claim. Inside a request with an Idempotency-Key it answers 503
    (the case is written): the retry with the same key finds what the first attempt wrote and
    sends the e-mail then. Elsewhere (the portal's form, which a browser does not retry) it is
    logged and the case stands."""
    from shared.adapters import mail
    from shared.store import notifications as markers

    page = f"<html><body><pre>{html.escape(text)}</pre></body></html>"
    try:
        sender = mail.configured_sender()
        return markers.send_once(
            key,
            recipient,
            detail_type="CaseEmail",
            send=lambda: mail.send(
                sender=sender, recipient=recipient, subject=subject, text=text, html=page
            ),
        )
    except Exception:
        logger.exception("case e-mail not sent", extra={"email_key": key})
        if request_scope.producing.get() is not None:
            raise errors.busy() from None
        return None


def write_case(
    case: Item, changes: dict[str, Any], more: list[Write], detail_type: str = "", **data: Any
) -> Item:
    """The case with ``changes``, one version up, over the version read (409 otherwise), with
    ``more`` writes and the ``detail_type`` event (the case and ``data``) in the same
    transaction."""
    version = int(case["version"])
    after = {**case, **changes, "version": version + 1, "updated_at": clock.iso(clock.now())}
    events = [event(detail_type, after, **data)] if detail_type else []
    try:
        outbox.commit([store.replacing(after, version), *more], events)
    except StaleStateError:
        raise stale(case["case_id"]) from None
    return after
