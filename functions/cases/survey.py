"""The satisfaction survey: when a case closes, its contact gets a signed link to one question
(1 to 5, and a comment); the answer is stored once.

The link is a grant of ``shared/domain/signed_links.py`` over ``/cases/<id>/survey`` for the
contact, signed with the deployment's link secret (the portal's and the dashboard's: the signed
path keeps them apart), living 30 days. ONE transaction puts the answer (refused if the case has
one: a second answer is 409) and ``SurveyAnswered``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from functions.cases.common import email_once, event
from shared import clock, errors, payloads
from shared.config import settings
from shared.domain import signed_links
from shared.domain.cases import CaseStatus
from shared.domain.text import MultiLine
from shared.model import Model
from shared.observability import logger
from shared.store import cases as store
from shared.store import outbox
from shared.store.outbox import StaleStateError
from shared.store.table import Item

LIFETIME_SECONDS = int(timedelta(days=30).total_seconds())


class SurveyAnswer(Model):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: Annotated[str, MultiLine(max_length=2000, min_length=0)] = ""


FORM_FIELDS = frozenset({"score", "comment"})
SCORE_DIGITS = 1


def from_form(form: Mapping[str, list[str]] | None) -> SurveyAnswer:
    """The survey page's form (``score``, ``comment``, as shared.http.forms reads it) read as
    the JSON body would be."""
    fields: dict[str, Any] = payloads.form_fields(form, FORM_FIELDS, "invalid-survey")
    score = fields.get("score", "")
    if score.isascii() and score.isdigit() and len(score) <= SCORE_DIGITS:
        fields["score"] = int(score)  # anything else: a 422 naming it
    return payloads.parse(
        json.dumps(fields).encode(), SurveyAnswer, content_type=payloads.JSON_MEDIA_TYPE
    )


def path(case_id: str) -> str:
    return f"/cases/{case_id}/survey"


def invite(case: Item) -> None:
    """E-mail the closed case's contact the survey link, once per case (logged if it fails)."""
    try:
        secret = _secrets()[0]
    except errors.Unavailable:
        logger.warning("no link secret; no survey sent", extra={"case_id": case["case_id"]})
        return
    grant = signed_links.sign_grant(
        path(case["case_id"]),
        case["contact"],
        secret=secret,
        now=int(clock.now().timestamp()),
        lifetime_seconds=LIFETIME_SECONDS,
        max_lifetime_seconds=LIFETIME_SECONDS,
    )
    email_once(
        f"survey#{case['case_id']}",
        case["contact"],
        f"{case['number']}: how did we do?",
        "Your case is closed. One question, 1 (poor) to 5 (excellent): how did we handle it?\n"
        f"{settings().public_api_url}{grant.relative_url}",
    )


def admit(case_id: str, token: str | None) -> Item:
    """The closed case the token opens the survey of (Unauthenticated without a token,
    Forbidden with a bad one, Conflict while the case is not closed)."""
    if not token:
        raise errors.Unauthenticated("link-required", "Open the survey with your link", "no token")
    try:
        signed_links.verify_grant(
            path(case_id),
            token,
            secrets=_secrets(),
            now=int(clock.now().timestamp()),
            max_lifetime_seconds=LIFETIME_SECONDS,
        )
    except signed_links.InvalidLinkError as error:
        raise errors.Forbidden(
            str(error), kind="invalid-link", title="This link does not open the survey"
        ) from None
    case = store.get(case_id)
    if case is None or case["status"] != CaseStatus.CLOSED.value:
        raise errors.Conflict("case-not-closed", f"case {case_id} is not closed")
    return case


def answer(case_id: str, token: str | None, given: SurveyAnswer) -> dict[str, Any]:
    case = admit(case_id, token)
    at = clock.iso(clock.now())
    stored = {
        "score": given.score,
        "comment": given.comment,
        "answered_at": at,
        "closed_at": case.get("resolved_at", at),
    }
    answered = event("SurveyAnswered", {**case, "updated_at": at}, survey=stored)
    try:
        outbox.commit([store.survey_put(case_id, stored)], [answered])
    except StaleStateError:
        raise errors.Conflict("survey-answered", "this survey was answered already") from None
    return {"case_id": case_id, **stored}


def _secrets() -> tuple[str, ...]:
    from shared.adapters import secrets

    try:
        return secrets.dashboard_link_secrets()
    except secrets.SecretsNotConfiguredError:
        raise errors.Unavailable(
            "links-not-configured", "Signed links are not configured", "no link secret"
        ) from None
