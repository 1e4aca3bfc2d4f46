"""The reports and the journal as CSV and XLSX downloads, read back (csv, openpyxl), equal to
their JSON answers; formula-looking text neutralised; an Accept they cannot answer is a 406."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from chalice.test import Client

from shared import clock
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, paid_in
from tests.functional.conftest import ADMIN_KEY, World
from tests.functional.helpers import assert_problem, conforms_to_openapi
from tests.functional.test_reports import dataset, on

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOSTILE = '=HYPERLINK("http://evil.example","pay here")'


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def books(client: Client, world: World) -> dict[str, Any]:
    invoices = dataset(client, world)
    on("2026-04-10")
    paid_in(world, "41.50", customer_id=CUSTOMER, remittance=invoices["IA1"].number)
    return invoices


def get(client: Client, path: str, **headers: str) -> Any:
    """A GET with a browser's Accept (*/*) unless one is given: a binary answer needs an Accept
    that admits it (API Gateway's rule, which Chalice applies)."""
    return client.http.get(path, headers={"X-Api-Key": ADMIN_KEY, "Accept": "*/*", **headers})


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert b"\r\n" in response.body  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(response.body.decode("utf-8"))))


def xlsx_rows(response: Any) -> list[dict[str, Any]]:
    """The first sheet's rows by header; checks its header is bold and frozen."""
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.body)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert all(cell.font.bold for cell in sheet[1])
    return [
        dict(zip(header, [cell for cell in row], strict=True)) for row in sheet.iter_rows(min_row=2)
    ]


def money_cell(cell: Any) -> Decimal:
    """A numeric cell with two decimals shown, as the Decimal it holds."""
    assert isinstance(cell.value, int | float), cell.value
    assert cell.number_format == "#,##0.00"
    return Decimal(str(cell.value)).quantize(Decimal("0.01"))


def date_cell(cell: Any) -> str:
    assert isinstance(cell.value, datetime), cell.value
    assert cell.is_date
    return cell.value.date().isoformat()


def test_the_aging_as_csv_and_xlsx_holds_the_json_figures(
    client: Client, books: dict[str, Any]
) -> None:
    query = "/reports/aging?as_of=2026-04-08"
    report = get(client, query).json_body
    labels = report["buckets"]
    expected = [
        (group["currency"], row.get("customer_id") or "", row.get("customer_name", "TOTAL"), row)
        for group in report["currencies"]
        for row in (*group["customers"], group["totals"])
    ]

    # When asked by Accept, by format=csv, and as a workbook
    by_accept = get(client, query, Accept="text/csv")
    by_format = get(client, f"{query}&format=csv")
    workbook = get(client, query, Accept=XLSX)

    # Then the CSV has one row per currency and customer, then the total, with the JSON's figures
    assert by_accept.body == by_format.body
    assert by_accept.headers["Content-Disposition"] == (
        'attachment; filename="aging_2026-04-08.csv"'
    )
    rows = csv_rows(by_accept)
    assert len(rows) == len(expected)
    for row, (currency, customer_id, name, wanted) in zip(rows, expected, strict=True):
        assert (row["as_of"], row["currency"], row["customer_id"]) == (
            "2026-04-08",
            currency,
            customer_id,
        )
        assert row["customer_name"] == name
        assert [row[label] for label in labels] == [wanted["buckets"][b] for b in labels]
        assert (row["total"], row["unapplied"], row["balance"], row["open_items"]) == (
            wanted["total"],
            wanted["unapplied"],
            wanted["balance"],
            str(wanted["open_items"]),
        )
    # and the workbook holds the same, amounts as numbers and the day as a date
    assert workbook.headers["Content-Disposition"].endswith('aging_2026-04-08.xlsx"')
    cells = xlsx_rows(workbook)
    assert len(cells) == len(expected)
    for line, (currency, _, _, wanted) in zip(cells, expected, strict=True):
        assert date_cell(line["as_of"]) == "2026-04-08"
        assert line["currency"].value == currency
        assert [money_cell(line[label]) for label in labels] == [
            Decimal(wanted["buckets"][label]) for label in labels
        ]
        assert money_cell(line["total"]) == Decimal(wanted["total"])
        assert line["open_items"].value == wanted["open_items"]


