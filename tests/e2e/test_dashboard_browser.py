"""The finance dashboard in a real browser: Debian's chromium, headless, against the local stack.

Data is seeded through the API only (a customer, and its open receivables imported as legacy
invoices with due dates relative to today), a signed link is minted with the admin key, and
chromium loads the page from the link as a person would (no API key: a browser cannot send
one). The DOM chromium built must show the seeded numbers, and chromium takes a screenshot;
``DASHBOARD_SCREENSHOT=docs/dashboard.png`` keeps it there (the one docs/reports.md shows), so a
test run leaves the work tree as it found it.

The receivables are in CHF, a currency no other e2e test uses, so the session's other data
cannot change the figures checked here. Without chromium the test is skipped on a developer's
machine but fails in CI (``CI`` set; .ci/run installs chromium from Debian's packages).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN_KEY, ROOT, Answer, LocalStack
from tests.e2e.invoiced import shipped_and_invoiced

pytestmark = pytest.mark.e2e

BROWSER_TIMEOUT_SECONDS = 60
IMPORT_TIMEOUT_SECONDS = 30.0
CUSTOMER_NAME = "Dashboard Browser AG"
TREND_CELL = r'<td class="num" data-month="(\d{4}-\d{2})" data-currency="([A-Z]{3})">'
KPIS = ("cei", "dso", "countback_dso", "average_days_to_pay", "fulfilment_rate")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def browse(browser: str, url: str, profile: Path, *arguments: str) -> str:
    """Run headless chromium on ``url``; its stdout (the DOM for --dump-dom)."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_SECONDS, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def send(stack: LocalStack, method: str, path: str, body: bytes, content_type: str) -> Answer:
    return stack.request(
        method,
        path,
        body=body,
        headers={
            "Content-Type": content_type,
            "X-Api-Key": ADMIN_KEY,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )


def seed_receivables(stack: LocalStack, today: date) -> str:
    """A CHF customer with three open legacy invoices; returns the customer's id.

    Due 45 days ago, 1200.00 open (31-60); due in 20 days, 300.00 (current); due 100 days ago,
    80.50 of 500.00 open (90+). Totals: current 300.00, 31-60 1,200.00, 90+ 80.50, 1,580.50.
    """
    customer = {
        "legal_name": CUSTOMER_NAME,
        "billing_email": "ar@dashboard-browser.example",
        "currency": "CHF",
        "billing_address": {
            "line1": "Bahnhofstrasse 1",
            "city": "Zurich",
            "postal_code": "8001",
            "country": "CH",
        },
    }
    created = send(stack, "POST", "/customers", json.dumps(customer).encode(), "application/json")
    assert created.status == 201, created.body
    customer_id = str(created.json()["id"])
    rows = [
        ("DB-1", today - timedelta(days=75), today - timedelta(days=45), "1200.00", "1200.00"),
        ("DB-2", today - timedelta(days=10), today + timedelta(days=20), "300.00", "300.00"),
        ("DB-3", today - timedelta(days=130), today - timedelta(days=100), "500.00", "80.50"),
    ]
    csv = "customer_id,invoice_number,issue_date,due_date,currency,original_amount,open_amount\n"
    csv += "".join(
        f"{customer_id},{number},{issued},{due},CHF,{original},{still_open}\n"
        for number, issued, due, original, still_open in rows
    )
    uploaded = send(stack, "POST", "/imports/receivables", csv.encode(), "text/csv")
    assert uploaded.status == 202, uploaded.body
    status_path = uploaded.headers["location"]
    deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = stack.request("GET", status_path, headers={"X-Api-Key": ADMIN_KEY}).json()
        if job.get("status") in ("completed", "failed"):
            break
        time.sleep(0.2)
    assert job.get("status") == "completed", job
    return customer_id


class _Cells(HTMLParser):
    """Text of elements by their data-* attributes, as chromium serialised the DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[dict[str, str], str]] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append((tag, {k: v or "" for k, v in attrs}, []))

    def handle_data(self, data: str) -> None:
        for _, _, texts in self._open:
            texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, attributes, texts = self._open.pop()
            self.found.append((attributes, "".join(texts).strip()))
            if name == tag:
                return

    def text(self, **wanted: str) -> str:
        matches = [
            text
            for attributes, text in self.found
            if all(attributes.get(f"data-{k}") == v for k, v in wanted.items())
        ]
        assert len(matches) == 1, (wanted, matches)
        return matches[0]


def test_the_dashboard_shows_the_seeded_receivables_in_headless_chromium(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    browser = chromium()
    # Given receivables seeded through the API, and a signed link minted with the admin key
    today = datetime.now(UTC).date()  # the stack's "today": it runs on this machine's clock
    customer_id = seed_receivables(local_stack, today)
    shipped_and_invoiced(local_stack, "PO-DASHBOARD-1")  # an EUR sale: the DSO trend has a point
    minted = send(local_stack, "POST", "/dashboard/links", b"{}", "application/json")
    assert minted.status == 201, minted.body
    url = local_stack.api_url + minted.json()["path"]

    # When chromium loads the page from the link
    started = time.monotonic()
    dom = browse(browser, url, tmp_path / "profile", "--dump-dom")
    loaded_in = time.monotonic() - started

    # Then the DOM it rendered shows the seeded aging totals...
    cells = _Cells()
    cells.feed(dom)
    assert "Receivables dashboard" in dom, dom[:500]
    assert cells.text(currency="CHF", bucket="current") == "300.00"
    assert cells.text(currency="CHF", bucket="31-60") == "1,200.00"
    assert cells.text(currency="CHF", bucket="90+") == "80.50"
    assert cells.text(currency="CHF", bucket="total") == "1,580.50"
    # ...the aging chart drew them (its bars carry the figures it scaled)
    bars = re.findall(r'<rect class="[^"]*"[^>]*data-bucket="([^"]*)" data-value="([^"]*)"', dom)
    chf_chart = dom[dom.index('data-currency="CHF"') :]
    assert ("31-60", "1200.00") in bars
    assert "AR aging in CHF: current 300.00, 1-30 0.00, 31-60 1,200.00" in chf_chart
    # ...and the customer tops the overdue customers in CHF: 1,280.50 past due, oldest 90+
    [row] = re.findall(rf'<tr data-customer="{customer_id}"[^>]*>(.*?)</tr>', dom)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == [
        CUSTOMER_NAME,
        "CHF",
        "1,280.50",
        "90+",
        "1,580.50",
    ]
    # ...the DSO trend from the lake: six months, the EUR sale's month defined, in its table
    # and its chart
    months = sorted({month for month, _ in re.findall(TREND_CELL, dom)})
    assert len(months) == 6 and months[-1] == today.strftime("%Y-%m"), months
    eur_dso = cells.text(month=months[-1], currency="EUR")
    assert float(eur_dso) >= 0, eur_dso
    assert 'data-chart="dso" data-currency="EUR"' in dom
    # ...the collection figures of the last 30 days from the lake: CEI, both DSOs, days to pay
    # and fulfilment per currency (CHF's legacy receivables, the EUR sale)
    assert "Collection effectiveness" in dom
    for currency in ("CHF", "EUR"):
        for kpi in KPIS:
            shown = cells.text(currency=currency, kpi=kpi)
            assert shown == "-" or re.fullmatch(r"-?\d+\.\d{2}", shown), (currency, kpi, shown)
    assert cells.text(currency="EUR", kpi="dso") != "-"
    # ...and the behaviour panels from the lake: the riskiest customers with their score, band
    # and first factor (the EUR sale's customer is there), and the customers per segment
    assert "Riskiest customers" in dom and "Behaviour segments" in dom
    risky = re.findall(r'<tr data-risky="([^"]*)" data-currency="([^"]*)"[^>]*>(.*?)</tr>', dom)
    assert 1 <= len(risky) <= 5, dom[dom.index('id="riskiest"') :][:2000]
    for risky_id, currency, shown in risky:
        assert risky_id and currency in {"CHF", "EUR", "GBP", "USD"}, (risky_id, currency)
        fields = dict(re.findall(r'<td[^>]*data-field="([a-z_]+)"[^>]*>([^<]*)</td>', shown))
        assert set(fields) == {"score", "band", "factor"}, shown
        assert 0 <= float(fields["score"]) <= 100
        assert fields["band"] in {"low", "medium", "high", "very_high"}
    segments = re.findall(r'data-segment="([a-z_]+)">(\d+)<', dom)
    assert segments and all(int(count) >= 1 for _, count in segments)
    assert sum(int(count) for _, count in segments) >= len(risky)
    assert loaded_in < BROWSER_TIMEOUT_SECONDS

    # When chromium takes a screenshot
    shot = tmp_path / "dashboard.png"
    browse(browser, url, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1200")

    # Then it is a PNG (kept where DASHBOARD_SCREENSHOT says, e.g. docs/dashboard.png)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if keep := os.environ.get("DASHBOARD_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / keep)


def test_the_page_refuses_a_browser_without_a_valid_link(local_stack: LocalStack) -> None:
    # When the page is asked for with a made-up token, or with none
    forged = local_stack.request("GET", "/dashboard?token=1999999999.AAAA")
    bare = local_stack.request("GET", "/dashboard")

    # Then neither gets in
    assert forged.status == 401, forged.body
    assert bare.status == 401, bare.body
