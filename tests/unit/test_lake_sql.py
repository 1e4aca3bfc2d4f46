"""The lake's SQL (shared/lake/sql) answers what the report code answers from the same books.

Every query parses as Trino (Athena) and as DuckDB, and its DuckDB rendering of the Trino parse
answers the same rows; on DuckDB, aging and KPIs over the lake's files equal
shared/domain/aging.py and kpis.py over the books, to the cent and as the wire rounds ratios,
for hand-made books (tests/unit/test_reporting.py's, and fees, interest, legacy invoices,
write-offs, several currencies, unidentified payers) and random ones.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain import aging, kpis, ledger, open_items
from shared.domain.ledger import Account, JournalEntry, Posting
from shared.domain.reporting import (
    Books,
    DisputeFact,
    IndexedBooks,
    InvoiceFact,
    OpenItem,
    OrderFact,
    PaymentFact,
)
from shared.lake import current, duck, landing, queries, reports
from tests.unit import test_reporting

RECORDED = datetime(2026, 9, 1, tzinfo=UTC)
DAY0 = date(2026, 1, 1)


def _lake(root: Path, books: Books, *, lines: bool = False) -> Path:
    rows = landing.book_rows(books, RECORDED)
    (duck.write_lines if lines else duck.write)(root, rows)
    return root


def _sqls() -> dict[str, str]:
    return {
        "open_items": queries.open_items(date(2026, 3, 31)),
        "aging": queries.aging(date(2026, 3, 31), (15, 30, 45, 60)),
        "kpis": queries.kpis(date(2026, 3, 1), date(2026, 3, 31)),
        "behaviour": queries.behaviour(date(2026, 1, 1), date(2026, 4, 30)),
        "dso_trend": queries.dso_trend(date(2026, 4, 15), 6),
        "positions": queries.positions(date(2026, 3, 31)),
        "movements": queries.movements(date(2026, 3, 1), date(2026, 3, 31)),
    }


@pytest.mark.parametrize("name", queries.QUERIES)
def test_every_query_parses_as_trino_and_as_duckdb(name: str) -> None:
    # Given the rendered query
    sql = _sqls()[name]
    # When / Then both dialects parse it without error
    for dialect in ("trino", "duckdb"):
        assert sqlglot.parse_one(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize("name", queries.QUERIES)
def test_a_query_read_as_trino_answers_on_duckdb_what_it_answers_as_written(
    name: str, tmp_path: Path
) -> None:
    # Given the hand-made books in a lake
    connection = duck.connect(_lake(tmp_path, test_reporting.books()))
    sql = _sqls()[name]
    # When the text runs as written, and as sqlglot renders its Trino (and DuckDB) reading
    as_written = duck.rows(connection, sql)
    via_trino = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
    there_and_back = sqlglot.transpile(
        sqlglot.transpile(sql, read="duckdb", write="trino")[0], read="trino", write="duckdb"
    )[0]
    # Then they answer the same rows
    assert as_written
    assert duck.rows(connection, via_trino) == as_written
    assert duck.rows(connection, there_and_back) == as_written


def test_parameters_are_rendered_literals_only() -> None:
    with pytest.raises(TypeError):
        queries.render("open_items", {"as_of": "1; DROP TABLE journal", "as_of_dt": "x"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="edges"):
        queries.aging(date(2026, 3, 31), (30, 20))


TREND_MONTHS = (1, 6, 13)


def _same_reports(
    root: Path,
    books: Books,
    days: list[date],
    periods: list[tuple[date, date]],
    edges: tuple[int, ...] = aging.DEFAULT_EDGES,
) -> None:
    connection = duck.connect(root)
    indexed = IndexedBooks(books)
    for as_of in days:
        items = duck.rows(connection, queries.open_items(as_of))
        assert [OpenItem(**row) for row in items] == indexed.open_items(as_of), as_of
        found = duck.rows(connection, queries.aging(as_of, edges))
        lake = reports.aging_report(found, as_of, edges)
        assert lake.to_wire() == aging.aging(books, as_of, edges).to_wire(), as_of
        assert lake == aging.aging(books, as_of, edges)
        _same_current_aging(connection, books, as_of, edges)
    for start, end in periods:
        lake_kpis = reports.kpi_report(duck.rows(connection, queries.kpis(start, end)), start, end)
        assert lake_kpis.to_wire() == kpis.kpis(books, start, end).to_wire(), (start, end)
        for months in TREND_MONTHS:
            found = duck.rows(connection, queries.dso_trend(end, months))
            trend = reports.dso_trend(found, end, months)
            assert trend == kpis.dso_trend(books, end, months), (end, months)


def _same_current_aging(connection: Any, books: Books, as_of: date, edges: tuple[int, ...]) -> None:
    """The positions of a day before ``as_of`` rolled forward by the days after it age and list
    their open items as the books do (unless an item they moved can only be placed, or
    described, from the whole history); the positions of ``as_of`` itself list them too."""
    expected = aging.aging(books, as_of, edges)
    indexed = IndexedBooks(books)
    whole = current.Positions.from_rows(duck.rows(connection, queries.positions(as_of)), as_of)
    assert current.open_items(whole, edges) == open_items.from_books(indexed, as_of, edges)
    for back in (0, 1, 7):
        cut = as_of - timedelta(days=back)
        start = current.Positions.from_rows(duck.rows(connection, queries.positions(cut)), cut)
        assert current.Positions.from_wire(start.to_wire()) == start
        moved = (
            duck.rows(connection, queries.movements(cut + timedelta(days=1), as_of)) if back else []
        )
        try:
            rolled = current.roll(start, moved, as_of)
        except current.Unplaceable:
            continue
        assert current.aging(rolled, edges) == expected, (cut, as_of)
        try:
            listed = current.open_items(rolled, edges)
        except current.Unplaceable:  # a charge on an invoice neither the cut nor the days hold
            continue
        assert listed == open_items.from_books(indexed, as_of, edges), (cut, as_of)


def test_the_hand_computed_books_report_the_same_from_the_lake(tmp_path: Path) -> None:
    books = test_reporting.books()
    root = _lake(tmp_path, books)
    _same_reports(
        root,
        books,
        [
            date(2025, 9, 30),
            date(2025, 10, 1),
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 4, 30),
        ],
        [
            (test_reporting.START, test_reporting.END),
            (date(2026, 1, 1), date(2026, 4, 30)),
            (date(2026, 4, 1), date(2026, 4, 5)),
        ],
    )
    _same_reports(root, books, [date(2026, 3, 31)], [], edges=(1, 7, 14, 21, 28, 35, 42, 400))


def test_json_lines_read_like_parquet_in_any_mix(tmp_path: Path) -> None:
    # Given the books landed as JSON lines, and again with the journal as Parquet and the
    # other tables as JSON lines
    books = _fees_legacy_and_currencies()
    rows = landing.book_rows(books, RECORDED)
    duck.write_lines(tmp_path / "lines", rows)
    duck.write(tmp_path / "mixed", {"journal": rows["journal"]})
    duck.write_lines(tmp_path / "mixed", {k: v for k, v in rows.items() if k != "journal"})
    # Then every report from either is the books' own
    for root in (tmp_path / "lines", tmp_path / "mixed"):
        _same_reports(
            root,
            books,
            [date(2026, 2, 15), date(2026, 3, 31)],
            [(date(2026, 2, 1), date(2026, 3, 31))],
        )


def test_every_row_landed_twice_reports_the_same(tmp_path: Path) -> None:
    # Given the books landed, then every row landed again in another file (a worker retried
    # after Firehose had taken the batch, or Firehose delivered a record twice)
    books = _fees_legacy_and_currencies()
    rows = landing.book_rows(books, RECORDED)
    duck.write(tmp_path, rows)
    duck.write_lines(tmp_path, rows)
    # Then every report is the books' own, counted once
    _same_reports(
        tmp_path,
        books,
        [date(2026, 2, 15), date(2026, 3, 31)],
        [(date(2026, 2, 1), date(2026, 3, 31)), (date(2026, 1, 1), date(2026, 3, 31))],
    )


def test_an_empty_lake_reports_nothing(tmp_path: Path) -> None:
    connection = duck.connect(tmp_path)
    assert duck.rows(connection, queries.aging(date(2026, 3, 31), (30,))) == []
    assert duck.rows(connection, queries.kpis(date(2026, 3, 1), date(2026, 3, 31))) == []


# --- books with fees, interest, legacy invoices, write-offs, currencies ---------------------------


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC).replace(hour=hour)


def _invoice(
    invoice_id: str, customer: str, currency: str, day: date, total: Decimal, *, named: bool = True
) -> JournalEntry:
    return JournalEntry(
        entry_id=ledger.entry_id("invoice", invoice_id),
        customer_id=customer,
        currency=currency,
        posted_at=_at(day),
        kind="invoice",
        source_id=invoice_id,
        memo=f"Invoice {invoice_id}",
        postings=(
            Posting(account=Account.RECEIVABLES, debit=total),
            Posting(account=Account.REVENUE, credit=total),
        ),
        invoice_id=invoice_id if named else None,
    )


def _credit_note(
    note_id: str, customer: str, currency: str, day: date, total: Decimal
) -> JournalEntry:
    """As stored before entries named their invoice: the document names it."""
    return JournalEntry(
        entry_id=ledger.entry_id("credit_note", note_id),
        customer_id=customer,
        currency=currency,
        posted_at=_at(day, 11),
        kind="credit_note",
        source_id=note_id,
        memo=f"Credit note {note_id}",
        postings=(
            Posting(account=Account.REVENUE, debit=total),
            Posting(account=Account.RECEIVABLES, credit=total),
        ),
    )


def _small_difference(
    customer: str, currency: str, invoice_id: str, amount: Decimal, at: datetime, write_off_id: str
) -> JournalEntry:
    return JournalEntry(
        entry_id=ledger.entry_id("write_off", write_off_id),
        customer_id=customer,
        currency=currency,
        posted_at=at,
        kind="write_off",
        source_id=write_off_id,
        memo=f"Written off (small difference) on invoice {invoice_id}: short",
        postings=(
            Posting(account=Account.SMALL_DIFFERENCES, debit=amount),
            Posting(account=Account.RECEIVABLES, credit=amount),
        ),
        invoice_id=invoice_id,
    )


def _doc(
    invoice_id: str,
    customer: str,
    currency: str,
    issued: date,
    due: date | None,
    total: Decimal,
    **extra: Any,
) -> InvoiceFact:
    return InvoiceFact(
        invoice_id=invoice_id,
        customer_id=customer,
        number=invoice_id.upper(),
        currency=currency,
        issued_on=issued,
        due_on=due,
        total=total,
        **extra,
    )


def _fees_legacy_and_currencies() -> Books:
    d = Decimal
    jan, feb, mar = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)
    fee = ledger.for_fee("cus_a", "EUR", d("5.00"), "inv_1:level1", _at(feb), invoice_id="inv_1")
    interest = ledger.for_interest(
        "cus_a", "EUR", d("1.23"), "inv_1:2026-02-20", _at(date(2026, 2, 20))
    )
    entries = [
        _invoice("inv_1", "cus_a", "EUR", jan, d("100.00")),
        fee,
        interest,
        ledger.for_payment("cus_a", "EUR", d("106.23"), "pay_1", _at(mar, 8)),
        ledger.for_allocation(
            "cus_a", "EUR", "inv_1", d("100.00"), d(0), "al_1", _at(mar), payment_id="pay_1"
        ),
        ledger.for_allocation(
            "cus_a",
            "EUR",
            "inv_1",
            d("5.00"),
            d(0),
            "al_2",
            _at(mar),
            payment_id="pay_1",
            charge_id=fee.entry_id,
        ),
        _invoice("inv_2", "cus_b", "USD", jan, d("250.00"), named=False),
        _credit_note("cn_1", "cus_b", "USD", feb, d("50.00")),
        ledger.for_payment("cus_b", "USD", d("199.90"), "pay_2", _at(mar, 8)),
        ledger.for_allocation("cus_b", "USD", "inv_2", d("199.90"), d(0), "al_3", _at(mar, 10)),
        _small_difference("cus_b", "USD", "inv_2", d("0.10"), _at(mar, 10), "wo_1"),
        _invoice("inv_3", "cus_b", "JPY", feb, d("12000")),
        ledger.for_payment("cus_b", "JPY", d("5000"), "pay_3", _at(date(2026, 2, 25))),
        ledger.for_allocation(
            "cus_b", "JPY", "inv_3", d("5000"), d(0), "al_4", _at(date(2026, 2, 25), 10)
        ),
        ledger.for_unapplication(
            "cus_b", "JPY", "inv_3", d("5000"), d(0), "al_4", _at(date(2026, 3, 2))
        ),
        ledger.for_opening_balance("cus_c", "EUR", "leg_1", "L-1", d("300.00"), date(2025, 11, 1)),
        ledger.for_payment("cus_c", "EUR", d("120.00"), "pay_4", _at(feb)),
        ledger.for_allocation("cus_c", "EUR", "leg_2", d("120.00"), d(0), "al_5", _at(feb, 10)),
        ledger.for_payment("UNIDENTIFIED", "EUR", d("75.00"), "pay_5", _at(feb)),
        *ledger.for_transfer("pay_5", "EUR", d("25.00"), "UNIDENTIFIED", "cus_a", _at(mar, 12)),
    ]
    documents = [
        _doc("inv_1", "cus_a", "EUR", jan, date(2026, 1, 24), d("100.00")),
        _doc("inv_2", "cus_b", "USD", jan, None, d("250.00")),
        _doc(
            "cn_1",
            "cus_b",
            "USD",
            feb,
            None,
            d("50.00"),
            kind="credit_note",
            credited_invoice_id="inv_2",
        ),
        _doc("inv_3", "cus_b", "JPY", feb, date(2026, 3, 12), d("12000")),
        _doc(
            "leg_1",
            "cus_c",
            "EUR",
            date(2025, 11, 1),
            date(2025, 12, 1),
            d("500.00"),
            legacy=True,
            open_amount=d("300.00"),
        ),
        _doc(
            "leg_2",
            "cus_c",
            "EUR",
            date(2025, 10, 1),
            None,
            d("400.00"),
            legacy=True,
            open_amount=d("400.00"),
        ),
    ]
    return Books(
        entries=entries,
        invoices=documents,
        customer_names={"cus_a": "Alpha", "cus_b": "Beta"},
        orders=[
            OrderFact(
                order_id="o_1",
                customer_id="cus_a",
                currency="EUR",
                confirmed_at=_at(feb),
                shipped_complete_at=_at(date(2026, 2, 13), 9),
            ),
            OrderFact(
                order_id="o_2",
                customer_id="cus_b",
                currency="USD",
                confirmed_at=_at(mar),
                shipped_complete_at=_at(date(2026, 3, 13), 10),
            ),
        ],
        payments=[
            PaymentFact(
                payment_id="pay_1",
                currency="EUR",
                received_at=_at(mar, 8),
                auto_applied_at=_at(mar),
            ),
            PaymentFact(payment_id="pay_5", currency="EUR", received_at=_at(feb)),
        ],
        disputes=[DisputeFact(invoice_id="inv_3", currency="JPY", opened_at=_at(date(2026, 3, 3)))],
    )


def test_fees_interest_legacy_write_offs_and_currencies_report_the_same(tmp_path: Path) -> None:
    books = _fees_legacy_and_currencies()
    root = _lake(tmp_path, books)
    _same_reports(
        root,
        books,
        [
            date(2025, 10, 1),
            date(2026, 1, 31),
            date(2026, 2, 20),
            date(2026, 3, 10),
            date(2026, 3, 31),
        ],
        [
            (date(2026, 3, 1), date(2026, 3, 31)),
            (date(2026, 1, 1), date(2026, 3, 31)),
            (date(2026, 2, 1), date(2026, 2, 28)),
        ],
    )


# --- random books ---------------------------------------------------------------------------------

CENTS = st.integers(min_value=1, max_value=50_000).map(lambda cents: Decimal(cents) / 100)
ACTIONS = ("pay", "pay_rest", "credit", "fee", "interest", "unapply", "small_difference")


def _unnamed(entry: JournalEntry) -> JournalEntry:
    """The entry as stored before entries named their invoice."""
    return entry.model_copy(update={"invoice_id": None})


@st.composite
def random_books(draw: st.DrawFn) -> Books:
    entries: list[JournalEntry] = []
    documents: list[InvoiceFact] = []
    payments: list[PaymentFact] = []
    disputes: list[DisputeFact] = []
    serial = iter(range(10_000))

    def named(entry: JournalEntry) -> JournalEntry:
        return entry if draw(st.booleans()) else _unnamed(entry)

    def pay(customer: str, currency: str, amount: Decimal, at: datetime) -> str:
        payment_id = f"pay_{next(serial)}"
        entries.append(ledger.for_payment(customer, currency, amount, payment_id, at))
        auto = draw(st.booleans())
        payments.append(
            PaymentFact(
                payment_id=payment_id,
                currency=currency,
                received_at=at,
                auto_applied_at=at + timedelta(hours=1) if auto else None,
            )
        )
        return payment_id

    for number in range(draw(st.integers(0, 6))):
        customer = draw(st.sampled_from(("cus_a", "cus_b")))
        currency = draw(st.sampled_from(("EUR", "USD")))
        issued = DAY0 + timedelta(days=draw(st.integers(0, 120)))
        due = None if draw(st.booleans()) else issued + timedelta(days=draw(st.integers(0, 45)))
        total = draw(CENTS)
        invoice_id = f"inv_{number}"
        legacy = draw(st.integers(0, 4)) == 0
        documents.append(
            _doc(
                invoice_id,
                customer,
                currency,
                issued,
                due,
                total,
                legacy=legacy,
                open_amount=total if legacy else Decimal(0),
            )
        )
        if not legacy:
            entries.append(
                _invoice(invoice_id, customer, currency, issued, total, named=draw(st.booleans()))
            )
        elif draw(st.booleans()):
            entries.append(
                ledger.for_opening_balance(
                    customer, currency, invoice_id, invoice_id, total, issued
                )
            )
        open_amount, day = total, issued
        applied: list[tuple[str, Decimal, datetime, str | None]] = []
        for _ in range(draw(st.integers(0, 5))):
            day += timedelta(days=draw(st.integers(0, 40)))
            at = _at(day, draw(st.integers(0, 23)))
            action = draw(st.sampled_from(ACTIONS))
            if action in ("pay", "pay_rest") and open_amount > 0:
                amount = open_amount if action == "pay_rest" else min(draw(CENTS), open_amount)
                payment_id = pay(customer, currency, amount, at)
                allocation_id = f"al_{next(serial)}"
                entries.append(
                    named(
                        ledger.for_allocation(
                            customer,
                            currency,
                            invoice_id,
                            amount,
                            Decimal(0),
                            allocation_id,
                            at,
                            payment_id=payment_id,
                        )
                    )
                )
                applied.append((allocation_id, amount, at, None))
                open_amount -= amount
            elif action == "credit" and not legacy and open_amount > 0:
                amount = min(draw(CENTS), open_amount)
                note_id = f"cn_{next(serial)}"
                documents.append(
                    _doc(
                        note_id,
                        customer,
                        currency,
                        day,
                        None,
                        amount,
                        kind="credit_note",
                        credited_invoice_id=invoice_id,
                    )
                )
                entries.append(_credit_note(note_id, customer, currency, day, amount))
                open_amount -= amount
            elif action in ("fee", "interest"):
                build = ledger.for_fee if action == "fee" else ledger.for_interest
                amount = draw(CENTS)
                charge = build(
                    customer,
                    currency,
                    amount,
                    f"{invoice_id}:{next(serial)}",
                    at,
                    invoice_id=invoice_id if draw(st.booleans()) else None,
                )
                entries.append(charge)
                if draw(st.booleans()):
                    later = at + timedelta(days=draw(st.integers(0, 30)))
                    payment_id = pay(customer, currency, amount, later)
                    allocation_id = f"al_{next(serial)}"
                    entries.append(
                        ledger.for_allocation(
                            customer,
                            currency,
                            invoice_id,
                            amount,
                            Decimal(0),
                            allocation_id,
                            later,
                            payment_id=payment_id,
                            charge_id=charge.entry_id,
                        )
                    )
                    applied.append((allocation_id, amount, later, charge.entry_id))
            elif action == "unapply" and applied:
                allocation_id, amount, when, charge_id = applied.pop()
                back = max(at, when)
                entries.append(
                    named(
                        ledger.for_unapplication(
                            customer,
                            currency,
                            invoice_id,
                            amount,
                            Decimal(0),
                            allocation_id,
                            back,
                            charge_id=charge_id,
                        )
                    )
                )
                if charge_id is None:
                    open_amount += amount
            elif action == "small_difference" and 0 < open_amount <= 1:
                entries.append(
                    _small_difference(
                        customer, currency, invoice_id, open_amount, at, f"wo_{next(serial)}"
                    )
                )
                open_amount = Decimal(0)
        if draw(st.integers(0, 3)) == 0:
            opened = _at(issued + timedelta(days=draw(st.integers(0, 60))))
            closed = (
                None if draw(st.booleans()) else opened + timedelta(days=draw(st.integers(1, 30)))
            )
            disputes.append(
                DisputeFact(
                    invoice_id=invoice_id, currency=currency, opened_at=opened, closed_at=closed
                )
            )
    for _ in range(draw(st.integers(0, 2))):
        at = _at(DAY0 + timedelta(days=draw(st.integers(0, 150))))
        amount = draw(CENTS)
        payment_id = pay("UNIDENTIFIED", "EUR", amount, at)
        if draw(st.booleans()):
            entries.extend(
                ledger.for_transfer(
                    payment_id, "EUR", amount, "UNIDENTIFIED", "cus_b", at + timedelta(days=2)
                )
            )
    orders = [
        OrderFact(
            order_id=f"ord_{index}",
            customer_id="cus_a",
            currency=draw(st.sampled_from(("EUR", "USD"))),
            confirmed_at=_at(DAY0 + timedelta(days=confirmed), 10),
            shipped_complete_at=None
            if shipped is None
            else _at(DAY0 + timedelta(days=confirmed + shipped), 9),
        )
        for index, (confirmed, shipped) in enumerate(
            draw(
                st.lists(st.tuples(st.integers(0, 150), st.none() | st.integers(0, 6)), max_size=4)
            )
        )
    ]
    return Books(
        entries=entries,
        invoices=documents,
        customer_names={"cus_a": "Alpha"},
        orders=orders,
        payments=payments,
        disputes=disputes,
    )


EDGES = st.lists(st.integers(1, 120), min_size=1, max_size=aging.MAX_EDGES, unique=True).map(
    lambda edges: tuple(sorted(edges))
)
DAYS = st.integers(0, 240).map(lambda k: DAY0 + timedelta(days=k))


@settings(
    max_examples=int(os.environ.get("LAKE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(books=random_books(), as_of=DAYS, edges=EDGES, start=DAYS, length=st.integers(0, 120))
def test_random_books_report_the_same_from_the_lake(
    books: Books, as_of: date, edges: tuple[int, ...], start: date, length: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = _lake(Path(folder), books)
        _same_reports(root, books, [as_of], [(start, start + timedelta(days=length))], edges)


def test_a_lake_in_s3_reads_like_the_folder_it_was_written_from(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    from shared.lake import s3

    # Given the books written to a folder and put in a bucket under lake/
    books = test_reporting.books()
    written = _lake(tmp_path / "written", books)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-central-1")
        client.create_bucket(
            Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        keys = _upload(client, written, "lake")
        # When the prefix is copied back to another folder
        copied = s3.download(client, "lake", tmp_path / "copied")
    # Then every object sits under lake/<table>/dt=<day>/ and the reports are the books' own
    assert all(re.match(r"lake/\w+/dt=\d{4}-\d{2}-\d{2}/[\w-]+\.parquet$", key) for key in keys)
    _same_reports(copied, books, [test_reporting.END], [(test_reporting.START, test_reporting.END)])
    assert duck.aging(copied, test_reporting.END) == aging.aging(books, test_reporting.END)
    assert duck.kpis(copied, test_reporting.START, test_reporting.END) == kpis.kpis(
        books, test_reporting.START, test_reporting.END
    )


def _upload(client: Any, root: Path, bucket: str) -> list[str]:
    """Every file under ``root`` put at ``lake/`` + its path below ``root``; the keys."""
    keys = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = "lake/" + path.relative_to(root).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        keys.append(key)
    return keys
