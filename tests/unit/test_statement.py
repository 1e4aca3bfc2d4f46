"""The statement of account: opening and closing balances, lines and aging from ledger entries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.domain import ledger
from shared.domain import statement as statements
from shared.domain.ledger import Account, JournalEntry, Posting
from shared.domain.statement import OpenInvoice

START, END = date(2026, 3, 1), date(2026, 3, 31)
NUMBERS = {"inv_1": "INV-1", "inv_2": "INV-2", "cn_1": "CN-1", "legacy-L7": "L7"}


def _at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _posting(account: Account, amount: str) -> Posting:
    value = Decimal(amount)
    return Posting(account=account, debit=max(value, Decimal(0)), credit=max(-value, Decimal(0)))


def _entry(
    kind: str, source_id: str, day: str, memo: str, *sides: tuple[Account, str]
) -> JournalEntry:
    return JournalEntry(
        entry_id=ledger.entry_id(kind, source_id),
        customer_id="cus_1",
        currency="EUR",
        posted_at=_at(day),
        kind=kind,
        source_id=source_id,
        memo=memo,
        postings=tuple(_posting(account, amount) for account, amount in sides),
    )


def _invoice(source_id: str, day: str, number: str, net: str, tax: str) -> JournalEntry:
    total = str(Decimal(net) + Decimal(tax))
    return _entry(
        "invoice",
        source_id,
        day,
        f"Invoice {number}",
        (Account.RECEIVABLES, total),
        (Account.REVENUE, f"-{net}"),
        (Account.TAX_PAYABLE, f"-{tax}"),
    )


def _entries() -> list[JournalEntry]:
    """69.00 owed at the start; 198.10 + 1.20 interest = 199.30 at the end."""
    return [
        # before the period: 119.00 billed, 50.00 paid and applied -> 69.00
        _invoice("inv_1", "2026-01-10", "INV-1", "100.00", "19.00"),
        ledger.for_payment("cus_1", "EUR", Decimal("50.00"), "pay_1", _at("2026-02-05")),
        ledger.for_allocation(
            "cus_1", "EUR", "inv_1", Decimal("50.00"), Decimal(0), "alc_1", _at("2026-02-05", 10)
        ),
        # the period
        _invoice("inv_2", "2026-03-02", "INV-2", "200.00", "38.00"),
        _entry(
            "credit_note",
            "cn_1",
            "2026-03-05",
            "Credit note CN-1 for invoice INV-1",
            (Account.REVENUE, "10.00"),
            (Account.TAX_PAYABLE, "1.90"),
            (Account.RECEIVABLES, "-11.90"),
        ),
        ledger.for_payment("cus_1", "EUR", Decimal("100.00"), "pay_2", _at("2026-03-10")),
        ledger.for_allocation(
            "cus_1",
            "EUR",
            "inv_2",
            Decimal("98.00"),
            Decimal("2.00"),
            "alc_2",
            _at("2026-03-10", 10),
        ),
        ledger.for_fee("cus_1", "EUR", Decimal("5.00"), "inv_1:level2", _at("2026-03-15")),
        ledger.for_interest("cus_1", "EUR", Decimal("1.20"), "inv_1:2026-03-20", _at("2026-03-20")),
        # after the period
        ledger.for_payment("cus_1", "EUR", Decimal("50.00"), "pay_3", _at("2026-04-02")),
    ]


def _open_invoices() -> list[OpenInvoice]:
    def invoice(invoice_id: str, number: str, due: str, amount: str, **extra) -> OpenInvoice:
        return OpenInvoice(
            invoice_id=invoice_id,
            number=number,
            issued_on=date(2025, 11, 1),
            due_on=date.fromisoformat(due),
            amount_due=Decimal(amount),
            **extra,
        )

    return [
        invoice("inv_2", "INV-2", "2026-04-01", "138.00"),  # due tomorrow: current
        invoice("inv_1", "INV-1", "2026-02-09", "57.10"),  # 50 days
        invoice("inv_3", "INV-3", "2026-03-01", "10.00"),  # 30 days
        invoice("inv_4", "INV-4", "2026-01-01", "20.00"),  # 89 days
        invoice("legacy-L7", "L7", "2025-12-01", "200.00", legacy=True),  # 120 days
        invoice("inv_5", "INV-5", "2025-12-01", "0.00"),  # settled: not aged
    ]


def _build(entries=None, open_invoices=None, start=START, end=END):
    return statements.build(
        customer_id="cus_1",
        customer_name="Acme GmbH",
        currency="EUR",
        start=start,
        end=end,
        entries=_entries() if entries is None else entries,
        open_invoices=_open_invoices() if open_invoices is None else open_invoices,
        numbers=NUMBERS,
    )


def test_the_opening_balance_is_everything_posted_before_the_period():
    # When
    statement = _build()

    # Then 119.00 - 50.00 (the allocation changes nothing owed)
    assert statement.opening_balance == Decimal("69.00")


def test_the_lines_are_the_entries_of_the_period_that_change_what_is_owed():
    # When
    statement = _build()

    # Then
    assert [
        (line.posted_on, line.kind, line.reference, line.debit, line.credit, line.balance)
        for line in statement.lines
    ] == [
        (date(2026, 3, 2), "invoice", "INV-2", Decimal("238.00"), 0, Decimal("307.00")),
        (date(2026, 3, 5), "credit_note", "CN-1", 0, Decimal("11.90"), Decimal("295.10")),
        (date(2026, 3, 10), "payment", "pay_2", 0, Decimal("100.00"), Decimal("195.10")),
        (date(2026, 3, 10), "allocation", "INV-2", 0, Decimal("2.00"), Decimal("193.10")),
        (date(2026, 3, 15), "fee", "INV-1", Decimal("5.00"), 0, Decimal("198.10")),
        (date(2026, 3, 20), "interest", "INV-1", Decimal("1.20"), 0, Decimal("199.30")),
    ]
    descriptions = [line.description for line in statement.lines]
    assert descriptions == [
        "Invoice",
        "Credit note CN-1 for invoice INV-1",
        "Payment received",
        "Early payment discount, invoice INV-2",
        "Reminder fee, invoice INV-1",
        "Late payment interest, invoice INV-1",
    ]


def test_the_closing_balance_is_the_ledger_balance_at_the_end():
    # Given
    entries = _entries()

    # When
    statement = _build(entries)

    # Then opening + lines = customer_balance of every entry up to the end
    assert statement.closing_balance == Decimal("199.30")
    movements = statement.total_debits - statement.total_credits
    assert statement.opening_balance + movements == statement.closing_balance
    up_to_end = [entry for entry in entries if entry.posted_at.date() <= END]
    assert statement.closing_balance == ledger.customer_balance(up_to_end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 5), date(2026, 3, 10)),
        (date(2026, 3, 11), date(2026, 4, 30)),
        (date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_every_period_closes_at_the_ledger_balance_of_its_end(start, end):
    # Given
    entries = _entries()

    # When
    statement = _build(entries, start=start, end=end)

    # Then
    up_to_end = [entry for entry in entries if entry.posted_at.date() <= end]
    before = [entry for entry in entries if entry.posted_at.date() < start]
    assert statement.opening_balance == ledger.customer_balance(before)
    assert statement.closing_balance == ledger.customer_balance(up_to_end)
    last = statement.lines[-1].balance if statement.lines else statement.opening_balance
    assert last == statement.closing_balance


def test_a_credit_note_beyond_what_was_open_and_its_refund_are_lines():
    # Given an invoice paid in full, then credited: the credit is owed to the customer
    entries = [
        _invoice("inv_1", "2026-03-02", "INV-1", "100.00", "19.00"),
        ledger.for_payment("cus_1", "EUR", Decimal("119.00"), "pay_1", _at("2026-03-03")),
        ledger.for_allocation(
            "cus_1", "EUR", "inv_1", Decimal("119.00"), Decimal(0), "alc_1", _at("2026-03-03", 10)
        ),
        _entry(
            "credit_note",
            "cn_1",
            "2026-03-04",
            "Credit note CN-1 for invoice INV-1",
            (Account.REVENUE, "100.00"),
            (Account.TAX_PAYABLE, "19.00"),
            (Account.UNAPPLIED_CASH, "-119.00"),
        ),
        ledger.for_refund("cus_1", "EUR", Decimal("119.00"), "pay_1:119.00", _at("2026-03-05")),
    ]

    # When
    statement = _build(entries, open_invoices=[])

    # Then
    assert [(line.kind, line.reference, line.balance) for line in statement.lines] == [
        ("invoice", "INV-1", Decimal("119.00")),
        ("payment", "pay_1", Decimal("0.00")),
        ("credit_note", "CN-1", Decimal("-119.00")),
        ("refund", "pay_1", Decimal("0.00")),
    ]
    assert statement.closing_balance == 0


def test_aging_sorts_what_is_open_by_days_past_due_at_the_end():
    # When
    statement = _build()

    # Then
    assert statement.aging.buckets == {
        "current": Decimal("138.00"),
        "1-30": Decimal("10.00"),
        "31-60": Decimal("57.10"),
        "61-90": Decimal("20.00"),
        "90+": Decimal("200.00"),
    }
    assert statement.aging.total == Decimal("425.10")
    assert [
        (aged.invoice.number, aged.days_overdue, aged.bucket) for aged in statement.aging.invoices
    ] == [
        ("L7", 120, "90+"),
        ("INV-4", 89, "61-90"),
        ("INV-1", 50, "31-60"),
        ("INV-3", 30, "1-30"),
        ("INV-2", -1, "current"),
    ]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_bucket_boundaries(days, bucket):
    assert statements.bucket_for(days) == bucket


def test_the_wire_form_has_decimal_strings_with_the_currency():
    # When
    wire = _build().to_wire()

    # Then
    assert (wire["customer_id"], wire["customer_name"], wire["from"], wire["to"]) == (
        "cus_1",
        "Acme GmbH",
        "2026-03-01",
        "2026-03-31",
    )
    assert wire["opening_balance"] == {"amount": "69.00", "currency": "EUR"}
    assert wire["closing_balance"] == {"amount": "199.30", "currency": "EUR"}
    assert wire["lines"][0] == {
        "posted_on": "2026-03-02",
        "kind": "invoice",
        "reference": "INV-2",
        "description": "Invoice",
        "debit": {"amount": "238.00", "currency": "EUR"},
        "credit": {"amount": "0.00", "currency": "EUR"},
        "balance": {"amount": "307.00", "currency": "EUR"},
    }
    assert wire["aging"]["buckets"]["90+"] == {"amount": "200.00", "currency": "EUR"}
    assert wire["aging"]["total"] == {"amount": "425.10", "currency": "EUR"}
    assert wire["aging"]["open_invoices"][-1] == {
        "invoice_id": "inv_2",
        "number": "INV-2",
        "issued_on": "2025-11-01",
        "due_on": "2026-04-01",
        "amount_due": {"amount": "138.00", "currency": "EUR"},
        "days_overdue": 0,
        "bucket": "current",
        "legacy": False,
        "kind": "invoice",
    }


def test_an_empty_ledger_gives_an_empty_statement():
    # When
    statement = _build(entries=[], open_invoices=[])

    # Then
    assert (statement.opening_balance, statement.lines, statement.closing_balance) == (0, (), 0)
    assert statement.aging.total == 0


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="after it ends"):
        _build(start=END, end=START)


def test_the_pdf_renders_the_statement():
    from io import BytesIO

    from pypdf import PdfReader

    from functions.dunning.statement_pdf import render_pdf

    # Given
    statement = _build()

    # When
    pdf = render_pdf(statement)

    # Then
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    for expected in ("Statement of account", "Acme GmbH", "INV-2", "CN-1", "199.30", "425.10"):
        assert expected in text
    assert render_pdf(statement) == pdf  # the same statement renders to the same bytes


def test_the_pdf_writes_a_customer_named_in_another_script_as_it_is():
    from io import BytesIO

    from pypdf import PdfReader

    from functions.dunning.statement_pdf import render_pdf

    # Given a statement for a customer named in Greek, in a city written in Cyrillic
    statement = _build().model_copy(
        update={"customer_name": "Ελληνική Εταιρεία", "customer_address": ("Київ",)}
    )

    # When its PDF is rendered and read back
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(render_pdf(statement))).pages)

    # Then the name and the city come back in their own letters
    assert "Ελληνική Εταιρεία" in text
    assert "Київ" in text
