"""Case e-mails (the acknowledgement, an answer, the survey) go exactly once per case or message,
whichever attempt of a request sends them: a Lambda that dies after the case's write, or an
e-mail that SES refused, leaves the retry (same Idempotency-Key) to send it, and never twice."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from chalice.test import Client
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from functions.cases import resolve
from shared.adapters import mail
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, invoice_now
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import events
from tests.functional.test_cases import _dispute, _invoice, _line_gross
from tests.functional.test_retry_after_crash import _crash_then_retry

QUESTION = {"customer_id": CUSTOMER, "kind": "question", "subject": "Terms?", "message": "Net 30?"}


def _subjects(number: str) -> list[str]:
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m.subject for m in sent if not isinstance(m, RawMessage) and number in m.subject]


def _cases(world: World) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item.get("entity") == "Case"]


def _opened(client: Client) -> dict[str, Any]:
    answer = call(client, "POST", "/cases", body=QUESTION)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def _ses_refusing_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on SES refuses the first e-mail, then accepts; the subjects it refused."""
    send, refused = mail.send, list[str]()

    def flaky(**message: Any) -> str:
        if not refused:
            refused.append(message["subject"])
            raise RuntimeError("Throttling: Maximum sending rate exceeded")
        return send(**message)

    monkeypatch.setattr(mail, "send", flaky)
    return refused


@pytest.fixture
def ses_refuses_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _ses_refusing_once(monkeypatch)


def test_a_case_written_before_a_crash_is_acknowledged_once_by_the_retry(
    client: Client, world: World
):
    retried = _crash_then_retry(client, "/cases", QUESTION, use_case="functions/cases/open_case.py")

    assert retried.status == 201, retried.body
    assert len(_cases(world)) == 1 and len(events(world, "CaseOpened")) == 1
    number = retried.body["number"]
    assert _subjects(number) == [f"We received your question: {number}"]
    again = call(client, "POST", "/cases", body=QUESTION, idempotency_key="crash-then-retry")
    assert again.body == retried.body
    assert len(_subjects(number)) == 1


def test_an_answer_written_before_a_crash_is_e_mailed_once_by_the_retry(
    client: Client, world: World
):
    case = _opened(client)
    path = f"/cases/{case['case_id']}/messages"

    retried = _crash_then_retry(
        client, path, {"text": "Yes, net 30", "version": 1}, use_case="functions/cases/messages.py"
    )

    assert retried.status == 201, retried.body
    assert retried.body["status"] == "answered" and retried.body["version"] == 2
    assert [m["text"] for m in retried.body["thread"]] == ["Net 30?", "Yes, net 30"]
    assert len(events(world, "CaseAnswered")) == 1
    assert _subjects(case["number"]).count(f"Re: {case['number']} Terms?") == 1


def test_a_resolution_written_before_a_crash_sends_its_survey_once_by_the_retry(
    client: Client, world: World
):
    case = _opened(client)
    path = f"/cases/{case['case_id']}/resolution"
    body = {"outcome": "answered", "note": "Net 30", "version": 1}

    retried = _crash_then_retry(client, path, body, use_case="functions/cases/resolve.py")

    assert retried.status == 200, retried.body
    assert retried.body["status"] == "closed"
    assert len(events(world, "CaseResolved")) == 1
    assert _subjects(case["number"]).count(f"{case['number']}: how did we do?") == 1
    # another resolution (another key) of the closed case is still refused
    other = call(client, "POST", path, body=body)
    assert other.status == 409


def test_a_credit_note_issued_before_a_crash_is_not_issued_again_and_the_retry_closes_the_case(
    client: Client, world: World
):
    # Given a dispute of an invoice line
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    path = f"/cases/{case['case_id']}/resolution"
    body = {"outcome": "credit_note", "note": "Crushed boxes", "version": 1}
    # the line of resolve() that issues the note: its transaction is the one the Lambda outlives
    source, first = inspect.getsourcelines(resolve.resolve)
    [at] = [first + n for n, line in enumerate(source) if "_credit_note(case" in line]

    # When the Lambda dies right after the credit note's transaction, and the partner retries
    retried = _crash_then_retry(client, path, body, use_case=f"functions/cases/resolve.py:{at}")

    # Then the retry closes the case with the note the first attempt issued, and only that one
    assert retried.status == 200, retried.body
    assert retried.body["status"] == "closed"
    assert "resolving" not in retried.body
    [note] = events(world, "CreditNoteIssued")
    assert retried.body["resolution"]["credit_note"]["number"] == note["number"]
    assert invoice_now(invoice.invoice_id).amount_due == invoice.amount_due - _line_gross(invoice)
    assert len(events(world, "CaseResolved")) == 1
    assert [i for i in world.table_items() if i.get("entity") == "DisputeHold"] == []


def test_an_acknowledgement_ses_refused_is_sent_once_by_the_retry(
    client: Client, world: World, ses_refuses_once: list[str]
):
    first = call(client, "POST", "/cases", body=QUESTION, idempotency_key="ses-busy")

    assert first.status == 503, first.body
    assert first.headers.get("Retry-After")
    [written] = _cases(world)  # the case stands
    assert ses_refuses_once == [f"We received your question: {written['number']}"]

    retried = call(client, "POST", "/cases", body=QUESTION, idempotency_key="ses-busy")
    again = call(client, "POST", "/cases", body=QUESTION, idempotency_key="ses-busy")

    assert retried.status == 201, retried.body
    assert again.body == retried.body
    assert len(_cases(world)) == 1
    assert _subjects(written["number"]) == [f"We received your question: {written['number']}"]


def test_an_answer_ses_refused_is_sent_once_by_the_retry(client: Client, world: World, monkeypatch):
    case = _opened(client)
    path = f"/cases/{case['case_id']}/messages"
    body = {"text": "Yes", "version": 1}
    refused = _ses_refusing_once(monkeypatch)

    first = call(client, "POST", path, body=body, idempotency_key="answer-busy")
    retried = call(client, "POST", path, body=body, idempotency_key="answer-busy")

    assert first.status == 503, first.body
    assert refused == [f"Re: {case['number']} Terms?"]
    assert retried.status == 201, retried.body
    assert [m["text"] for m in retried.body["thread"]] == ["Net 30?", "Yes"]
    assert len(events(world, "CaseAnswered")) == 1
    assert _subjects(case["number"]).count(f"Re: {case['number']} Terms?") == 1
