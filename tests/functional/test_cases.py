"""Customer cases over the API: opened by a partner, answered and resolved by staff; a dispute's
amount is left alone by the collection run while the case is open."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from functions.dunning.run import start_run
from shared import clock
from shared.domain import cases as case_domain
from shared.domain.cases import Outcome
from shared.domain.invoice import Invoice
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice
from tests.functional.collections import charges, day, interest, on, reminders, run_on
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import conforms_to_openapi, events
from tests.functional.races import after_both_read, conflicts, principal, race, statuses

ISSUED = date(2026, 11, 2)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def _invoice(client: Any, world: World) -> Invoice:
    on(ISSUED)
    return issued_invoice(client, world)


def _line_gross(invoice: Invoice, line_no: int = 1) -> Decimal:
    gross = case_domain.line_gross(invoice, line_no)
    assert gross is not None
    return gross


def _dispute(invoice: Invoice, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": CUSTOMER,
        "kind": "dispute",
        "subject": "Line 1 arrived broken",
        "message": "Two of the boxes were crushed.",
        "invoice_id": invoice.invoice_id,
        "reason": "damaged",
        "lines": [{"line_no": 1, "amount": str(_line_gross(invoice))}],
    }
    return body | overrides


def _subjects() -> list[str]:
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m.subject for m in sent if not isinstance(m, RawMessage)]


def _cases(world: World) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item.get("entity") == "Case"]


def test_a_dispute_opens_numbered_owned_due_and_acknowledged_once(client, world: World):
    invoice = _invoice(client, world)
    key = "open-once"
    opened = call(
        client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice), idempotency_key=key
    )
    again = call(
        client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice), idempotency_key=key
    )

    assert opened.status == 201, opened.body
    case = opened.body
    assert again.body == case
    assert case["number"] == f"CASE-{ISSUED.year}-000001"
    assert (case["owner"], case["status"], case["priority"]) == ("credit_manager", "open", "normal")
    assert case["due_at"] == "2026-11-05T06:00:00.000Z"  # three business days after Monday 06:00
    assert case["disputed_amount"] == str(_line_gross(invoice))
    assert len(events(world, "CaseOpened")) == 1
    assert [s for s in _subjects() if case["number"] in s] == [
        f"We received your dispute: {case['number']}"
    ]
    question = call(
        client,
        "POST",
        "/cases",
        key=PARTNER_KEY,
        body={
            "customer_id": CUSTOMER,
            "kind": "question",
            "subject": "Terms?",
            "message": "Net 30?",
            "priority": "high",
        },
    )
    assert question.body["number"] == f"CASE-{ISSUED.year}-000002"
    assert question.body["owner"] == "ar_clerk"
    assert question.body["due_at"] == "2026-11-03T06:00:00.000Z"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount": "999999.00", "lines": []}, 422),  # above the amount due
        ({"lines": [{"line_no": 1, "amount": "999999.00"}]}, 422),  # above the line
        ({"lines": [{"line_no": 99, "amount": "1.00"}]}, 422),  # no such line
        ({"lines": [{"line_no": 1, "amount": "1.001"}]}, 422),  # finer than a cent
        ({"lines": [{"line_no": 1, "amount": "0"}]}, 422),
        ({"reason": "because"}, 422),
        ({"reason": None}, 422),
        ({"invoice_id": "inv_nobody"}, 404),
        ({"customer_id": "cus_other"}, 404),  # not the partner's customer
        ({"surprise": 1}, 422),
        ({"subject": "x" * 201}, 422),
        ({"kind": "question"}, 422),  # a question with dispute fields
    ],
)
def test_hostile_cases_are_refused_and_write_nothing(client, world: World, change, status):
    invoice = _invoice(client, world)
    before = len(world.table_items())
    answer = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice, **change))
    assert answer.status == status, answer.body
    assert _cases(world) == []
    assert len(world.table_items()) <= before + 1  # at most the idempotency record


def test_a_dispute_pauses_dunning_for_its_amount_only_until_resolved(client, world: World):
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    disputed = Decimal("50.00")
    chased = invoice.amount_due - disputed
    body = _dispute(invoice, lines=[], amount=str(disputed))
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=body).body

    # The run of +14 while the dispute is open: reminder and interest on the rest only
    run_on(world, day(due, 14))
    [sent] = reminders()
    assert f"{chased:,.2f} EUR" in sent.body
    charged = {kind: amount for kind, _, amount in charges()}
    assert charged == {"fee": Decimal("5.00"), "interest": interest((chased, 14))}

    on(day(due, 20))
    rejected = call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "rejected", "note": "Delivered intact", "version": 1},
    )
    assert rejected.status == 200, rejected.body
    assert rejected.body["status"] == "closed"

    # The run of +30 after the resolution chases the whole amount again
    run_on(world, day(due, 30))
    final = reminders()[-1]
    assert final.template == "final_notice"
    assert f"{invoice.amount_due:,.2f} EUR" in final.body
    assert len(events(world, "CaseResolved")) == 1


def test_a_whole_dispute_leaves_the_invoice_unchased(client, world: World):
    invoice = _invoice(client, world)
    assert invoice.due_on is not None
    body = _dispute(invoice, lines=[], amount=str(invoice.amount_due))
    assert call(client, "POST", "/cases", key=PARTNER_KEY, body=body).status == 201
    [plan] = start_run(day(invoice.due_on, 14), dry_run=True)["plans"]
    assert plan["lines"] == []
    assert [skip["reason"] for skip in plan["skipped"]] == ["disputed"]


def test_staff_answer_then_credit_the_disputed_line(client, world: World):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    path = f"/cases/{case['case_id']}"

    answered = call(
        client, "POST", f"{path}/messages", body={"text": "Sorry; we credit it.", "version": 1}
    )
    assert answered.status == 201, answered.body
    assert answered.body["status"] == "answered"
    assert [m["from"] for m in answered.body["thread"]] == ["customer", "staff"]
    stale = call(client, "POST", f"{path}/messages", body={"text": "again", "version": 1})
    assert stale.status == 409 and stale.body["current_version"] == 2

    resolved = call(
        client,
        "POST",
        f"{path}/resolution",
        body={"outcome": "credit_note", "note": "Crushed boxes", "version": 2},
    )
    assert resolved.status == 200, resolved.body
    note = resolved.body["resolution"]["credit_note"]
    assert Decimal(note["total"]) == _line_gross(invoice)
    assert invoice_now(invoice.invoice_id).amount_due == invoice.amount_due - _line_gross(invoice)
    read = call(client, "GET", path)
    assert read.body["status"] == "closed" and len(read.body["thread"]) == 2
    conforms_to_openapi(read.body, "CaseWithThread")
    conforms_to_openapi(resolved.body, "Case")
    listed = call(client, "GET", f"/cases?customer_id={CUSTOMER}&owner=credit_manager")
    assert listed.status == 200, listed.body
    assert [c["case_id"] for c in listed.body["cases"]] == [case["case_id"]]
    assert call(client, "GET", "/cases?status=open").body["cases"] == []
    assert [i for i in world.table_items() if i.get("entity") == "DisputeHold"] == []


def test_partners_do_not_work_on_cases(client, world: World):
    assert call(client, "GET", "/cases", key=PARTNER_KEY).status == 403
    assert call(client, "GET", "/cases?status=nonsense", key=ADMIN_KEY).status == 400
    assert call(client, "GET", "/cases/case_nobody").status == 404


def test_two_resolutions_racing_issue_one_credit_note(client, world: World, monkeypatch):
    from functions.cases import common
    from functions.cases.resolve import ResolutionRequest, resolve
    from shared.store import cases as store

    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    monkeypatch.setattr(common.store, "get", after_both_read(store.get))
    staff = principal()

    def resolving(outcome: Outcome) -> Any:
        body = ResolutionRequest(outcome=outcome, note="decided", version=1)
        return lambda: resolve(case["case_id"], body, staff)

    outcomes = race(resolving(Outcome.CREDIT_NOTE), resolving(Outcome.REJECTED))

    assert statuses(outcomes) == [200, 409], outcomes
    [lost] = conflicts(outcomes)
    assert lost["current_version"] >= 2
    assert len(events(world, "CaseResolved")) == 1
    [won] = [outcome.body for outcome in outcomes if outcome.status == 200]
    credited = won["resolution"]["outcome"] == "credit_note"
    assert len(events(world, "CreditNoteIssued")) == (1 if credited else 0)


def _raw_subjects() -> list[str]:
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [
        str(email.message_from_string(m.raw_data)["Subject"])
        for m in sent
        if isinstance(m, RawMessage)
    ]


@pytest.mark.parametrize("request_type", ["invoice_copy", "statement"])
def test_a_standard_request_answers_itself_and_closes(client, world: World, request_type):
    invoice = _invoice(client, world)
    body = {
        "customer_id": CUSTOMER,
        "kind": "request",
        "request_type": request_type,
        "subject": "Please send",
        "message": "Thanks",
        "invoice_id": invoice.invoice_id,
    }
    before = len(_raw_subjects())
    opened = call(client, "POST", "/cases", key=PARTNER_KEY, body=body)

    assert opened.status == 201, opened.body
    case = opened.body
    assert case["status"] == "closed" and case["resolution"]["outcome"] == "answered"
    answers = [s for s in _raw_subjects()[before:] if s.startswith(case["number"])]
    assert len(answers) == 1 and answers[0].endswith(".pdf")
    assert len(events(world, "CaseResolved")) == 1


def test_a_payment_confirmation_waits_for_a_clerk(client, world: World):
    body = {
        "customer_id": CUSTOMER,
        "kind": "request",
        "request_type": "payment_confirmation",
        "subject": "Did you get it?",
        "message": "We paid on Monday.",
    }
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=body).body
    assert (case["status"], case["owner"]) == ("open", "ar_clerk")
    answered = call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "answered", "note": "Received, thank you.", "version": 1},
    )
    assert answered.status == 200 and answered.body["status"] == "closed"
    wrong = call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "answered", "note": "again", "version": 2},
    )
    assert wrong.status == 409


def _survey_link(number: str) -> str:
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    [message] = [
        m for m in sent if not isinstance(m, RawMessage) and m.subject.startswith(f"{number}: how")
    ]
    found = re.search(r"/cases/[^?\s<]+/survey\?token=[A-Za-z0-9_.\-]+", message.body)
    assert found is not None
    return found.group(0)


def test_a_closed_case_asks_once_how_it_went_and_the_report_counts_it(client, world: World):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    path = f"/cases/{case['case_id']}"
    clock.set_clock(lambda: datetime(2026, 11, 3, 6, tzinfo=UTC))
    call(client, "POST", f"{path}/messages", body={"text": "Looking into it", "version": 1})
    clock.set_clock(lambda: datetime(2026, 11, 4, 18, tzinfo=UTC))
    closed = call(
        client,
        "POST",
        f"{path}/resolution",
        body={"outcome": "rejected", "note": "Delivered intact", "version": 2},
    )
    assert closed.status == 200, closed.body
    link = _survey_link(case["number"])

    # hostile: no token, a forged one, another case's path, a bad score; nothing is stored
    assert call(client, "POST", f"{path}/survey", key=None, body={"score": 5}).status == 401
    forged = link[:-3] + "AAA"
    assert call(client, "POST", forged, key=None, body={"score": 5}).status == 403
    other = link.replace(case["case_id"], "case_other")
    assert call(client, "POST", other, key=None, body={"score": 5}).status == 403
    assert call(client, "POST", link, key=None, body={"score": 6}).status == 422
    assert [i for i in world.table_items() if i.get("entity") == "SurveyAnswer"] == []

    first = call(client, "POST", link, key=None, body={"score": 4, "comment": "Quick"})
    second = call(client, "POST", link, key=None, body={"score": 1})
    assert first.status == 201, first.body
    assert second.status == 409
    assert len(events(world, "SurveyAnswered")) == 1

    report = call(client, "GET", "/reports/service?from=2026-11-01&to=2026-11-30")
    assert report.status == 200, report.body
    assert report.body["opened"] == 1 and report.body["closed"] == 1
    figures = report.body
    assert figures["first_response_hours"] == {"median": 24.0, "p90": 24.0, "within_target": 1.0}
    assert figures["resolution_hours"] == {"median": 60.0, "p90": 60.0, "within_target": 1.0}
    assert figures["answered_within_due"] == 1.0
    assert figures["by_reason"] == {"damaged": 1}
    assert figures["by_outcome"] == {"rejected": 1}
    assert figures["disputes"] == {
        "opened": 1,
        "amount": {invoice.currency: str(_line_gross(invoice))},
        "resolved": 1,
        "days_to_resolve": {"median": 2.5, "p90": 2.5},
    }
    assert figures["satisfaction"] == {"average": 4.0, "responses": 1, "csat": 1.0}
    kpis = call(client, "GET", "/reports/kpis?from=2026-11-01&to=2026-11-04")  # up to today
    assert kpis.status == 200, kpis.body
    assert kpis.body["service"] == {**figures, "to": "2026-11-04"}  # the same figures
    bad = call(client, "GET", "/reports/service?from=2026-12-01&to=2026-11-01")
    assert bad.status == 400
    assert call(client, "GET", "/reports/service?from=x&to=y").status == 400


def _portal_link(client: Any) -> str:
    issued = call(
        client, "POST", f"/customers/{CUSTOMER}/portal-links", body={"email": "ap@acme.example"}
    )
    assert issued.status == 201, issued.body
    return str(issued.body["path"])


def _form_post(client: Any, path: str, fields: dict[str, str], content_type: str = FORM) -> Any:
    return client.http.post(
        path, headers={"Content-Type": content_type, "Accept": "text/html"}, body=urlencode(fields)
    )


def _portal_case_form(client: Any) -> tuple[str, str]:
    """The customer's portal page (its link) and the action its case form posts to."""
    page = _portal_link(client)
    base, token = page.split("?token=")
    return page, f"{base}/cases?{urlencode({'token': token})}"


