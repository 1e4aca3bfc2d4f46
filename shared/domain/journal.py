"""The journal for the accountants: ledger entries in the books' account codes, and the trial
balance.

Pure functions over ``JournalEntry`` and a ``ChartOfAccounts``; the use cases in
functions/ledger/ read the entries and the document numbers the entries refer to.

- ``entry_wire``: one balanced entry with its lines (account code and name, the ledger account,
  the dimension, debit, credit) and its document references (the invoice or credit note and its
  number, the invoice it moves, the payment);
- ``to_csv``: the same, one row per line, every text cell safe to open in a spreadsheet;
- ``trial_balance``: per currency and account code, debits, credits and the balance
  (debit-positive) of every entry posted up to a day; the totals' debits equal their credits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared import clock
from shared.domain.chart import ChartOfAccounts
from shared.domain.ledger import JournalEntry
from shared.domain.money import quantize
from shared.domain.text import spreadsheet_cell

ZERO = Decimal(0)
DOCUMENT_KINDS = frozenset({"invoice", "credit_note"})
CSV_COLUMNS = (
    "entry_id",
    "posting_date",
    "posted_at",
    "kind",
    "customer_id",
    "currency",
    "line",
    "account_code",
    "account_name",
    "ledger_account",
    "dimension",
    "debit",
    "credit",
    "document_type",
    "document_id",
    "document_number",
    "invoice_id",
    "invoice_number",
    "payment_id",
    "memo",
)


def referenced_documents(entries: Iterable[JournalEntry]) -> set[str]:
    """The invoice and credit note ids whose numbers ``entry_wire`` names."""
    ids: set[str] = set()
    for entry in entries:
        if entry.kind in DOCUMENT_KINDS:
            ids.add(entry.source_id)
        if entry.invoice_id:
            ids.add(entry.invoice_id)
    return ids


def entry_wire(
    entry: JournalEntry, chart: ChartOfAccounts, numbers: Mapping[str, str]
) -> dict[str, Any]:
    """The entry as the journal shows it; ``numbers``: document id -> its number."""
    posted_at = clock.iso(entry.posted_at)
    document = (
        {"type": entry.kind, "id": entry.source_id, "number": numbers.get(entry.source_id)}
        if entry.kind in DOCUMENT_KINDS
        else None
    )
    invoice = (
        {"id": entry.invoice_id, "number": numbers.get(entry.invoice_id)}
        if entry.invoice_id
        else None
    )
    lines = []
    for posting in entry.postings:
        line = chart.line_for(posting.account.value, posting.dimension)
        lines.append(
            {
                "account_code": line.code,
                "account_name": line.name,
                "ledger_account": posting.account.value,
                "dimension": posting.dimension,
                "debit": _amount(posting.debit, entry.currency),
                "credit": _amount(posting.credit, entry.currency),
            }
        )
    return {
        "entry_id": entry.entry_id,
        "posting_date": posted_at[:10],
        "posted_at": posted_at,
        "kind": entry.kind,
        "customer_id": entry.customer_id,
        "currency": entry.currency,
        "memo": entry.memo,
        "document": document,
        "invoice": invoice,
        "payment_id": entry.payment_id or (entry.source_id if entry.kind == "payment" else None),
        "total": _amount(entry.total, entry.currency),
        "lines": lines,
    }


def to_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    """Wire entries (``entry_wire``) as CSV: a header, then one row per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in line_rows(entries):
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()


def line_rows(entries: Iterable[Mapping[str, Any]]) -> Iterator[list[str]]:
    """Wire entries as rows of ``CSV_COLUMNS``, one per line, every cell as text."""
    for entry in entries:
        document = entry["document"] or {}
        invoice = entry["invoice"] or {}
        for number, line in enumerate(entry["lines"], start=1):
            yield [
                entry["entry_id"],
                entry["posting_date"],
                entry["posted_at"],
                entry["kind"],
                entry["customer_id"],
                entry["currency"],
                str(number),
                line["account_code"],
                line["account_name"],
                line["ledger_account"],
                line["dimension"] or "",
                line["debit"],
                line["credit"],
                document.get("type") or "",
                document.get("id") or "",
                document.get("number") or "",
                invoice.get("id") or "",
                invoice.get("number") or "",
                entry["payment_id"] or "",
                str(entry["memo"]),
            ]


@dataclass
class _Sums:
    name: str
    account: str  # the ledger account the code books (its role in the books)
    debits: Decimal = ZERO
    credits: Decimal = ZERO


@dataclass
class _Currency:
    accounts: dict[str, _Sums] = field(default_factory=dict)


def trial_balance(
    entries: Iterable[JournalEntry], chart: ChartOfAccounts, as_of: date
) -> dict[str, Any]:
    """Debits, credits and balance per currency and account code of the entries posted up to
    the end of ``as_of`` (UTC), with the totals; ``balanced``: every currency's debits equal its
    credits (always, as every entry is balanced; stated so a reader need not add up)."""
    books: dict[str, _Currency] = {}
    for entry in entries:
        if entry.posted_at.date() > as_of:
            continue
        accounts = books.setdefault(entry.currency, _Currency()).accounts
        for posting in entry.postings:
            line = chart.line_for(posting.account.value, posting.dimension)
            sums = accounts.setdefault(
                line.code, _Sums(name=line.name, account=posting.account.value)
            )
            sums.debits += posting.debit
            sums.credits += posting.credit
    currencies = []
    balanced = True
    for currency, group in sorted(books.items()):
        debits = sum((sums.debits for sums in group.accounts.values()), ZERO)
        credits = sum((sums.credits for sums in group.accounts.values()), ZERO)
        balanced = balanced and debits == credits
        currencies.append(
            {
                "currency": currency,
                "accounts": [
                    {
                        "code": code,
                        "name": sums.name,
                        "debits": _amount(sums.debits, currency),
                        "credits": _amount(sums.credits, currency),
                        "balance": _amount(sums.debits - sums.credits, currency),
                        "account": sums.account,
                    }
                    for code, sums in sorted(group.accounts.items())
                ],
                "totals": {
                    "debits": _amount(debits, currency),
                    "credits": _amount(credits, currency),
                    "balance": _amount(debits - credits, currency),
                },
            }
        )
    return {"as_of": as_of.isoformat(), "currencies": currencies, "balanced": balanced}


def _amount(value: Decimal, currency: str) -> str:
    return str(quantize(value, currency))
