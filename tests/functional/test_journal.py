"""The journal for the accountants over the API: account codes, pages, CSV, trial balance, export.

The clock is set to each day's 09:00 UTC. The books:

- 03-02: IA1 issued (the demo order: 59.97 at 19 % and 0.13 at 7 %: VAT 11.39 + 0.01 = 71.50);
- 03-05: IA2 issued (71.50); 03-06: one widget of it credited (19.99 + 3.80 VAT = 23.79);
- 03-10: 30.00 received on the seller's account DE89370400440532013000, applied by a clerk to IA1.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from functions.ledger import export
from infra.local.pump import LambdaContext
from shared import clock, config
from shared.domain.invoice import Invoice
from tests.functional.accounts import call, new_staff
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice, received
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import assert_problem, conforms_to_openapi
from tests.functional.invoicing import credit_note

EVENTS = Path(__file__).parents[2] / "events"
SELLER_IBAN = "DE89370400440532013000"
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def on(day: str) -> None:
    moment = datetime.combine(date.fromisoformat(day), time(9), UTC)
    clock.set_clock(lambda: moment)


@pytest.fixture
def books(client: Client, world: World) -> dict[str, Any]:
    on("2026-03-02")
    first = issued_invoice(client, world)
    on("2026-03-05")
    second = issued_invoice(client, world)
    on("2026-03-06")
    body = {"reason": "One widget arrived damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    note = credit_note(client, second.invoice_id, body)
    assert note.status == 201, note.body
    on("2026-03-10")
    payment = received("30.00", customer_id=CUSTOMER, metadata={"account_iban": SELLER_IBAN})
    allocation = {"allocations": [{"invoice_id": first.invoice_id, "amount": "30.00"}]}
    answer = call(client, "POST", f"/payments/{payment.payment_id}/allocations", body=allocation)
    assert answer.status == 201, answer.body
    world.pump.drain()
    return {"IA1": first, "IA2": second, "CN": note.body, "payment_id": payment.payment_id}


def _journal(client: Client, query: str, **headers: str) -> Any:
    return client.http.get(f"/ledger/journal?{query}", headers={"X-Api-Key": ADMIN_KEY, **headers})


def _lines(entry: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (line["account_code"], line["account_name"], line["debit"], line["credit"])
        for line in entry["lines"]
    ]


def _balanced(entry: dict[str, Any]) -> bool:
    debits = sum(Decimal(line["debit"]) for line in entry["lines"])
    credits = sum(Decimal(line["credit"]) for line in entry["lines"])
    return debits == credits == Decimal(entry["total"]) > 0


def test_the_journal_lists_the_entries_of_the_period_with_account_codes(
    client: Client, books: dict[str, Any]
) -> None:
    # Given the books of March; When the journal of March is asked for
    answer = call(client, "GET", f"/ledger/journal?{MARCH}")

    # Then it lists the five entries in posting order (time, then entry id: the clock stood
    # still on 03-10), each balanced
    assert answer.status == 200, answer.body
    conforms_to_openapi(answer.body, "JournalPage")
    entries = answer.body["entries"]
    ia1: Invoice = books["IA1"]
    ia2: Invoice = books["IA2"]
    note = books["CN"]
    payment_id = books["payment_id"]
    assert [(e["posting_date"], e["kind"]) for e in entries] == [
        ("2026-03-02", "invoice"),
        ("2026-03-05", "invoice"),
        ("2026-03-06", "credit_note"),
        ("2026-03-10", "allocation"),
        ("2026-03-10", "payment"),
    ]
    assert all(_balanced(entry) for entry in entries)
    assert answer.body["next_cursor"] is None and answer.body["skipped"] == []
    invoice, _, credited, applied, paid = entries
    # IA1: receivables 71.50; revenue and VAT per tax group (19 % and 7 %)
    assert invoice["entry_id"] == f"invoice:{ia1.invoice_id}"
    assert invoice["document"] == {"type": "invoice", "id": ia1.invoice_id, "number": ia1.number}
    assert _lines(invoice) == [
        ("1200", "Trade receivables", "71.50", "0.00"),
        ("4019", "Revenue 19 % VAT", "0.00", "59.97"),
        ("4007", "Revenue 7 % VAT", "0.00", "0.13"),
        ("2219", "VAT payable 19 %", "0.00", "11.39"),
        ("2207", "VAT payable 7 %", "0.00", "0.01"),
    ]
    # the credit note names itself and the invoice it credits
    assert credited["document"] == {
        "type": "credit_note",
        "id": note["id"],
        "number": note["number"],
    }
    assert credited["invoice"] == {"id": ia2.invoice_id, "number": ia2.number}
    assert _lines(credited) == [
        ("4019", "Revenue 19 % VAT", "19.99", "0.00"),
        ("2219", "VAT payable 19 %", "3.80", "0.00"),
        ("1200", "Trade receivables", "0.00", "23.79"),
    ]
    # the payment arrived on the seller's bank account: its own cash sub-account
    assert paid["entry_id"] == f"payment:{payment_id}" and paid["payment_id"] == payment_id
    assert _lines(paid) == [
        (f"1000-bank:{SELLER_IBAN}", f"Cash and bank clearing bank:{SELLER_IBAN}", "30.00", "0.00"),
        ("2100", "Customer credits and unapplied cash", "0.00", "30.00"),
    ]
    # the allocation names both the payment and the invoice it paid
    assert (applied["payment_id"], applied["invoice"]) == (
        payment_id,
        {"id": ia1.invoice_id, "number": ia1.number},
    )
    assert _lines(applied) == [
        ("2100", "Customer credits and unapplied cash", "30.00", "0.00"),
        ("1200", "Trade receivables", "0.00", "30.00"),
    ]


def test_the_journal_pages_with_a_cursor_in_a_stable_order(
    client: Client, books: dict[str, Any]
) -> None:
    # Given the whole of March in one page
    whole = call(client, "GET", f"/ledger/journal?{MARCH}").body["entries"]

    # When it is read two entries at a time, and from February to April (three months)
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        answer = call(
            client, "GET", f"/ledger/journal?from=2026-02-01&to=2026-04-30&limit=2{suffix}"
        )
        assert answer.status == 200, answer.body
        pages.append(answer.body["entries"])
        if not (cursor := answer.body["next_cursor"]):
            break

    # Then the pages hold the same entries in the same order, none twice
    assert [len(page) for page in pages][:3] == [2, 2, 1]
    assert [entry for page in pages for entry in page] == whole
    # and a day range narrows it: 03-06..03-09 holds the credit note only
    narrow = call(client, "GET", "/ledger/journal?from=2026-03-06&to=2026-03-09").body
    assert [entry["kind"] for entry in narrow["entries"]] == ["credit_note"]


def test_the_journal_as_csv_one_row_per_line(client: Client, books: dict[str, Any]) -> None:
    # When the journal is asked for as CSV, by the Accept header and by format=csv
    by_accept = _journal(client, MARCH, Accept="text/csv")
    by_format = _journal(client, f"{MARCH}&format=csv")

    # Then both answer the same CSV: a header and one row per line of the 5 entries
    assert by_accept.status_code == 200, by_accept.body
    assert by_accept.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert by_accept.body == by_format.body
    rows = list(csv.DictReader(io.StringIO(by_accept.body.decode())))
    assert len(rows) == 5 + 5 + 3 + 2 + 2
    first = rows[0]
    ia1: Invoice = books["IA1"]
    assert (first["entry_id"], first["account_code"], first["debit"], first["credit"]) == (
        f"invoice:{ia1.invoice_id}",
        "1200",
        "71.50",
        "0.00",
    )
    assert first["document_number"] == ia1.number
    debits = sum(Decimal(row["debit"]) for row in rows)
    credits = sum(Decimal(row["credit"]) for row in rows)
    assert debits == credits == Decimal("71.50") * 2 + Decimal("23.79") + Decimal("60.00")
    # a page of a CSV links the next page
    paged = _journal(client, f"{MARCH}&format=csv&limit=2")
    assert paged.headers["Link"].startswith("</ledger/journal?from=2026-03-01&to=2026-03-31")
    assert paged.headers["Link"].endswith('>; rel="next"')


def test_a_configured_chart_names_the_codes_and_its_text_is_csv_safe(
    client: Client, books: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a chart that names the bank account, and an account name a spreadsheet would run
    chart = {
        "accounts": {"receivables": {"code": "1400", "name": '=HYPERLINK("http://x")'}},
        "sub_accounts": {"cash": {f"bank:{SELLER_IBAN}": {"code": "1210", "name": "Main bank"}}},
    }
    monkeypatch.setenv("CHART_OF_ACCOUNTS", json.dumps(chart))
    config.settings.cache_clear()
    config.chart_of_accounts.cache_clear()

    # When the journal is read, as JSON and as CSV
    entries = call(client, "GET", f"/ledger/journal?{MARCH}").body["entries"]
    rows = list(csv.DictReader(io.StringIO(_journal(client, f"{MARCH}&format=csv").body.decode())))

    # Then the configured codes are used, the others keep the default
    payment = next(entry for entry in entries if entry["kind"] == "payment")
    assert _lines(payment)[0] == ("1210", "Main bank", "30.00", "0.00")
    assert entries[0]["lines"][0]["account_code"] == "1400"
    assert entries[0]["lines"][1]["account_code"] == "4019"
    # and the formula is text in the CSV (a leading apostrophe), as-is in JSON
    assert rows[0]["account_name"] == '\'=HYPERLINK("http://x")'
    assert entries[0]["lines"][0]["account_name"] == '=HYPERLINK("http://x")'
    config.settings.cache_clear()
    config.chart_of_accounts.cache_clear()


def test_the_trial_balance_balances_and_receivables_are_the_open_amounts(
    client: Client, books: dict[str, Any]
) -> None:
    # When the trial balance at the end of March, and at the end of 03-03
    march = call(client, "GET", "/ledger/trial-balance?as_of=2026-03-31")
    early = call(client, "GET", "/ledger/trial-balance?as_of=2026-03-03")

    # Then debits equal credits, and receivables are what the invoices still have open
    assert march.status == 200, march.body
    conforms_to_openapi(march.body, "TrialBalance")
    [eur] = march.body["currencies"]
    accounts = {row["code"]: row for row in eur["accounts"]}
    assert eur["totals"]["debits"] == eur["totals"]["credits"]
    assert eur["totals"]["balance"] == "0.00" and march.body["balanced"] is True
    open_amounts = sum(invoice_now(books[name].invoice_id).amount_due for name in ("IA1", "IA2"))
    assert open_amounts == Decimal("41.50") + Decimal("47.71")
    assert Decimal(accounts["1200"]["balance"]) == open_amounts
    assert (accounts["1200"]["debits"], accounts["1200"]["credits"]) == ("143.00", "53.79")
    assert accounts[f"1000-bank:{SELLER_IBAN}"]["balance"] == "30.00"
    assert accounts["2100"]["balance"] == "0.00"  # the 30.00 received was applied
    # revenue 19 %: 2 x 59.97 - 19.99 credited = 99.95 (a credit balance)
    assert accounts["4019"]["balance"] == "-99.95"
    # and on 03-03 only IA1 was posted
    [early_eur] = early.body["currencies"]
    assert {row["code"]: row["balance"] for row in early_eur["accounts"]}["1200"] == "71.50"


def test_the_nightly_export_writes_one_file_per_day_and_a_rerun_changes_nothing(
    world: World, books: dict[str, Any]
) -> None:
    # Given Scheduler's event for 01:45 UTC on 2026-03-11 (so the run exports 03-10)
    event = json.loads((EVENTS / "schedule/export-journal.json").read_text())
    event["time"] = "2026-03-11T01:45:00Z"
    s3 = world.session.client("s3")
    bucket = world.outputs["DocumentsBucketName"]

    # When the scheduled function runs, then runs again, then the next day's run
    first = app_module.export_journal(event, LambdaContext("export_journal"))
    stored = s3.get_object(Bucket=bucket, Key="journal/2026/03/10.csv")["Body"].read()
    again = app_module.export_journal(event, LambdaContext("export_journal"))
    event["time"] = "2026-03-12T01:45:00Z"
    later = app_module.export_journal(event, LambdaContext("export_journal"))

    # Then 03-10's file holds its two entries (payment and allocation), written once
    assert (first["day"], first["key"], first["entries"], first["written"]) == (
        "2026-03-10",
        "journal/2026/03/10.csv",
        2,
        True,
    )
    rows = list(csv.DictReader(io.StringIO(stored.decode())))
    assert [row["kind"] for row in rows] == ["allocation", "allocation", "payment", "payment"]
    # the re-run wrote nothing: the object is byte-identical, with one version only
    assert (again["written"], again["sha256"]) == (False, first["sha256"])
    assert s3.get_object(Bucket=bucket, Key="journal/2026/03/10.csv")["Body"].read() == stored
    versions = s3.list_object_versions(Bucket=bucket, Prefix="journal/2026/03/10.csv")
    assert len(versions["Versions"]) == 1
    # the next day has its own (empty) file; nothing of 03-10 is repeated in it
    assert (later["key"], later["entries"]) == ("journal/2026/03/11.csv", 0)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="journal/")["Contents"]]
    assert keys == ["journal/2026/03/10.csv", "journal/2026/03/11.csv"]
    # exporting a day directly gives the same bytes
    assert export.export_day(date(2026, 3, 10))["sha256"] == first["sha256"]


def test_only_staff_who_read_reports_see_the_journal(client: Client, world: World) -> None:
    # Given a partner key, and an auditor
    _, auditor_key = new_staff(client, "auditor")

    # When each asks
    for path in (f"/ledger/journal?{MARCH}", "/ledger/trial-balance?as_of=2026-03-31"):
        refused = client.http.get(path, headers={"X-Api-Key": PARTNER_KEY})
        allowed = call(client, "GET", path, key=auditor_key)

        # Then the partner is refused, the auditor answered
        assert_problem(refused, 403, "forbidden")
        assert allowed.status == 200, allowed.body


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01&to=2026-12-31",
        "from=2026-03-31&to=2026-03-01",
        "from=1999-12-01&to=2000-01-31",
        "from=2026-03-01T00:00:00Z",
        "from=2025-01-01&to=2026-03-01",
        "from=2026-03-01&to=2026-03-31&limit=0",
        "from=2026-03-01&to=2026-03-31&format=pdf",
        "from=2026-03-01&to=2026-03-31&cursor=bm90LWEtY3Vyc29y",
        "from=2026-03-01&to=2026-03-31&nonsense=1",
    ],
)
def test_bad_journal_queries_are_refused(client: Client, world: World, query: str) -> None:
    assert_problem(_journal(client, query), 400, "invalid-query")


@pytest.mark.parametrize("as_of", ["2026-02-30", "20260301", "3000-01-01"])
def test_bad_trial_balance_dates_are_refused(client: Client, world: World, as_of: str) -> None:
    answer = client.http.get(
        f"/ledger/trial-balance?as_of={as_of}", headers={"X-Api-Key": ADMIN_KEY}
    )
    assert_problem(answer, 400, "invalid-query")


def test_a_cursor_of_another_listing_is_refused(client: Client, world: World) -> None:
    # Given a cursor of the customer listing
    listing = call(client, "GET", "/customers?limit=1")
    cursor = listing.body["next_cursor"]
    assert cursor

    # When it is handed to the journal; Then it is refused, not a 500
    assert_problem(_journal(client, f"{MARCH}&cursor={cursor}"), 400, "invalid-query")


@pytest.mark.parametrize(
    "position",
    [
        {"gsi2pk": "JOURNAL#2026-03", "gsi2sk": "2026-02-27T00:00:00.000Z#x"},
        {"gsi2pk": "JOURNAL#2026-03", "gsi2sk": "2026-04-01T00:00:00.000Z#x"},
        {"gsi2pk": "JOURNAL#2027-01", "gsi2sk": "2027-01-01T00:00:00.000Z#x"},
        {"gsi2pk": "JOURNAL#bogus", "gsi2sk": "x"},
    ],
)
def test_a_forged_cursor_outside_the_period_is_refused(
    client: Client, world: World, position: dict[str, str]
) -> None:
    # Given a cursor of the journal's shape that stands outside the period asked for
    key = {"pk": "LEDGER#cus_acme", "sk": "ENTRY#x", **position}
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

    # When it is handed to the journal of 03-02..03-31; Then a 400, never DynamoDB's refusal
    answer = _journal(client, f"from=2026-03-02&to=2026-03-31&cursor={cursor}")
    assert_problem(answer, 400, "invalid-query")