def test_open_items_add_up_to_the_aging_and_export_alike(
    client: Client, books: dict[str, Any]
) -> None:
    aging = get(client, "/reports/aging?as_of=2026-04-08").json_body
    answer = get(client, "/reports/open-items?as_of=2026-04-08")
    assert answer.status_code == 200, answer.body
    conforms_to_openapi(answer.json_body, "OpenItemsReport")
    items = answer.json_body["items"]

    # Then the items of each customer and currency add up to its aging total, count included
    for group in aging["currencies"]:
        for row in group["customers"]:
            mine = [
                item
                for item in items
                if (item["currency"], item["customer_id"])
                == (group["currency"], row["customer_id"])
            ]
            assert sum(Decimal(item["amount"]) for item in mine) == Decimal(row["total"])
            assert len(mine) == row["open_items"]
            for label in aging["buckets"]:
                in_bucket = [Decimal(item["amount"]) for item in mine if item["bucket"] == label]
                assert sum(in_bucket, Decimal(0)) == Decimal(row["buckets"][label])
    # IA1's rest, IA2's rest, the legacy invoice, IG1: with their days past due
    assert sorted(
        (item["number"], item["amount"], item["days_past_due"]) for item in items
    ) == sorted(
        [
            (books["IA1"].number, "41.50", 7),
            (books["IA2"].number, "47.71", 4),
            (books["IG1"].number, "70.00", 7),
            ("L-77", "80.00", 63),
        ]
    )

    # and the CSV and the workbook hold the same rows
    rows = csv_rows(get(client, "/reports/open-items?as_of=2026-04-08&format=csv"))
    cells = xlsx_rows(get(client, "/reports/open-items?as_of=2026-04-08&format=xlsx"))
    assert len(rows) == len(cells) == len(items)
    for item, row, cell in zip(items, rows, cells, strict=True):
        assert (row["item_id"], row["number"], row["amount"], row["due_on"]) == (
            item["item_id"],
            item["number"],
            item["amount"],
            item["due_on"],
        )
        assert (cell["item_id"].value, money_cell(cell["amount"])) == (
            item["item_id"],
            Decimal(item["amount"]),
        )
        assert date_cell(cell["due_on"]) == item["due_on"]
        assert cell["days_past_due"].value == item["days_past_due"]


def test_the_kpis_as_csv_and_xlsx_hold_the_json_figures(
    client: Client, books: dict[str, Any]
) -> None:
    query = "/reports/kpis?from=2026-03-01&to=2026-04-10"
    report = get(client, query).json_body
    rows = csv_rows(get(client, query, Accept="text/csv"))
    cells = xlsx_rows(get(client, f"{query}&format=xlsx"))

    # Then one row per currency, a column per KPI, each the JSON's value
    assert [row["currency"] for row in rows] == [g["currency"] for g in report["currencies"]]
    for group, row, cell in zip(report["currencies"], rows, cells, strict=True):
        assert (row["from"], row["to"], row["days"]) == ("2026-03-01", "2026-04-10", "41")
        for name, value in group.items():
            shown = "" if value is None else str(value)
            assert row[name] == shown, name
            if name == "currency":
                assert cell[name].value == value
            elif value is None:
                assert cell[name].value is None
            elif isinstance(value, int):
                assert cell[name].value == value, name
            else:
                assert money_cell(cell[name]) == Decimal(value), name
    eur = next(group for group in report["currencies"] if group["currency"] == "EUR")
    assert eur["invoices_issued"] == 2  # the figures are real, not empty


