"""AR aging and KPIs over a fixed dataset whose figures were computed by hand.

The dataset (EUR; the period is March 2026, 31 days; "paid" means applied to the invoice):

    customer     document  issued      due         total    what happened to it
    cus_a Alpha  I1        2026-01-10  2026-02-09  1000.00  600 paid 02-20, 400 paid 03-15
                 I2        2026-03-05  2026-04-04   500.00  open
    cus_b Beta   I3        2026-02-15  2026-03-17   800.00  CN1 100 on 03-12, 300 paid 03-20,
                                                            200 paid 04-05; disputed from 03-22
                 I4        2026-03-10  2026-04-09   300.00  open
    cus_c Gamma  I5        2026-03-01  2026-03-11   200.00  CN2 50 on 03-08, 150 paid 03-25
                 I6        2025-12-01  2025-12-31   400.00  open; a 10.00 fee charged 03-01
                 L1 legacy 2025-10-01  2025-10-31   700.00  250.00 open when imported

Payments: P1 600 (02-20, cus_a), P2 450 (03-15, cus_a, auto-applied 400, 50 stays unapplied),
P3 300 (03-20, cus_b, applied by a clerk), P4 150 (03-25, cus_c, auto-applied), P6 80 (03-28,
unidentified payer, not applied), P5 200 (04-05, cus_b). Orders: O1 confirmed 03-02 10:00 and
shipped complete 03-04 09:00; O2 confirmed 03-10 10:00, shipped complete 03-14 10:00 (4 days);
O3 confirmed 03-30 12:00, not shipped (its window runs to 04-02); O4 confirmed 03-20, never
shipped (cancelled); O5 confirmed 02-27 (before the period).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.domain import aging, kpis, ledger, reporting
from shared.domain.ledger import Account, JournalEntry, Posting
from shared.domain.reporting import Books, DisputeFact, InvoiceFact, OrderFact, PaymentFact

START, END = date(2026, 3, 1), date(2026, 3, 31)
NAMES = {"cus_a": "Alpha", "cus_b": "Beta", "cus_c": "Gamma", "UNIDENTIFIED": "Unidentified"}


def _at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _entry(
    kind: str, source_id: str, customer: str, day: str, memo: str, **receivable: str
) -> JournalEntry:
    """An entry moving receivables by ``debit`` or ``credit`` against revenue."""
    debit, credit = Decimal(receivable.get("debit", "0")), Decimal(receivable.get("credit", "0"))
    sides = (
        (
            Posting(account=Account.RECEIVABLES, debit=debit),
            Posting(account=Account.REVENUE, credit=debit),
        )
        if debit
        else (
            Posting(account=Account.REVENUE, debit=credit),
            Posting(account=Account.RECEIVABLES, credit=credit),
        )
    )
    return JournalEntry(
        entry_id=ledger.entry_id(kind, source_id),
        customer_id=customer,
        currency="EUR",
        posted_at=_at(day),
        kind=kind,
        source_id=source_id,
        memo=memo,
        postings=sides,
    )


def _invoice(invoice_id: str, customer: str, issued: str, total: str) -> JournalEntry:
    return _entry("invoice", invoice_id, customer, issued, f"Invoice {invoice_id}", debit=total)


def _note(note_id: str, customer: str, issued: str, total: str) -> JournalEntry:
    """A credit note entry as stored before entries named their invoice (the document does)."""
    return _entry("credit_note", note_id, customer, issued, f"Credit note {note_id}", credit=total)


def _paid(customer: str, amount: str, payment_id: str, day: str) -> JournalEntry:
    """Money received from the customer (held as unapplied cash until applied)."""
    return ledger.for_payment(customer, "EUR", Decimal(amount), payment_id, _at(day, 8))


def _applied(
    customer: str, invoice_id: str, amount: str, allocation_id: str, day: str
) -> JournalEntry:
    return ledger.for_allocation(
        customer, "EUR", invoice_id, Decimal(amount), Decimal(0), allocation_id, _at(day, 10)
    )


def _doc(
    invoice_id: str, customer: str, issued: str, due: str | None, total: str, **extra: object
) -> InvoiceFact:
    return InvoiceFact.model_validate(
        {
            "invoice_id": invoice_id,
            "customer_id": customer,
            "number": invoice_id,
            "currency": "EUR",
            "issued_on": issued,
            "due_on": due,
            "total": total,
            **extra,
        }
    )


def books() -> Books:
    entries = [
        _invoice("I1", "cus_a", "2026-01-10", "1000.00"),
        _invoice("I2", "cus_a", "2026-03-05", "500.00"),
        _invoice("I3", "cus_b", "2026-02-15", "800.00"),
        _invoice("I4", "cus_b", "2026-03-10", "300.00"),
        _invoice("I5", "cus_c", "2026-03-01", "200.00"),
        _invoice("I6", "cus_c", "2025-12-01", "400.00"),
        _note("CN1", "cus_b", "2026-03-12", "100.00"),
        _note("CN2", "cus_c", "2026-03-08", "50.00"),
        ledger.for_fee("cus_c", "EUR", Decimal("10.00"), "I6:level2", _at("2026-03-01")),
        _paid("cus_a", "600.00", "P1", "2026-02-20"),
        _applied("cus_a", "I1", "600.00", "A1", "2026-02-20"),
        _paid("cus_a", "450.00", "P2", "2026-03-15"),
        _applied("cus_a", "I1", "400.00", "A2", "2026-03-15"),
        _paid("cus_b", "300.00", "P3", "2026-03-20"),
        _applied("cus_b", "I3", "300.00", "A3", "2026-03-20"),
        _paid("cus_c", "150.00", "P4", "2026-03-25"),
        _applied("cus_c", "I5", "150.00", "A4", "2026-03-25"),
        _paid("UNIDENTIFIED", "80.00", "P6", "2026-03-28"),
        _paid("cus_b", "200.00", "P5", "2026-04-05"),
        _applied("cus_b", "I3", "200.00", "A5", "2026-04-05"),
    ]
    documents = [
        _doc("I1", "cus_a", "2026-01-10", "2026-02-09", "1000.00"),
        _doc("I2", "cus_a", "2026-03-05", "2026-04-04", "500.00"),
        _doc("I3", "cus_b", "2026-02-15", "2026-03-17", "800.00"),
        _doc("I4", "cus_b", "2026-03-10", "2026-04-09", "300.00"),
        _doc("I5", "cus_c", "2026-03-01", "2026-03-11", "200.00"),
        _doc("I6", "cus_c", "2025-12-01", "2025-12-31", "400.00"),
        _doc(
            "CN1",
            "cus_b",
            "2026-03-12",
            None,
            "100.00",
            kind="credit_note",
            credited_invoice_id="I3",
        ),
        _doc(
            "CN2",
            "cus_c",
            "2026-03-08",
            None,
            "50.00",
            kind="credit_note",
            credited_invoice_id="I5",
        ),
        _doc(
            "legacy-L1",
            "cus_c",
            "2025-10-01",
            "2025-10-31",
            "700.00",
            legacy=True,
            open_amount="250.00",
        ),
    ]
    orders = [
        OrderFact(
            order_id="O1",
            customer_id="cus_a",
            currency="EUR",
            confirmed_at=_at("2026-03-02", 10),
            shipped_complete_at=_at("2026-03-04", 9),
        ),
        OrderFact(
            order_id="O2",
            customer_id="cus_a",
            currency="EUR",
            confirmed_at=_at("2026-03-10", 10),
            shipped_complete_at=_at("2026-03-14", 10),
        ),
        OrderFact(
            order_id="O3", customer_id="cus_b", currency="EUR", confirmed_at=_at("2026-03-30", 12)
        ),
        OrderFact(
            order_id="O4", customer_id="cus_c", currency="EUR", confirmed_at=_at("2026-03-20", 12)
        ),
        OrderFact(
            order_id="O5",
            customer_id="cus_c",
            currency="EUR",
            confirmed_at=_at("2026-02-27", 12),
            shipped_complete_at=_at("2026-03-01", 12),
        ),
    ]
    payments = [
        PaymentFact(
            payment_id="P1",
            currency="EUR",
            received_at=_at("2026-02-20", 8),
            auto_applied_at=_at("2026-02-20", 10),
        ),
        PaymentFact(
            payment_id="P2",
            currency="EUR",
            received_at=_at("2026-03-15", 8),
            auto_applied_at=_at("2026-03-15", 10),
        ),
        PaymentFact(payment_id="P3", currency="EUR", received_at=_at("2026-03-20", 8)),
        PaymentFact(
            payment_id="P4",
            currency="EUR",
            received_at=_at("2026-03-25", 8),
            auto_applied_at=_at("2026-03-25", 10),
        ),
        PaymentFact(payment_id="P6", currency="EUR", received_at=_at("2026-03-28", 8)),
        PaymentFact(
            payment_id="P5",
            currency="EUR",
            received_at=_at("2026-04-05", 8),
            auto_applied_at=_at("2026-04-05", 10),
        ),
    ]
    disputes = [
        DisputeFact(
            invoice_id="I1",
            currency="EUR",
            opened_at=_at("2026-03-16"),
            closed_at=_at("2026-03-18"),
        ),
        DisputeFact(invoice_id="I3", currency="EUR", opened_at=_at("2026-03-22")),
    ]
    return Books(
        entries=entries,
        invoices=documents,
        customer_names=NAMES,
        orders=orders,
        payments=payments,
        disputes=disputes,
    )


def _buckets(row: dict[str, object]) -> dict[str, object]:
    return {"buckets": row["buckets"], "total": row["total"], "unapplied": row["unapplied"]}


# --- aging ----------------------------------------------------------------------------------------


def test_aging_at_the_period_end_buckets_every_open_item_by_days_past_due() -> None:
    # Given the dataset
    # When aging as of 2026-03-31
    report = aging.aging(books(), END).to_wire()
    # Then, by hand (days past due = 03-31 - due):
    #   I1 1000 - 600 - 400 = 0 (not listed); I2 500 due 04-04 -> current
    #   I3 800 - 100 (CN1) - 300 = 400, due 03-17: 14 days -> 1-30 (P5's 200 comes 04-05)
    #   I4 300 due 04-09 -> current; I5 200 - 50 (CN2) - 150 = 0
    #   I6 400 due 2025-12-31: 31 + 28 + 31 = 90 days -> 61-90
    #   fee 10.00 charged 03-01, due then: 30 days -> 1-30
    #   L1 250 due 2025-10-31: 30 + 31 + 31 + 28 + 31 = 151 days -> 90+
    #   unapplied: cus_a 450 - 400 = 50; the unidentified payer's 80
    [eur] = report["currencies"]
    assert report["buckets"] == ["current", "1-30", "31-60", "61-90", "90+"]
    rows = {row["customer_id"]: _buckets(row) for row in eur["customers"]}
    assert [row["customer_id"] for row in eur["customers"]] == [
        "cus_b",  # 700
        "cus_c",  # 660
        "cus_a",  # 500
        "UNIDENTIFIED",  # 0 open, 80 held
    ]
    zero = {"current": "0.00", "1-30": "0.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert rows["cus_a"] == {
        "buckets": {**zero, "current": "500.00"},
        "total": "500.00",
        "unapplied": "50.00",
    }
    assert rows["cus_b"] == {
        "buckets": {**zero, "current": "300.00", "1-30": "400.00"},
        "total": "700.00",
        "unapplied": "0.00",
    }
    assert rows["cus_c"] == {
        "buckets": {**zero, "1-30": "10.00", "61-90": "400.00", "90+": "250.00"},
        "total": "660.00",
        "unapplied": "0.00",
    }
    assert rows["UNIDENTIFIED"]["unapplied"] == "80.00"
    # totals: current 500 + 300 = 800; 1-30 400 + 10 = 410; 61-90 400; 90+ 250; all 1860
    assert eur["totals"] == {
        "buckets": {
            "current": "800.00",
            "1-30": "410.00",
            "31-60": "0.00",
            "61-90": "400.00",
            "90+": "250.00",
        },
        "total": "1860.00",
        "unapplied": "130.00",  # 50 + 80
        "balance": "1730.00",  # 1860 - 130
        "open_items": 6,  # I2, I3, I4, I6, the fee, L1
    }
    assert eur["customers"][0]["customer_name"] == "Beta"


def test_aging_as_of_a_past_day_ignores_what_happened_later() -> None:
    # Given the dataset: P3's 300 was applied to I3 on 03-20
    # When aging as of 03-19 and as of 04-05
    before = aging.aging(books(), date(2026, 3, 19)).to_wire()
    after = aging.aging(books(), date(2026, 4, 5)).to_wire()
    # Then on 03-19 I3 still has 800 - 100 (CN1, 03-12) = 700 open, 2 days past due (1-30)
    beta = next(
        row for row in before["currencies"][0]["customers"] if row["customer_id"] == "cus_b"
    )
    assert beta["buckets"]["1-30"] == "700.00"
    # I4 (300, issued 03-10) is current; nothing of P3 (03-20) reduced anything
    assert beta["buckets"]["current"] == "300.00"
    assert beta["total"] == "1000.00"
    # and on 04-05 P5's 200 brings I3 to 800 - 100 - 300 - 200 = 200 (19 days past due)
    beta = next(row for row in after["currencies"][0]["customers"] if row["customer_id"] == "cus_b")
    assert beta["buckets"]["1-30"] == "200.00"


def test_a_legacy_invoice_is_open_at_its_imported_amount_from_its_issue_date() -> None:
    # Given L1 (issued 2025-10-01, 250.00 open when imported)
    # When aging as of 2025-09-30, then 2025-11-30
    earlier = aging.aging(books(), date(2025, 9, 30)).to_wire()
    issued = aging.aging(books(), date(2025, 11, 30)).to_wire()
    # Then nothing is open before its issue date; on 11-30 it is 30 days past due (due 10-31)
    assert earlier["currencies"] == []
    [gamma] = issued["currencies"][0]["customers"]
    assert (gamma["customer_id"], gamma["total"]) == ("cus_c", "250.00")
    assert gamma["buckets"]["1-30"] == "250.00"


def test_a_legacy_invoice_booked_as_an_opening_balance_counts_once_and_settles() -> None:
    # Given L2 imported with its opening-balance entry (180.00 open), 80.00 of it paid 2026-03-20
    legacy = _doc("legacy-L2", "cus_a", "2025-11-03", "2025-12-03", "900.00", legacy=True)
    legacy = legacy.model_copy(update={"open_amount": Decimal("100.00")})  # as the item says now
    opening = ledger.for_opening_balance(
        "cus_a", "EUR", "legacy-L2", "L2", Decimal("180.00"), date(2025, 11, 3)
    )
    paid = ledger.for_allocation(
        "cus_a", "EUR", "legacy-L2", Decimal("80.00"), Decimal(0), "A9", _at("2026-03-20")
    )
    booked = Books(entries=[opening, paid], invoices=[legacy], customer_names=NAMES)
    # When aging as of 2025-11-02, 2025-12-31 and 2026-03-31
    before, opened, settled = (
        aging.aging(booked, day).to_wire()
        for day in (date(2025, 11, 2), date(2025, 12, 31), date(2026, 3, 31))
    )
    # Then it is open from its issue date by its entry alone (not its item's amount on top)
    assert before["currencies"] == []
    [alpha] = opened["currencies"][0]["customers"]
    assert (alpha["total"], alpha["buckets"]["1-30"]) == ("180.00", "180.00")
    [alpha] = settled["currencies"][0]["customers"]
    assert (alpha["total"], alpha["buckets"]["90+"]) == ("100.00", "100.00")


def test_configured_bucket_edges() -> None:
    # Given the dataset
    # When aging as of 03-31 with edges 15, 30, 45
    report = aging.aging(books(), END, (15, 30, 45))
    wire = report.to_wire()
    # Then I3 (14 days) is 1-15, the fee (30 days) 16-30, I6 (90) and L1 (151) are 45+
    assert wire["buckets"] == ["current", "1-15", "16-30", "31-45", "45+"]
    assert wire["currencies"][0]["totals"]["buckets"] == {
        "current": "800.00",
        "1-15": "400.00",
        "16-30": "10.00",
        "31-45": "0.00",
        "45+": "650.00",
    }
    # and the CSV carries the same figures, a TOTAL row last
    lines = report.to_csv().splitlines()
    assert lines[0] == (
        "as_of,currency,customer_id,customer_name,current,1-15,16-30,31-45,45+,"
        "total,unapplied,balance,open_items"
    )
    assert (
        lines[-1]
        == "2026-03-31,EUR,TOTAL,,800.00,400.00,10.00,0.00,650.00,1860.00,130.00,1730.00,6"
    )


@pytest.mark.parametrize("edges", [(), (30, 30), (0, 30), (60, 30)])
def test_bucket_edges_ascend_above_zero(edges: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="edge"):
        aging.aging(books(), END, edges)


# --- KPIs -----------------------------------------------------------------------------------------


def test_kpis_of_the_period_are_the_hand_computed_figures() -> None:
    # Given the dataset
    # When the KPIs of March 2026 (31 days)
    report = kpis.kpis(books(), START, END).to_wire()
    [eur] = report["currencies"]
    assert (report["from"], report["to"], report["days"]) == ("2026-03-01", "2026-03-31", 31)
    # Then, by hand:
    # opening AR (end of 02-28): I1 1000 - 600 = 400, I3 800, I6 400, L1 250 = 1850
    assert eur["opening_ar"] == "1850.00"
    # closing AR (end of 03-31): 1860, of it not yet past due (I2 500, I4 300) 800
    assert (eur["closing_ar"], eur["closing_current_ar"]) == ("1860.00", "800.00")
    # credit sales: I2 500 + I4 300 + I5 200 - CN1 100 - CN2 50 = 850
    assert eur["credit_sales"] == "850.00"
    # DSO = 1860 / 850 x 31 = 67.835294... -> 67.84
    assert eur["dso"] == "67.84"
    # best possible DSO = 800 / 850 x 31 = 29.176470... -> 29.18
    assert eur["best_possible_dso"] == "29.18"
    # average days delinquent = 67.835294 - 29.176470 = 38.658823... -> 38.66
    assert eur["average_days_delinquent"] == "38.66"
    # countback: March sales 850 < 1860 -> 31 days, 1010 left; February sales (I3) 800 < 1010 ->
    # 28 days, 210 left; January sales (I1) 1000 covers it: 210 / 1000 x 31 = 6.51
    # -> 31 + 28 + 6.51 = 65.51
    assert eur["countback_dso"] == "65.51"
    # CEI = (1850 + 850 - 1860) / (1850 + 850 - 800) x 100 = 840 / 1900 x 100 = 44.2105... -> 44.21
    assert eur["cei"] == "44.21"
    # average days to pay, over invoices paid in full in March:
    #   I1 paid 03-15, issued 01-10: 21 + 28 + 15 = 64 days, settled 600 + 400 = 1000
    #   I5 paid 03-25, issued 03-01: 24 days, settled 150 (CN2 took the other 50)
    #   (1000 x 64 + 150 x 24) / 1150 = 67600 / 1150 = 58.7826... -> 58.78
    assert (eur["average_days_to_pay"], eur["invoices_paid"]) == ("58.78", 2)
    # invoice accuracy: I2, I4, I5 issued in March; I5 credited (CN2) -> 2 / 3 = 66.67 %
    assert (eur["invoices_issued"], eur["invoices_credited"]) == (3, 1)
    assert eur["invoice_accuracy"] == "66.67"
    # auto-match: received in March P2, P3, P4, P6; auto-applied P2, P4 -> 2 / 4 = 50.00 %
    assert (eur["payments_received"], eur["payments_auto_applied"]) == (4, 2)
    assert eur["auto_match_rate"] == "50.00"
    # fulfilment: confirmed in March O1, O2, O3, O4; O3's window (to 04-02 12:00) still runs:
    # pending. In time: O1 (47 hours). O2 took 4 days, O4 never shipped -> 1 / 3 = 33.33 %
    assert (eur["orders_confirmed"], eur["orders_fulfilled"], eur["orders_pending"]) == (4, 1, 1)
    assert eur["fulfilment_rate"] == "33.33"
    # open disputes at 03-31: I3 (I1's closed 03-18)
    assert eur["open_disputes"] == 1


def test_a_ratio_without_a_denominator_is_none() -> None:
    # Given the dataset
    # When the KPIs of a quiet week (no sales, no payments, no orders)
    [eur] = kpis.kpis(books(), date(2026, 1, 20), date(2026, 1, 26)).to_wire()["currencies"]
    # Then the sales ratios are None; AR is what was open then (I1 1000, I6 400, L1 250)
    assert (eur["dso"], eur["best_possible_dso"], eur["average_days_delinquent"]) == (
        None,
        None,
        None,
    )
    assert eur["closing_ar"] == "1650.00"
    assert (eur["auto_match_rate"], eur["invoice_accuracy"], eur["fulfilment_rate"]) == (
        None,
        None,
        None,
    )


def test_kpis_csv_has_a_row_per_kpi() -> None:
    report = kpis.kpis(books(), START, END)
    rows = report.to_csv().splitlines()
    assert rows[0] == "from,to,currency,kpi,value"
    assert "2026-03-01,2026-03-31,EUR,cei,44.21" in rows
    assert "2026-03-01,2026-03-31,EUR,open_disputes,1" in rows


def test_dso_trend_per_calendar_month() -> None:
    # Given the dataset
    # When the trend of the 3 months up to 03-31
    trend = kpis.dso_trend(books(), END, months=3)
    # Then January: AR at 01-31 = I1 1000 + I6 400 + L1 250 = 1650, sales (I1) 1000
    # -> 1650 / 1000 x 31 = 51.15
    # February: AR at 02-28 = 1850, sales (I3) 800 -> 1850/800 x 28 = 64.75
    # March: 67.84 (as the KPIs)
    assert [(point["month"], point["dso"]["EUR"]) for point in trend] == [
        ("2026-01", "51.15"),
        ("2026-02", "64.75"),
        ("2026-03", "67.84"),
    ]


def test_older_entries_are_attributed_by_memo_and_source() -> None:
    # Given an allocation entry without an invoice id, and a fee of an invoice
    applied = _applied("cus_a", "I9", "5.00", "A9", "2026-03-01").model_copy(
        update={"invoice_id": None}
    )
    fee = ledger.for_fee("cus_a", "EUR", Decimal(5), "I9:level3", _at("2026-03-01"))
    # Then the memo names the first's invoice, the source id the second's
    assert reporting.attributed_invoice(applied, {}) == "I9"
    assert reporting.attributed_invoice(fee, {}) == "I9"
    assert (
        reporting.attributed_invoice(_note("CN1", "cus_b", "2026-03-12", "1.00"), {"CN1": "I3"})
        == "I3"
    )


def test_entries_name_the_invoice_they_move_receivables_for() -> None:
    # Given the builders of entries that touch an invoice's receivable
    applied = _applied("cus_a", "I1", "5.00", "A7", "2026-03-01")
    taken_back = ledger.for_unapplication(
        "cus_a", "EUR", "I1", Decimal(5), Decimal(0), "A7", _at("2026-03-02")
    )
    fee = ledger.for_fee(
        "cus_a", "EUR", Decimal(5), "I1:level2", _at("2026-03-01"), invoice_id="I1"
    )
    interest = ledger.for_interest(
        "cus_a", "EUR", Decimal(1), "I1:2026-03-01", _at("2026-03-01"), invoice_id="I1"
    )
    # Then each names it, and reads back from its stored form
    for entry in (applied, taken_back, fee, interest):
        assert entry.invoice_id == "I1"
        assert JournalEntry.from_item_data(entry.to_item_data()) == entry


def test_an_entry_stored_before_entries_named_their_invoice_reads_back_without_one() -> None:
    # Given a stored entry without ``invoice_id`` (written before the field existed)
    data = _applied("cus_a", "I1", "5.00", "A8", "2026-03-01").to_item_data()
    del data["invoice_id"]
    # When it is read back
    entry = JournalEntry.from_item_data(data)
    # Then it has none, and reporting attributes it by its memo
    assert entry.invoice_id is None
    assert reporting.attributed_invoice(entry, {}) == "I1"


def test_cash_on_an_invoices_fee_leaves_the_invoice_paid_when_its_own_cash_closed_it() -> None:
    # Given an invoice of 100.00 and a 10.00 fee charged on it, both settled by one payment
    invoice = _invoice("I9", "cus_a", "2026-01-10", "100.00")
    fee = ledger.for_fee(
        "cus_a", "EUR", Decimal("10.00"), "I9:level1", _at("2026-02-01"), invoice_id="I9"
    )
    entries = [
        invoice,
        fee,
        _paid("cus_a", "110.00", "P9", "2026-03-05"),
        _applied("cus_a", "I9", "100.00", "A9", "2026-03-05"),
        ledger.for_allocation(
            "cus_a",
            "EUR",
            "I9",
            Decimal("10.00"),
            Decimal(0),
            "A10",
            _at("2026-03-05", 11),
            charge_id=fee.entry_id,
        ),
    ]
    books = Books(
        entries=entries, invoices=[_doc("I9", "cus_a", "2026-01-10", "2026-02-09", "100.00")]
    )
    # When the KPIs of March are read
    figures = kpis.kpis(books, START, END).currencies[0]
    # Then the invoice counts as paid 54 days after its issue (the fee is an item of its own)
    assert (figures.invoices_paid, figures.average_days_to_pay) == (1, Decimal("54.00"))