def test_a_contact_opens_a_case_from_the_portal_and_reads_the_answer_there(client, world: World):
    invoice = _invoice(client, world)
    page, action = _portal_case_form(client)
    fields = {
        "kind": "dispute",
        "invoice_id": invoice.invoice_id,
        "reason": "price",
        "amount": "10.00",
        "subject": "Price <b>wrong</b>",
        "message": "We agreed less.",
    }

    sent = _form_post(client, action, fields)

    assert sent.status_code == 303
    assert sent.headers["Location"].startswith("../cus_acme?token=")
    [case] = _cases(world)
    assert (case["channel"], case["contact"], case["disputed_amount"]) == (
        "portal",
        "ap@acme.example",
        "10.00",
    )
    call(
        client,
        "POST",
        f"/cases/{case['case_id']}/messages",
        body={"text": "We check the price list.", "version": 1},
    )
    shown = client.http.get(page, headers={"Accept": "text/html"}).body.decode()
    assert "Price &lt;b&gt;wrong&lt;/b&gt;" in shown and "We check the price list." in shown


@pytest.mark.parametrize(
    ("query", "fields", "content_type", "status"),
    [
        ("", {"kind": "question", "subject": "s", "message": "m"}, FORM, 401),
        ("?token=forged", {"kind": "question", "subject": "s", "message": "m"}, FORM, 403),
        (None, {"kind": "question", "subject": "s"}, FORM, 422),  # no message
        (None, {"kind": "question", "subject": "s", "message": "m", "customer_id": "x"}, FORM, 422),
        (
            None,
            {
                "kind": "dispute",
                "subject": "s",
                "message": "m",
                "reason": "tax",
                "invoice_id": "inv_nobody",
                "amount": "1.00",
            },
            FORM,
            404,
        ),
        (None, {"kind": "question", "subject": "s", "message": "m"}, "application/json", 415),
    ],
)
def test_hostile_portal_forms_are_refused_and_write_nothing(
    client, world: World, query, fields, content_type, status
):
    page = _portal_link(client)
    base, token = page.split("?token=")
    suffix = f"?{urlencode({'token': token})}" if query is None else query
    answer = _form_post(client, f"{base}/cases{suffix}", fields, content_type)
    assert answer.status_code == status, answer.body
    assert _cases(world) == []


