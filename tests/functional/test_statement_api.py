"""GET /customers/{id}/statement: the statement of account from the ledger, as JSON or PDF."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from pypdf import PdfReader

from infra.local.seed import demo_principal
from shared import clock
from shared.domain.principal import Role
from shared.store import ledger as ledger_store
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice, paid_in
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY
from tests.functional.helpers import assert_problem
from tests.functional.invoicing import legacy_invoice

OTHER_PARTNER_KEY = "otc_test_statement_partner_key_0123456789"
LEGACY_DUE = date(2025, 12, 3)


def _statement(client, customer_id: str = CUSTOMER, query: str = "", key: str = PARTNER_KEY):
    path = f"/customers/{customer_id}/statement" + (f"?{query}" if query else "")
    return client.http.get(path, headers={"X-Api-Key": key})


def _money(amount: Decimal) -> dict[str, str]:
    return {"amount": str(amount), "currency": "EUR"}


@pytest.fixture
def billed(world, client):
    """Two invoices of the customer, the first paid in part (30.00)."""
    first = issued_invoice(client, world)
    second = issued_invoice(client, world)
    payment = paid_in(
        world, "30.00", customer_id=CUSTOMER, metadata={"invoice_number": first.number}
    )
    assert invoice_now(first.invoice_id).status.value == "partially_paid"
    return first, second, payment


def test_the_statement_lists_what_was_billed_and_paid_and_what_is_owed(world, client, billed):
    # Given
    first, second, payment = billed
    today = clock.now().date()

    # When the partner reads the statement of the default period
    answer = _statement(client)

    # Then the last 90 days up to today
    assert answer.status_code == 200, answer.body
    statement = json.loads(answer.body)
    assert (statement["customer_id"], statement["currency"]) == (CUSTOMER, "EUR")
    assert statement["customer_name"]
    assert (statement["from"], statement["to"]) == (
        (today - timedelta(days=90)).isoformat(),
        today.isoformat(),
    )
    assert statement["opening_balance"] == _money(Decimal("0.00"))
    # the invoices are debits, the payment a credit; applying it is no line
    rows = [
        (line["kind"], line["reference"], line["debit"], line["credit"])
        for line in statement["lines"]
    ]
    assert rows == [
        ("invoice", first.number, _money(first.total), _money(Decimal("0.00"))),
        ("invoice", second.number, _money(second.total), _money(Decimal("0.00"))),
        ("payment", payment.payment_id, _money(Decimal("0.00")), _money(Decimal("30.00"))),
    ]
    owed = first.total + second.total - Decimal("30.00")
    assert statement["lines"][-1]["balance"] == _money(owed)
    assert statement["closing_balance"] == _money(owed)
    # the closing balance is the ledger's
    assert ledger_store.balance(CUSTOMER) == owed
    # nothing is due yet
    aging = statement["aging"]
    assert aging["as_of"] == today.isoformat()
    assert aging["buckets"]["current"] == _money(owed)
    assert aging["total"] == _money(owed)
    assert [
        (i["number"], i["amount_due"], i["days_overdue"]) for i in aging["open_invoices"]
    ] == sorted(
        [
            (first.number, _money(first.total - Decimal("30.00")), 0),
            (second.number, _money(second.total), 0),
        ]
    )


def test_the_aging_counts_days_past_due_to_the_end_and_includes_legacy_invoices(
    world, client, billed
):
    # Given a legacy invoice long overdue, and the invoices due 30 days after issue
    first, second, _ = billed
    legacy_invoice(
        CUSTOMER, "OLD-7", issued="2025-11-03", due=LEGACY_DUE.isoformat(), still_open="200.00"
    )
    assert first.due_on is not None
    end = first.due_on + timedelta(days=15)

    # When the statement ends 15 days after the invoices fell due
    answer = _statement(client, query=f"to={end.isoformat()}")

    # Then
    assert answer.status_code == 200, answer.body
    aging = json.loads(answer.body)["aging"]
    owed = first.total + second.total - Decimal("30.00")
    assert aging["buckets"] == {
        "current": _money(Decimal("0.00")),
        "1-30": _money(owed),
        "31-60": _money(Decimal("0.00")),
        "61-90": _money(Decimal("0.00")),
        "90+": _money(Decimal("200.00")),
    }
    legacy, *ours = aging["open_invoices"]
    assert (legacy["number"], legacy["legacy"], legacy["bucket"]) == ("OLD-7", True, "90+")
    assert legacy["days_overdue"] == (end - LEGACY_DUE).days
    assert {(i["number"], i["days_overdue"]) for i in ours} == {
        (first.number, 15),
        (second.number, 15),
    }


def test_a_period_after_the_activity_opens_with_the_balance(world, client, billed):
    # Given
    first, second, _ = billed
    tomorrow = clock.now().date() + timedelta(days=1)

    # When the statement starts tomorrow
    answer = _statement(client, query=f"from={tomorrow}&to={tomorrow + timedelta(days=5)}")

    # Then everything is in the opening balance
    statement = json.loads(answer.body)
    owed = _money(first.total + second.total - Decimal("30.00"))
    assert (statement["opening_balance"], statement["lines"]) == (owed, [])
    assert statement["closing_balance"] == owed


def test_the_pdf_statement_is_stored_and_linked_for_five_minutes(world, client, billed):
    # Given
    first, second, _ = billed
    today = clock.now().date()
    start = today - timedelta(days=90)

    # When
    answer = _statement(client, query="format=pdf")

    # Then a presigned GET, valid five minutes, that nobody caches
    assert answer.status_code == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    link = json.loads(answer.body)
    assert link["expires_in"] == 300
    assert parse_qs(urlparse(link["url"]).query)["X-Amz-Expires"] == ["300"]
    downloaded = requests.get(link["url"], timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(downloaded.content)).pages)
    assert "Statement of account" in text
    assert first.number in text and second.number in text
    owed = first.total + second.total - Decimal("30.00")
    assert f"{owed:,.2f}" in text
    # stored where the key says, encrypted with the stack's key
    stored = world.session.client("s3").head_object(
        Bucket=world.outputs["DocumentsBucketName"],
        Key=f"account-statements/{CUSTOMER}/{start.isoformat()}_{today.isoformat()}.pdf",
    )
    assert stored["ContentType"] == "application/pdf"
    assert stored["ServerSideEncryption"] == "aws:kms"


def test_another_partners_customer_is_not_found(world, client, billed):
    # Given a partner acting for another customer only
    demo_principal(
        "prt_statement",
        "partner",
        "Other partner",
        Role.PARTNER,
        OTHER_PARTNER_KEY,
        customer_ids=("cus_globex",),
    )

    # When / Then
    assert_problem(_statement(client, key=OTHER_PARTNER_KEY), 404, "not-found")
    assert_problem(_statement(client, query="format=pdf", key=OTHER_PARTNER_KEY), 404, "not-found")


def test_an_unknown_customer_is_not_found(world, client):
    assert_problem(_statement(client, customer_id="cus_nope", key=ADMIN_KEY), 404, "not-found")


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-31&to=2026-03-01",  # from after to
        "from=2022-01-01&to=2026-01-02",  # more than three years
        "from=2026-02-30",  # no such day
        "to=20260301",  # not YYYY-MM-DD
        "to=yesterday",
        "format=docx",
        "period=q1",  # unknown parameter
    ],
)
def test_a_bad_query_is_refused(world, client, query):
    # When
    answer = _statement(client, query=query)

    # Then
    problem = assert_problem(answer, 400, "invalid-query")
    assert problem["errors"]


def test_a_period_of_exactly_three_years_is_accepted(world, client):
    # When
    answer = _statement(client, query="from=2023-01-02&to=2026-01-02")

    # Then
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["lines"] == []