def test_the_journal_as_xlsx_holds_the_csv_rows(client: Client, books: dict[str, Any]) -> None:
    query = "/ledger/journal?from=2026-03-01&to=2026-04-10"
    rows = csv_rows(get(client, query, Accept="text/csv"))
    workbook = get(client, query, Accept=XLSX)
    cells = xlsx_rows(workbook)
    assert workbook.headers["Content-Disposition"] == (
        'attachment; filename="journal_2026-03-01_2026-04-10.xlsx"'
    )
    assert len(cells) == len(rows) > 10
    for row, cell in zip(rows, cells, strict=True):
        assert (cell["entry_id"].value, cell["account_code"].value) == (
            row["entry_id"],
            row["account_code"],
        )
        assert date_cell(cell["posting_date"]) == row["posting_date"]
        assert money_cell(cell["debit"]) == Decimal(row["debit"])
        assert money_cell(cell["credit"]) == Decimal(row["credit"])
    # a page of the workbook links the next page, as the CSV's does
    paged = get(client, f"{query}&limit=2&format=xlsx")
    assert "format=xlsx" in paged.headers["Link"]


def test_a_name_a_spreadsheet_would_run_is_neutralised(
    client: Client, books: dict[str, Any]
) -> None:
    # Given a customer renamed to a formula
    version = call(client, "GET", f"/customers/{CUSTOMER}").body["version"]
    renamed = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": version, "legal_name": HOSTILE},
    )
    assert renamed.status == 200, renamed.body

    # When the aging and the open items are downloaded
    for path in ("/reports/aging?as_of=2026-04-08&live=true", "/reports/open-items"):
        names = [row["customer_name"] for row in csv_rows(get(client, path, Accept="text/csv"))]
        cells = xlsx_rows(get(client, path, Accept=XLSX))

        # Then the name is text that starts with an apostrophe, never a formula
        assert f"'{HOSTILE}" in names, names
        assert HOSTILE not in names
        hostile = [
            row["customer_name"] for row in cells if "HYPERLINK" in str(row["customer_name"].value)
        ]
        assert hostile, path
        for cell in hostile:
            assert cell.data_type == "s"
            assert cell.value == f"'{HOSTILE}"


@pytest.mark.parametrize(
    "path",
    [
        "/reports/aging",
        "/reports/kpis",
        "/reports/open-items",
        "/ledger/journal?from=2026-03-01&to=2026-03-31",
    ],
)
@pytest.mark.parametrize("accept", ["application/pdf", "text/csv;q=0", "image/*"])
def test_an_accept_no_route_answers_is_a_406(
    client: Client, world: World, path: str, accept: str
) -> None:
    assert_problem(get(client, path, Accept=accept), 406, "not-acceptable")
    # while */* and a weighted list answer their best
    assert get(client, path, Accept="*/*").headers["Content-Type"] == "application/json"
    best = get(client, path, Accept=f"application/json;q=0.5, {XLSX}")
    assert best.headers["Content-Type"] == XLSX


def test_a_bad_format_is_a_400(client: Client, world: World) -> None:
    for path in ("/reports/aging", "/reports/kpis", "/reports/open-items"):
        assert_problem(get(client, f"{path}?format=pdf"), 400, "invalid-query")


def test_the_current_aging_downloads_as_it_answers(client: Client, books: dict[str, Any]) -> None:
    # Given the snapshot of 04-09 (the newest): the aging without parameters rolls it forward
    from functions.reporting import snapshot

    snapshot.take(date(2026, 4, 9))
    answer = get(client, "/reports/aging").json_body
    assert (answer["source"], answer["as_of"]) == ("current", "2026-04-10")

    # When it is downloaded, Then the CSV holds the same rows
    download = get(client, "/reports/aging?format=csv")
    assert download.headers["Content-Disposition"].endswith('aging_2026-04-10.csv"')
    rows = csv_rows(download)
    expected = [
        row["total"]
        for group in answer["currencies"]
        for row in (*group["customers"], group["totals"])
    ]
    assert [row["total"] for row in rows] == expected
    assert {row["as_of"] for row in rows} == {"2026-04-10"}