def test_a_portal_form_disputes_one_line_which_staff_credit(client, world: World):
    invoice = _invoice(client, world)
    _, action = _portal_case_form(client)
    fields = {
        "kind": "dispute",
        "invoice_id": invoice.invoice_id,
        "line_no": "1",
        "amount": str(_line_gross(invoice)),
        "reason": "damaged",
        "subject": "Line 1 crushed",
        "message": "All of it.",
    }

    sent = _form_post(client, action, fields)

    assert sent.status_code == 303, sent.body
    [case] = _cases(world)
    assert case["lines"] == [{"line_no": 1, "amount": str(_line_gross(invoice))}]
    resolved = call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "credit_note", "note": "Credited", "version": 1},
    )
    assert resolved.status == 200, resolved.body
    assert resolved.body["resolution"]["credit_note"]


@pytest.mark.parametrize(
    "line",
    [
        {"line_no": "9"},  # no such line
        {"line_no": "x"},
        {"line_no": "9" * 5000},
        {"line_no": "1", "amount": "100000.00"},  # above the line's amount
        {"line_no": "1", "amount": ""},
    ],
)
def test_hostile_line_disputes_are_refused_and_write_nothing(client, world: World, line):
    invoice = _invoice(client, world)
    _, action = _portal_case_form(client)
    fields = {
        "kind": "dispute",
        "invoice_id": invoice.invoice_id,
        "amount": "1.00",
        "reason": "damaged",
        "subject": "s",
        "message": "m",
        **line,
    }
    answer = _form_post(client, action, fields)
    assert answer.status_code == 422, answer.body
    assert answer.headers["Content-Type"].startswith("text/html")
    assert _cases(world) == []


