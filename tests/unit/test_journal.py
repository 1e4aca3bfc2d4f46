"""The chart of accounts, the journal's wire and CSV forms, and the trial balance (pure)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.domain import chart, journal, ledger
from shared.domain.ledger import Account
from shared.domain.text import spreadsheet_cell
from tests.unit.test_invoice import make_invoice

AT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_every_ledger_account_has_a_code_in_the_default_chart() -> None:
    for account in Account:
        line = chart.DEFAULT.line_for(account.value)
        assert line != chart.DEFAULT.unmapped, account


def test_an_account_the_chart_does_not_know_goes_to_suspense() -> None:
    # Given a ledger account added later (no entry in the chart)
    line = chart.DEFAULT.line_for("some_new_account", "x")

    # Then it is booked to the suspense account, not refused
    assert (line.code, line.name) == ("9999", "Suspense: ledger account not in the chart")


def test_a_dimension_gets_its_named_sub_account_or_one_derived_from_its_account() -> None:
    assert chart.DEFAULT.line_for("revenue", "S:19").code == "4019"
    assert chart.DEFAULT.line_for("cash", "gateway:stripe").code == "1010"
    derived = chart.DEFAULT.line_for("cash", "bank:DE89 3704")
    assert (derived.code, derived.name) == (
        "1000-bank:DE89_3704",
        "Cash and bank clearing bank:DE89 3704",
    )
    assert chart.DEFAULT.line_for("revenue", None).code == "4000"
    odd = chart.DEFAULT.line_for("cash", "bank:\x00\n=X")
    assert (odd.code, odd.name) == ("1000-bank:___X", "Cash and bank clearing bank: =X")


def test_a_configured_chart_replaces_what_it_names_and_keeps_the_rest() -> None:
    # Given a document naming the receivables account and one bank account
    document = json.dumps(
        {
            "accounts": {"receivables": {"code": "1400", "name": "Forderungen"}},
            "sub_accounts": {"cash": {"bank:DE89": {"code": "1210", "name": "Hausbank"}}},
        }
    )

    # When it is loaded
    loaded = chart.load(document)

    # Then what it names changed; the default's other accounts and sub-accounts stay
    assert loaded.line_for("receivables").code == "1400"
    assert loaded.line_for("cash", "bank:DE89").code == "1210"
    assert loaded.line_for("cash", "gateway:stripe").code == "1010"
    assert loaded.line_for("revenue", "S:7").code == "4007"
    assert chart.load("") == chart.load("  ") == chart.DEFAULT


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        '{"accounts": {"receivables": {"code": "", "name": "x"}}}',
        '{"accounts": {"receivables": {"code": "1 2", "name": "x"}}}',
        '{"accounts": {"receivables": {"code": "1200"}}}',
        '{"accounts": {"receivables": {"code": "1200", "name": "a\\nb"}}}',
        '{"account": {}}',
    ],
)
def test_a_malformed_chart_is_refused(document: str) -> None:
    with pytest.raises((ValidationError, ValueError)):
        chart.load(document)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("Invoice INV-1", "Invoice INV-1"),
        ("12.50", "12.50"),
        ("a\x00b", "a\ufffdb"),
    ],
)
def test_a_spreadsheet_cell_is_never_a_formula(text: str, cell: str) -> None:
    assert spreadsheet_cell(text) == cell


def test_an_invoice_posts_revenue_and_vat_per_tax_group() -> None:
    # Given an invoice at 19 % and 7 %
    invoice = make_invoice(("standard", 1, "100"), ("reduced", 2, "10"))

    # When its entry is built
    entry = ledger.for_invoice(invoice)

    # Then revenue and VAT are split per group, and the entry still balances
    split = {(p.account, p.dimension): p.amount for p in entry.postings}
    assert split == {
        (Account.RECEIVABLES, None): Decimal("140.40"),
        (Account.REVENUE, "S:19"): Decimal("-100.00"),
        (Account.REVENUE, "S:7"): Decimal("-20.00"),
        (Account.TAX_PAYABLE, "S:19"): Decimal("-19.00"),
        (Account.TAX_PAYABLE, "S:7"): Decimal("-1.40"),
    }
    assert ledger.JournalEntry.from_item_data(entry.to_item_data()) == entry


def test_an_entry_stored_before_dimensions_reads_back_without_them() -> None:
    data = ledger.for_payment("cus_1", "EUR", Decimal("5"), "pay_1", AT).to_item_data()
    assert "dimension" not in data["postings"][0]
    entry = ledger.JournalEntry.from_item_data(data)
    assert all(posting.dimension is None for posting in entry.postings)


def test_the_wire_and_csv_of_an_entry() -> None:
    # Given a payment that arrived through Stripe, applied to an invoice
    entry = ledger.for_allocation(
        "cus_1", "EUR", "inv_1", Decimal("10.5"), Decimal(0), "alc_1", AT, payment_id="pay_1"
    )

    # When it is shown with the invoice's number
    wired = journal.entry_wire(entry, chart.DEFAULT, {"inv_1": "INV-2026-000001"})
    rows = list(csv.reader(io.StringIO(journal.to_csv([wired]))))

    # Then the lines carry codes and amounts to the cent, the references the documents
    assert wired["invoice"] == {"id": "inv_1", "number": "INV-2026-000001"}
    assert (wired["payment_id"], wired["document"], wired["total"]) == ("pay_1", None, "10.50")
    assert [(line["account_code"], line["debit"], line["credit"]) for line in wired["lines"]] == [
        ("2100", "10.50", "0.00"),
        ("1200", "0.00", "10.50"),
    ]
    assert rows[0] == list(journal.CSV_COLUMNS)
    assert len(rows) == 3 and rows[1][0] == "allocation:alc_1"


def test_the_trial_balance_adds_up_per_code_up_to_its_day() -> None:
    # Given an invoice, a Stripe payment and its allocation, and a later fee
    invoice = make_invoice(("standard", 1, "100"))
    entries = [
        ledger.for_invoice(invoice),
        ledger.for_payment(
            "cus_1", "EUR", Decimal("119"), "pay_1", AT, cash_account="gateway:stripe"
        ),
        ledger.for_allocation(
            "cus_1", "EUR", invoice.invoice_id, Decimal("100"), Decimal(0), "a", AT
        ),
        ledger.for_fee("cus_1", "EUR", Decimal("5"), "fee_1", datetime(2026, 4, 1, tzinfo=UTC)),
    ]

    # When the trial balance as of 03-31
    report = journal.trial_balance(entries, chart.DEFAULT, date(2026, 3, 31))

    # Then per code: the fee (04-01) is not in it; debits equal credits
    [eur] = report["currencies"]
    balances = {row["code"]: row["balance"] for row in eur["accounts"]}
    assert balances == {
        "1010": "119.00",
        "1200": "19.00",
        "2100": "-19.00",
        "2219": "-19.00",
        "4019": "-100.00",
    }
    assert eur["totals"] == {"debits": "338.00", "credits": "338.00", "balance": "0.00"}
    assert report["balanced"] is True


def test_the_local_export_says_so_when_no_stack_runs(tmp_path, capsys) -> None:
    from infra.local import export_journal

    assert export_journal.main(["--ready-file", str(tmp_path / "none.json")]) == 2
    assert "make run" in capsys.readouterr().err
