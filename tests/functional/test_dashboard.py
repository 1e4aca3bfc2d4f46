"""GET /dashboard and POST /dashboard/links: the finance page, for staff or a link holder."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from shared import clock
from shared.config import settings
from tests.functional.accounts import call, new_staff
from tests.functional.cash import paid_in
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY
from tests.functional.helpers import assert_problem
from tests.functional.invoicing import acme_owes_two_legacy_invoices

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture
def books(world):
    """On 2026-12-01: ACME owes 1000.00 due 2026-10-15 (47 days past due: 31-60) and 250.00 due
    2026-12-15 (current); 75.00 came in from an unknown payer and waits to be applied."""
    acme_owes_two_legacy_invoices()
    clock.set_clock(lambda: NOW)
    paid_in(world, "75.00", payer_name="Nobody We Know")
    yield world
    clock.set_clock(None)


def get(client, path, key=None):
    headers = {"X-Api-Key": key} if key else {}
    return client.http.get(path, headers=headers)


def mint(client, key=ADMIN_KEY):
    return call(client, "POST", "/dashboard/links", key=key, body={})


def text_of(page, **attributes):
    pattern = "".join(f'(?=[^>]*data-{name}="{value}")' for name, value in attributes.items())
    [found] = re.findall(rf"<[a-z]+{pattern}[^>]*>([^<]*)<", page)
    return found


def test_staff_see_aging_unapplied_cash_and_worklists_as_html(books, client):
    # When an admin opens the dashboard with their key
    response = get(client, "/dashboard", ADMIN_KEY)

    # Then it is a self-contained HTML page that is never cached
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = response.body.decode()
    # and it shows the books of 2026-12-01 as text
    assert text_of(page, currency="EUR", bucket="current") == "250.00"
    assert text_of(page, currency="EUR", bucket="31-60") == "1,000.00"
    assert text_of(page, currency="EUR", bucket="total") == "1,250.00"
    assert text_of(page, unapplied="EUR") == "75.00"
    assert text_of(page, count="payments-to-apply") == "1"
    assert text_of(page, count="collections-worklist") == "1"
    assert '<tr data-customer="cus_acme" data-currency="EUR">' in page
    assert '<svg role="img"' in page


@pytest.mark.parametrize("role", ["ar_clerk", "credit_manager", "auditor"])
def test_every_staff_role_that_reads_reports_may_open_it(world, client, role):
    # Given
    _, key = new_staff(client, role)

    # Then
    assert get(client, "/dashboard", key).status_code == 200
    assert mint(client, key).status == 201


def test_partners_and_strangers_are_kept_out(world, client):
    assert_problem(get(client, "/dashboard", PARTNER_KEY), 403, "forbidden")
    assert_problem(get(client, "/dashboard"), 401, "unauthorized")
    assert mint(client, PARTNER_KEY).status == 403


def test_a_minted_link_opens_the_page_without_a_key_for_fifteen_minutes(books, client):
    # Given a link minted by staff
    minted = mint(client)
    assert minted.status == 201, minted.body
    assert minted.headers["Cache-Control"] == "no-store"
    link = minted.body
    assert link["path"].startswith("/dashboard?token=")
    assert link["expires_at"] == "2026-12-01T12:15:00Z"

    # When a browser opens it (no key)
    opened = get(client, link["path"])

    # Then
    assert opened.status_code == 200, opened.body
    assert text_of(opened.body.decode(), currency="EUR", bucket="total") == "1,250.00"
    assert opened.headers["Referrer-Policy"] == "no-referrer"


def test_an_expired_or_altered_link_is_refused(books, client):
    # Given a link
    path = mint(client).body["path"]
    token = path.split("token=")[1]
    expires, signature = token.split(".")

    # When it is used after its 15 minutes, or with a longer expiry written in
    clock.set_clock(lambda: NOW + timedelta(minutes=15))
    expired = get(client, path)
    clock.set_clock(lambda: NOW)
    stretched = get(client, f"/dashboard?token={int(expires) + 3600}.{signature}")

    # Then
    assert_problem(expired, 401, "link-expired")
    assert_problem(stretched, 401, "invalid-link")


def test_a_key_for_someone_else_does_not_make_a_bad_token_good(books, client):
    # When a partner key comes along with a forged token
    response = get(client, "/dashboard?token=123.abc", PARTNER_KEY)

    # Then the token is what is judged, and it is refused
    assert_problem(response, 401, "invalid-link")


def test_without_a_link_secret_links_cannot_be_minted(world, client, monkeypatch):
    # Given a deployment whose secret parameter does not exist
    monkeypatch.setenv("DASHBOARD_LINK_SECRET_PARAMETER", "/otc/nowhere/link-secret")
    settings.cache_clear()

    # When
    response = call(client, "POST", "/dashboard/links", body={})

    # Then it says so, and staff keys still open the page
    assert response.status == 503, response.body
    assert response.body["type"].endswith("/links-not-configured")
    assert get(client, "/dashboard", ADMIN_KEY).status_code == 200
    settings.cache_clear()


def test_the_link_answer_is_json(books, client):
    response = mint(client)
    assert response.headers["Content-Type"] == "application/json"
    assert set(json.loads(json.dumps(response.body))) == {"url", "path", "expires_at"}


def test_the_dso_trend_and_collection_figures_come_from_the_lake(books, client):
    from functions.lake.backfill import backfill
    from functions.reporting import reports

    # Given the books in the lake
    backfill()

    # When the dashboard is opened
    page = get(client, "/dashboard", ADMIN_KEY).body.decode()

    # Then the collection figures of the last 30 days are the books' KPIs, per currency
    kpis = reports.kpi_report(NOW.date() - timedelta(days=29), NOW.date()).to_wire()
    [eur] = [group for group in kpis["currencies"] if group["currency"] == "EUR"]
    for name in ("cei", "dso", "countback_dso", "average_days_to_pay", "fulfilment_rate"):
        assert text_of(page, currency="EUR", kpi=name) == (eur[name] or "-"), name
    # and the DSO trend is the books' month by month
    for month in reports.dso_trend(NOW.date(), 6):
        for currency, dso in month["dso"].items():
            assert text_of(page, month=month["month"], currency=currency) == (dso or "-")

    # When the lake is emptied, Then the panels read it: nothing sold or open
    s3, bucket = books.session.client("s3"), books.outputs["LakeBucketName"]
    for page_of in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="lake/"):
        for item in page_of.get("Contents", ()):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    emptied = get(client, "/dashboard", ADMIN_KEY).body.decode()
    assert "Nothing sold or open in these days." in emptied
    assert 'data-kpi="cei"' not in emptied


def test_the_service_panel_shows_the_service_reports_figures(books, client):
    # Given a question opened and answered 6 hours later, and a statement request (answered
    # at once, closed)
    question = {"kind": "question", "subject": "Terms?", "message": "Net 30?"}
    opened = call(
        client, "POST", "/cases", key=PARTNER_KEY, body={"customer_id": "cus_acme", **question}
    )
    assert opened.status == 201, opened.body
    clock.set_clock(lambda: NOW + timedelta(hours=6))
    answered = call(
        client,
        "POST",
        f"/cases/{opened.body['case_id']}/messages",
        body={"text": "Yes", "version": 1},
    )
    assert answered.status == 201, answered.body

    # When staff open the dashboard
    page = get(client, "/dashboard", ADMIN_KEY).body.decode()

    # Then the panel shows what the service report and the KPIs' service block say
    report = call(client, "GET", "/reports/service?from=2026-11-02&to=2026-12-01").body
    kpis = call(client, "GET", "/reports/kpis?from=2026-11-02&to=2026-12-01").body
    assert kpis["service"] == report
    assert text_of(page, service="opened") == str(report["opened"]) == "1"
    assert text_of(page, service="first_response_median") == "6.0"
    assert text_of(page, service="first_response_within_target") == "100.0 %"
    assert text_of(page, reason="question") == "1"
    assert 'id="service-title"' in page