def test_the_survey_link_opens_a_form_answered_once(client, world: World):
    # Given a closed case and the survey link its closing e-mail holds
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    closed = call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "rejected", "note": "Delivered intact", "version": 1},
    )
    assert closed.status == 200, closed.body
    link = _survey_link(case["number"])

    # When the contact opens it in a browser
    page = client.http.get(link, headers={"Accept": "text/html"})

    # Then it is a form posting to the survey with the token, every value escaped
    assert page.status_code == 200, page.body
    shown = page.body.decode()
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<script" not in shown and case["number"] in shown
    [action] = re.findall(r'<form method="post" action="([^"]*)"', shown)
    assert action.replace("&amp;", "&") == link.rsplit("/", 1)[1]
    assert re.findall(r'name="score" value="(\d)"', shown) == ["1", "2", "3", "4", "5"]

    # When the form is sent: a thank-you page; then again: a 409 page, one answer stored
    fields = {"score": "5", "comment": "Fair <b>and</b> quick"}
    first = _form_post(client, link, fields)
    second = _form_post(client, link, {"score": "2"})
    assert first.status_code == 201, first.body
    assert "Fair &lt;b&gt;and&lt;/b&gt; quick" in first.body.decode()
    assert second.status_code == 409
    assert second.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "answered already" in second.body.decode()
    [answered] = events(world, "SurveyAnswered")
    assert answered["survey"]["score"] == 5


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"score": "6"}, 422),
        ({"score": "five"}, 422),
        ({"score": "9" * 5000}, 422),
        ({}, 422),
        ({"score": "4", "rating": "4"}, 422),
    ],
)
def test_hostile_survey_forms_are_refused_and_store_nothing(client, world: World, fields, status):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    call(
        client,
        "POST",
        f"/cases/{case['case_id']}/resolution",
        body={"outcome": "rejected", "note": "No", "version": 1},
    )
    link = _survey_link(case["number"])
    answer = _form_post(client, link, fields)
    assert answer.status_code == status, answer.body
    assert answer.headers["Content-Type"].startswith("text/html")
    assert [i for i in world.table_items() if i.get("entity") == "SurveyAnswer"] == []
    forged = _form_post(client, link[:-3] + "AAA", {"score": "4"})
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"outcome": "refund", "note": "x", "version": 1}, 422),
        ({"outcome": "rejected", "note": "", "version": 1}, 422),
        ({"outcome": "rejected", "note": "x"}, 422),
        ({"outcome": "rejected", "note": "x", "version": "1"}, 422),
        ({"outcome": "answered", "note": "x", "version": 1}, 422),  # a dispute is not answered
        ({"outcome": "rejected", "note": "x", "version": 7}, 409),
    ],
)
def test_hostile_resolutions_change_nothing(client, world: World, body, status):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    answer = call(client, "POST", f"/cases/{case['case_id']}/resolution", body=body)
    assert answer.status == status, answer.body
    [stored] = _cases(world)
    assert (stored["status"], stored["version"]) == ("open", 1)
    assert [i for i in world.table_items() if i.get("entity") == "DisputeHold"] != []


