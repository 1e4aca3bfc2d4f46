"""Customer behaviour from the lake (shared/lake/sql/behaviour.sql, shared/domain/behaviour.py).

The query parses as Trino and as DuckDB and answers the same rows on DuckDB as written and as
sqlglot renders its Trino reading (the events' JSON included). Hand-built books over the window
2026-01-01..2026-03-31 (90 days; the second half from 2026-02-15) give hand-computed figures,
segments, risk scores and credit limits, however often their rows landed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from shared.domain import behaviour, ledger
from shared.domain.ledger import JournalEntry
from shared.domain.reporting import Books, DisputeFact, InvoiceFact, OrderFact
from shared.lake import duck, landing, queries, reports, tables
from shared.lake.tables import Row
from tests.unit import test_lake_sql as lake_sql

START, AS_OF = date(2026, 1, 1), date(2026, 3, 31)
RECORDED = datetime(2026, 4, 1, tzinfo=UTC)
d = Decimal


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC).replace(hour=hour)


def _issued(
    invoice_id: str, customer: str, issued: date, due: date, total: str
) -> tuple[JournalEntry, InvoiceFact]:
    return (
        lake_sql._invoice(invoice_id, customer, "EUR", issued, d(total)),
        lake_sql._doc(invoice_id, customer, "EUR", issued, due, d(total)),
    )


def _paid(invoice_id: str, customer: str, day: date, amount: str) -> list[JournalEntry]:
    payment_id = f"pay_{invoice_id}"
    return [
        ledger.for_payment(customer, "EUR", d(amount), payment_id, _at(day, 8)),
        ledger.for_allocation(
            customer,
            "EUR",
            invoice_id,
            d(amount),
            d(0),
            f"al_{invoice_id}",
            _at(day),
            payment_id=payment_id,
        ),
    ]


def _orders(customer: str, *days: date) -> list[OrderFact]:
    return [
        OrderFact(
            order_id=f"ord_{customer}_{n}",
            customer_id=customer,
            currency="EUR",
            confirmed_at=_at(day),
        )
        for n, day in enumerate(days)
    ]


# Invoices: (id, customer, issued, due, total, paid on or None)
INVOICES = [
    # pays early: 20 and 18 days to pay, never late
    ("e1", "cus_early", date(2026, 1, 5), date(2026, 2, 4), "1000.00", date(2026, 1, 25)),
    ("e2", "cus_early", date(2026, 2, 20), date(2026, 3, 22), "500.00", date(2026, 3, 10)),
    # pays late, then later: 10 and 20 days beyond terms in the first half, 30 in the second
    ("l1", "cus_late", date(2026, 1, 2), date(2026, 1, 16), "200.00", date(2026, 1, 26)),
    ("l2", "cus_late", date(2026, 1, 10), date(2026, 1, 24), "300.00", date(2026, 2, 13)),
    ("l3", "cus_late", date(2026, 2, 1), date(2026, 2, 15), "400.00", date(2026, 3, 17)),
    ("l4", "cus_late", date(2026, 3, 1), date(2026, 3, 15), "100.00", None),
    ("l5", "cus_late", date(2026, 3, 20), date(2026, 4, 3), "300.00", None),
    # broke a promise on p1 (open, disputed), kept one on p2 (19 days late)
    ("p1", "cus_promise", date(2026, 1, 15), date(2026, 2, 14), "800.00", None),
    ("p2", "cus_promise", date(2026, 1, 20), date(2026, 2, 19), "200.00", date(2026, 3, 10)),
    # has not ordered since August: paid last year's invoice 113 days late
    ("d1", "cus_dormant", date(2025, 8, 20), date(2025, 9, 19), "600.00", date(2026, 1, 10)),
]


def books() -> Books:
    entries: list[JournalEntry] = []
    documents: list[InvoiceFact] = []
    for invoice_id, customer, issued, due, total, paid_on in INVOICES:
        entry, document = _issued(invoice_id, customer, issued, due, total)
        entries.append(entry)
        documents.append(document)
        if paid_on:
            entries.extend(_paid(invoice_id, customer, paid_on, total))
    # l5 credited 100.00 on 2026-03-25: open 200.00, and 100.00 less invoiced
    entries.append(lake_sql._credit_note("cn_l5", "cus_late", "EUR", date(2026, 3, 25), d(100)))
    documents.append(
        lake_sql._doc(
            "cn_l5",
            "cus_late",
            "EUR",
            date(2026, 3, 25),
            None,
            d(100),
            kind="credit_note",
            credited_invoice_id="l5",
        )
    )
    return Books(
        entries=entries,
        invoices=documents,
        customer_names={"cus_early": "Early", "cus_late": "Late", "cus_promise": "Promise"},
        orders=[
            *_orders(
                "cus_early",
                date(2025, 6, 1),
                date(2026, 1, 3),
                date(2026, 1, 20),
                date(2026, 2, 5),
                date(2026, 2, 18),
                date(2026, 3, 1),
                date(2026, 3, 25),
            ),
            *_orders(
                "cus_late", date(2025, 3, 1), date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 5)
            ),
            *_orders("cus_promise", date(2026, 1, 10)),
            *_orders("cus_dormant", date(2025, 6, 1), date(2025, 8, 15)),
            # confirmed after as_of: not counted
            *_orders("cus_dormant_later", date(2026, 4, 2)),
        ],
        disputes=[
            DisputeFact(invoice_id="p1", currency="EUR", opened_at=_at(date(2026, 3, 1))),
            # an older dispute, closed before the window
            DisputeFact(
                invoice_id="p1",
                currency="EUR",
                opened_at=_at(date(2025, 12, 1)),
                closed_at=_at(date(2025, 12, 10)),
            ),
        ],
    )


def _event(event_id: str, kind: str, invoice_id: str, day: date, data: dict[str, Any]) -> Row:
    return tables.event_row(
        event_id=event_id,
        detail_type=kind,
        source="otc.collections",
        aggregate_id=invoice_id,
        occurred_at=_at(day, 10),
        actor="collector",
        data=data,
    )


def events() -> list[Row]:
    """As functions/dunning/promises.py and remind_customer.py write them."""
    made = {"customer_id": "cus_promise", "amount": "800.00", "recorded_by": "collector"}
    return [
        _event(
            "ev1",
            "PromiseToPayRecorded",
            "p1",
            date(2026, 2, 20),
            {**made, "promise_id": "ptp_1", "invoice_id": "p1", "promised_on": "2026-03-01"},
        ),
        _event(
            "ev2",
            "PromiseBroken",
            "p1",
            date(2026, 3, 5),
            {
                "customer_id": "cus_promise",
                "promise_id": "ptp_1",
                "status": "broken",
                "as_of": "2026-03-05",
            },
        ),
        _event(
            "ev3",
            "PromiseToPayRecorded",
            "p2",
            date(2026, 2, 25),
            {**made, "promise_id": "ptp_2", "invoice_id": "p2", "promised_on": "2026-03-10"},
        ),
        _event(
            "ev4",
            "PromiseKept",
            "p2",
            date(2026, 3, 11),
            {
                "customer_id": "cus_promise",
                "promise_id": "ptp_2",
                "status": "kept",
                "as_of": "2026-03-11",
            },
        ),
        # a promise before the window, and an event that is no promise
        _event(
            "ev5",
            "PromiseToPayRecorded",
            "p1",
            date(2025, 12, 20),
            {**made, "promise_id": "ptp_0", "invoice_id": "p1", "promised_on": "2025-12-24"},
        ),
        _event("ev6", "ReminderRecorded", "p1", date(2026, 2, 16), {"customer_id": "cus_promise"}),
    ]


def _rows() -> dict[str, list[Row]]:
    return {**landing.book_rows(books(), RECORDED), "events": events()}


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    duck.write(tmp_path, _rows())
    return tmp_path


def _by_customer(root: Path) -> dict[str, behaviour.Behaviour]:
    return {found.customer_id: found for found in duck.behaviour(root, START, AS_OF).customers}


def test_the_query_parses_as_trino_and_duckdb_and_answers_alike(lake: Path) -> None:
    sql = queries.behaviour(START, AS_OF)
    for dialect in ("trino", "duckdb"):
        assert sqlglot.parse_one(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    connection = duck.connect(lake)
    as_written = duck.rows(connection, sql)
    via_trino = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
    there_and_back = sqlglot.transpile(
        sqlglot.transpile(sql, read="duckdb", write="trino")[0], read="trino", write="duckdb"
    )[0]
    assert "JSON_EXTRACT_SCALAR" in sqlglot.transpile(sql, read="trino", write="trino")[0]
    assert any(row["promises_made"] for row in as_written)  # the JSON is read
    assert duck.rows(connection, via_trino) == as_written
    assert duck.rows(connection, there_and_back) == as_written


def test_a_customer_who_pays_early(lake: Path) -> None:
    early = _by_customer(lake)["cus_early"]
    assert (early.invoices_paid, early.average_days_to_pay) == (2, d(19))
    assert early.average_days_beyond_terms == 0
    assert early.first_half == behaviour.Half(1, d(20), d(0))
    assert early.second_half == behaviour.Half(1, d(18), d(0))
    assert early.late_share == 0
    assert (early.items_open, early.open_amount, early.overdue_share) == (0, 0, None)
    # 6 orders in 90 days (2 a month), the last 6 days ago
    assert (early.recency_days, early.frequency, early.monetary) == (6, 6, d(1500))
    assert early.segment == "champion"
    assert (early.risk_score, early.risk_band) == (0, "low")
    # 1500 x 30 / 90 = 500 a month, x (30 terms + 0 beyond) / 30, x 1 (low)
    assert early.credit_limit == d(500)


def test_a_customer_who_pays_late_and_later(lake: Path) -> None:
    late = _by_customer(lake)["cus_late"]
    # 24, 34, 44 days to pay; 10, 20, 30 beyond terms
    assert (late.invoices_paid, late.average_days_to_pay) == (3, d(34))
    assert late.average_days_beyond_terms == d(20)
    assert late.late_share == 1
    assert late.first_half == behaviour.Half(2, d(29), d(15))
    assert late.second_half == behaviour.Half(1, d(44), d(30))
    # l4 (100.00, due 2026-03-15) and l5 (300.00 less 100.00 credited, due 2026-04-03)
    assert (late.items_open, late.open_amount) == (2, d(300))
    assert (late.items_overdue, late.overdue_amount) == (1, d(100))
    assert (late.recency_days, late.frequency, late.segment) == (26, 3, "loyal")
    assert late.monetary == d(1200)  # 1300.00 invoiced less 100.00 credited
    assert late.average_terms_days == d(14)
    points = {factor.name: factor.points for factor in late.risk_factors}
    assert points == {
        "days_beyond_terms": d(20),
        "late_share": d(20),
        "overdue_share_of_exposure": d("6.67"),  # 1/3 x 20
        "trend_worsening": d(10),  # 30 - 15 = 15 days, at most 10
        "broken_promises": 0,
        "disputes_opened": 0,
    }
    assert (late.risk_score, late.risk_band) == (d("56.67"), "high")
    # 1200 x 30 / 90 = 400 a month, x (14 + 20) / 30 = 453.33, x 0.5 (high), down to 226
    assert late.credit_limit == d(226)


def test_a_customer_with_a_broken_promise_and_a_dispute(lake: Path) -> None:
    found = _by_customer(lake)["cus_promise"]
    assert (found.promises_made, found.promises_kept, found.promises_broken) == (2, 1, 1)
    assert found.disputes_opened == 1
    assert (found.invoices_paid, found.average_days_to_pay) == (1, d(49))
    assert found.first_half == behaviour.Half(0, None, None)
    assert found.second_half == behaviour.Half(1, d(49), d(19))
    assert (found.items_overdue, found.overdue_amount, found.overdue_share) == (1, d(800), 1)
    assert (found.recency_days, found.frequency, found.segment) == (80, 1, "new")
    # 19 + 20 (all late) + 20 (all overdue) + 0 (one half only) + 5 + 5
    assert (found.risk_score, found.risk_band) == (d(69), "high")
    # 1000 x 30 / 90 a month x (30 + 19) / 30 = 544.44, x 0.5: 272
    assert found.credit_limit == d(272)
    wire = found.to_wire()
    assert wire["promises"] == {"made": 2, "kept": 1, "broken": 1}
    assert wire["risk"]["factors"][-1] == {
        "factor": "disputes_opened",
        "value": "1.00",
        "points": "5.00",
        "rule": "5 points each, at most 10",
    }
    assert wire["payment"]["first_half"]["average_days_to_pay"] is None
    assert wire["exposure"]["overdue_amount"] == "800.00"


def test_a_customer_who_has_not_ordered_for_months(lake: Path) -> None:
    dormant = _by_customer(lake)["cus_dormant"]
    assert dormant.customer_name is None
    assert (dormant.recency_days, dormant.frequency, dormant.monetary) == (228, 0, 0)
    assert dormant.segment == "lapsed"
    assert (dormant.average_days_to_pay, dormant.average_days_beyond_terms) == (d(143), d(113))
    # 30 (at most) + 20 (late) = 50: high; nothing invoiced in the window: no limit
    assert (dormant.risk_score, dormant.risk_band, dormant.credit_limit) == (d(50), "high", 0)
    assert "cus_dormant_later" not in _by_customer(lake)


def test_every_row_landed_twice_and_superseded_facts_change_nothing(
    lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    twice = tmp_path_factory.mktemp("twice")
    rows = _rows()
    duck.write(twice, rows)
    duck.write_lines(twice, rows)
    # an order recorded again later, as last recorded, and a dispute's later row
    later = datetime(2026, 4, 2, tzinfo=UTC)
    duck.write_lines(
        twice,
        {
            "orders": [tables.order_row(_orders("cus_early", date(2025, 6, 1))[0], later)],
            "disputes": [
                tables.dispute_row(
                    DisputeFact(invoice_id="p1", currency="EUR", opened_at=_at(date(2026, 3, 1))),
                    later,
                )
            ],
        },
        name="again",
    )
    once = duck.behaviour(lake, START, AS_OF)
    assert duck.behaviour(twice, START, AS_OF) == once
    assert duck.behaviour(twice, START, AS_OF).to_wire() == once.to_wire()


def test_an_empty_lake_has_no_customers(tmp_path: Path) -> None:
    assert duck.behaviour(tmp_path, START, AS_OF).customers == ()
    with pytest.raises(ValueError, match="after"):
        queries.behaviour(AS_OF, START)


def test_athena_text_rows_read_like_duckdb_values(lake: Path) -> None:
    found = duck.rows(duck.connect(lake), queries.behaviour(START, AS_OF))
    as_text = [{k: None if v is None else str(v) for k, v in row.items()} for row in found]
    assert reports.behaviour_report(as_text, START, AS_OF) == reports.behaviour_report(
        found, START, AS_OF
    )
