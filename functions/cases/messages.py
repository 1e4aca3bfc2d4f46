"""Answer a case (POST /cases/{case_id}/messages): the message joins the thread the customer
sees in the portal; the first answer from staff is the case's first response.

ONE transaction writes the message, the case (``answered``, guarded by its version: 409 with the
version now when it changed meanwhile) and ``CaseAnswered``; the contact then gets the answer by
e-mail once per message, whichever attempt of the request sends it: the message is named by the
request (``request_scope``), so a retry whose first attempt wrote it sends what that attempt
did not, and answers as it would have.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from functions.cases.common import email_once, event, readable, stale
from shared import clock, errors, ids, request_scope
from shared.domain.access import Principal
from shared.domain.cases import OPEN_STATUSES, CaseStatus
from shared.domain.text import MultiLine
from shared.model import Model
from shared.store import cases as store
from shared.store import outbox
from shared.store.outbox import StaleStateError
from shared.store.table import Item


class MessageRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[str, MultiLine(max_length=4000)]
    version: int = Field(ge=1)  # the version of the case the answer was written on


def answer(case_id: str, request: MessageRequest, principal: Principal) -> dict[str, Any]:
    case = readable(case_id, principal)
    message_id = request_scope.request_scoped_id("msg") or ids.new_id("msg")
    version = int(case["version"])
    if version != request.version or case["status"] not in {s.value for s in OPEN_STATUSES}:
        if (sent := _written_before(case_id, message_id)) is not None:
            return _emailed(case, sent)  # a retry whose first attempt wrote the answer
        raise errors.Conflict(
            "version-mismatch",
            f"case {case['number']} is {case['status']} at version {version}",
            current_version=version,
        )
    now = clock.iso(clock.now())
    message = {
        "message_id": message_id,
        "at": now,
        "author": principal.principal_id,
        "from": "staff",
        "text": request.text,
    }
    after = {
        **case,
        "status": CaseStatus.ANSWERED.value,
        "version": version + 1,
        "updated_at": now,
        "first_response_at": case.get("first_response_at") or now,
    }
    answered = event("CaseAnswered", after, message=message)
    try:
        outbox.commit(
            [store.replacing(after, version), store.message_put(case_id, version + 1, message)],
            [answered],
        )
    except StaleStateError:
        if (sent := _written_before(case_id, message_id)) is not None:
            return _emailed(store.get(case_id) or after, sent)
        raise stale(case_id) from None
    return _emailed(after, message)


def _written_before(case_id: str, message_id: str) -> Item | None:
    """The message an earlier attempt of this request wrote, if it did."""
    return next((m for m in store.thread(case_id) if m["message_id"] == message_id), None)


def _emailed(case: Item, message: Item) -> dict[str, Any]:
    """The case with its thread, once the answer went to the contact (once per message)."""
    email_once(
        f"{message['message_id']}#answer",
        case["contact"],
        f"Re: {case['number']} {case['subject']}",
        message["text"],
    )
    thread = [store.public(m) for m in store.thread(case["case_id"])]
    return {**store.public(case), "thread": thread}