def test_staff_change_the_owner_at_the_version_they_read(client, world: World):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    path = f"/cases/{case['case_id']}"

    moved = call(client, "PATCH", path, body={"owner": "ar_clerk", "version": 1})
    stale = call(client, "PATCH", path, body={"owner": "admin", "version": 1})

    assert moved.status == 200, moved.body
    assert (moved.body["owner"], moved.body["version"]) == ("ar_clerk", 2)
    conforms_to_openapi(moved.body, "Case")
    assert stale.status == 409 and stale.body["current_version"] == 2
    [reassigned] = events(world, "CaseReassigned")
    assert reassigned["previous_owner"] == "credit_manager"
    assert reassigned["owner"] == "ar_clerk"
    listed = call(client, "GET", "/cases?owner=ar_clerk").body["cases"]
    assert [found["case_id"] for found in listed] == [case["case_id"]]
    call(
        client,
        "POST",
        f"{path}/resolution",
        body={"outcome": "rejected", "note": "No", "version": 2},
    )
    closed = call(client, "PATCH", path, body={"owner": "admin", "version": 3})
    assert closed.status == 409 and closed.body["current_version"] == 3


@pytest.mark.parametrize(
    ("body", "key", "status"),
    [
        ({"owner": "partner", "version": 1}, ADMIN_KEY, 422),  # not a role that works on cases
        ({"owner": "auditor", "version": 1}, ADMIN_KEY, 422),
        ({"owner": "<b>x</b>", "version": 1}, ADMIN_KEY, 422),
        ({"owner": "ar_clerk"}, ADMIN_KEY, 422),
        ({"owner": "ar_clerk", "version": "1"}, ADMIN_KEY, 422),
        ({"owner": "ar_clerk", "version": 1, "status": "closed"}, ADMIN_KEY, 422),
        ({"owner": "ar_clerk", "version": 1}, PARTNER_KEY, 403),
    ],
)
def test_hostile_owner_changes_change_nothing(client, world: World, body, key, status):
    invoice = _invoice(client, world)
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    before = _cases(world)
    answer = call(client, "PATCH", f"/cases/{case['case_id']}", key=key, body=body)
    assert answer.status == status, answer.body
    assert _cases(world) == before
    assert events(world, "CaseReassigned") == []
    unknown = call(client, "PATCH", "/cases/case_nobody", body={"owner": "admin", "version": 1})
    assert unknown.status == 404


def test_a_customer_named_case_owner_owns_its_new_cases(client, world: World):
    invoice = _invoice(client, world)
    account = call(client, "GET", f"/customers/{CUSTOMER}").body
    assert account["case_owner"] is None
    hostile = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": account["version"], "case_owner": "partner"},
    )
    assert hostile.status == 422, hostile.body
    assert call(client, "GET", f"/customers/{CUSTOMER}").body == account  # nothing changed

    named = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": account["version"], "case_owner": "admin"},
    )
    assert named.status == 200, named.body
    assert named.body["case_owner"] == "admin"
    dispute = call(client, "POST", "/cases", key=PARTNER_KEY, body=_dispute(invoice)).body
    assert dispute["owner"] == "admin"

    cleared = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": named.body["version"], "case_owner": None},
    )
    assert cleared.status == 200 and cleared.body["case_owner"] is None
    question = {"customer_id": CUSTOMER, "kind": "question", "subject": "?", "message": "?"}
    assert (
        call(client, "POST", "/cases", key=PARTNER_KEY, body=question).body["owner"] == "ar_clerk"
    )
