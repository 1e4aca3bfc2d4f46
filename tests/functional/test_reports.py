"""AR aging and KPIs from the books the real flows write (moto), with hand-computed figures.

The clock is set to each day's 09:00 UTC. The dataset:

- cus_acme (EUR, 2/10 net 30): IA1 issued 03-02 (the demo order: 59.97 at 19 % and 0.13 at 7 %
  = 71.50, due 04-01); IA2 issued 03-05 (71.50, due 04-04), credited 1 widget on 03-06
  (19.99 + 3.80 VAT = 23.79); 30.00 received 03-10 and applied by a clerk to IA1; 41.50
  received 04-10 quoting IA1's number, applied by the matcher; a legacy invoice LA issued
  2026-01-05, due 02-04, 80.00 open when imported;
- cus_globex (GBP, net 30): IG1 issued 03-02 (4 x 17.50, an export: 70.00, due 04-01).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from functions.reporting import reports
from shared import clock
from shared.domain.invoice import Invoice
from shared.store import ledger as ledger_store
from tests.functional.accounts import call, new_staff
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice, paid_in, received
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import assert_problem
from tests.functional.invoicing import credit_note, legacy_invoice

GLOBEX_ORDER = {
    "customer_id": "cus_globex",
    "currency": "GBP",
    "lines": [{"sku": "WIDGET-1", "quantity": 4, "unit_price": "17.50"}],
}


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def on(day: str) -> None:
    moment = datetime.combine(date.fromisoformat(day), time(9), UTC)
    clock.set_clock(lambda: moment)


def pay_by_clerk(client: Client, invoice: Invoice, amount: str) -> None:
    payment = received(amount, customer_id=CUSTOMER)
    body = {"allocations": [{"invoice_id": invoice.invoice_id, "amount": amount}]}
    answer = call(client, "POST", f"/payments/{payment.payment_id}/allocations", body=body)
    assert answer.status == 201, answer.body


def dataset(client: Client, world: World) -> dict[str, Invoice]:
    legacy_invoice(
        CUSTOMER,
        "L-77",
        issued="2026-01-05",
        due="2026-02-04",
        original="200.00",
        still_open="80.00",
    )
    on("2026-03-02")
    first = issued_invoice(client, world)
    globex = issued_invoice(client, world, **GLOBEX_ORDER)
    on("2026-03-05")
    second = issued_invoice(client, world)
    on("2026-03-06")
    body = {"reason": "One widget arrived damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    note = credit_note(client, second.invoice_id, body)
    assert note.status == 201, note.body
    on("2026-03-10")
    pay_by_clerk(client, first, "30.00")
    world.pump.drain()
    # the figures the comments below start from
    assert (first.total, second.total, globex.total) == (
        Decimal("71.50"),
        Decimal("71.50"),
        Decimal("70.00"),
    )
    assert note.body["total"]["amount"] == "23.79"
    return {"IA1": first, "IA2": second, "IG1": globex}


def _row(report: dict[str, Any], currency: str, customer_id: str) -> dict[str, Any]:
    [group] = [group for group in report["currencies"] if group["currency"] == currency]
    [row] = [row for row in group["customers"] if row["customer_id"] == customer_id]
    return row


def test_aging_as_of_a_past_day_ignores_a_later_payment(client: Client, world: World) -> None:
    # Given the dataset, and IA1's remaining 41.50 paid on 04-10 (the matcher applies it)
    invoices = dataset(client, world)
    on("2026-04-10")
    paid_in(world, "41.50", customer_id=CUSTOMER, remittance=invoices["IA1"].number)
    assert invoice_now(invoices["IA1"].invoice_id).status.value == "paid"

    # When aging as of 04-08 (after the payment was made) and as of 04-10
    before = reports.aging_report(date(2026, 4, 8)).to_wire()
    after = reports.aging_report(date(2026, 4, 10)).to_wire()

    # Then on 04-08: IA1 71.50 - 30.00 = 41.50, 7 days past due (due 04-01) -> 1-30;
    # IA2 71.50 - 23.79 = 47.71, 4 days past due (due 04-04) -> 1-30;
    # LA 80.00, 24 + 31 + 8 = 63 days past due (due 02-04) -> 61-90
    acme = _row(before, "EUR", CUSTOMER)
    assert acme["buckets"] == {
        "current": "0.00",
        "1-30": "89.21",  # 41.50 + 47.71
        "31-60": "0.00",
        "61-90": "80.00",
        "90+": "0.00",
    }
    assert (acme["total"], acme["unapplied"], acme["open_items"]) == ("169.21", "0.00", 3)
    # IG1 70.00 GBP, 7 days past due
    globex = _row(before, "GBP", "cus_globex")
    assert (globex["buckets"]["1-30"], globex["total"]) == ("70.00", "70.00")
    # and on 04-10 IA1 is paid: 47.71 (6 days) + 80.00 (65 days)
    acme = _row(after, "EUR", CUSTOMER)
    assert (acme["buckets"]["1-30"], acme["buckets"]["61-90"], acme["total"]) == (
        "47.71",
        "80.00",
        "127.71",
    )


def test_kpis_of_the_period(client: Client, world: World) -> None:
    # Given the dataset, and IA1's remaining 41.50 paid on 04-10 (the matcher applies it)
    invoices = dataset(client, world)
    on("2026-04-10")
    paid_in(world, "41.50", customer_id=CUSTOMER, remittance=invoices["IA1"].number)

    # When the KPIs of 03-01..04-10 (41 days)
    report = reports.kpi_report(date(2026, 3, 1), date(2026, 4, 10)).to_wire()

    # Then, for EUR, by hand:
    eur = next(group for group in report["currencies"] if group["currency"] == "EUR")
    # opening AR (end of 02-28): LA 80.00 (open from its issue date)
    # credit sales: 71.50 + 71.50 - 23.79 = 119.21
    # closing AR (04-10): IA2 47.71 + LA 80.00 = 127.71, none of it current
    assert (eur["opening_ar"], eur["credit_sales"]) == ("80.00", "119.21")
    assert (eur["closing_ar"], eur["closing_current_ar"]) == ("127.71", "0.00")
    # DSO = 127.71 / 119.21 x 41 = 43.9234... -> 43.92; best possible 0 / 119.21 x 41 = 0
    assert (eur["dso"], eur["best_possible_dso"]) == ("43.92", "0.00")
    assert eur["average_days_delinquent"] == "43.92"
    # countback: April 1-10 sold nothing (10 days, 127.71 left), March 119.21 (31 days, 8.50
    # left), and no month before sold anything: 24 months of sales do not cover AR -> null
    assert eur["countback_dso"] is None
    # CEI = (80.00 + 119.21 - 127.71) / (80.00 + 119.21 - 0) x 100 = 71.50 / 199.21 x 100
    #     = 35.8917... -> 35.89
    assert eur["cei"] == "35.89"
    # days to pay: IA1 issued 03-02, paid in full 04-10: 39 days (the only invoice paid)
    assert (eur["average_days_to_pay"], eur["invoices_paid"]) == ("39.00", 1)
    # accuracy: IA1, IA2 issued, IA2 credited -> 1 / 2 = 50 %
    assert (eur["invoices_issued"], eur["invoices_credited"], eur["invoice_accuracy"]) == (
        2,
        1,
        "50.00",
    )
    # auto-match: 30.00 (03-10, a clerk applied it) and 41.50 (04-10, the matcher) -> 50 %
    assert (eur["payments_received"], eur["payments_auto_applied"]) == (2, 1)
    assert eur["auto_match_rate"] == "50.00"
    # both orders shipped complete the moment they were confirmed -> 100 %
    assert (eur["orders_confirmed"], eur["orders_fulfilled"], eur["fulfilment_rate"]) == (
        2,
        2,
        "100.00",
    )
    assert eur["open_disputes"] == 0
    # and for GBP: AR 70.00 = sales 70.00 -> DSO 41.00; nothing collected -> CEI 0;
    # countback: April 1-10 sold nothing (10 days), March's 70.00 covers the 70.00: 10 + 31
    gbp = next(group for group in report["currencies"] if group["currency"] == "GBP")
    assert (gbp["dso"], gbp["cei"], gbp["invoice_accuracy"]) == ("41.00", "0.00", "100.00")
    assert gbp["countback_dso"] == "41.00"


def test_the_aging_route_answers_staff_who_read_reports(client: Client, world: World) -> None:
    # Given the dataset, an auditor and the clock on 04-10
    dataset(client, world)
    on("2026-04-10")
    _, auditor_key = new_staff(client, "auditor")

    # When the auditor asks for the aging as of 04-08 with buckets up to 7 and 30 days
    answer = call(client, "GET", "/reports/aging?as_of=2026-04-08&buckets=7,30", key=auditor_key)

    # Then IA1 (7 days past due) is 1-7; IA2 (4 days) too; LA (63 days) is 30+
    assert answer.status == 200, answer.body
    assert (answer.body["source"], answer.body["buckets"]) == (
        "live",
        ["current", "1-7", "8-30", "30+"],
    )
    assert _row(answer.body, "EUR", CUSTOMER)["buckets"] == {
        "current": "0.00",
        "1-7": "89.21",  # 41.50 + 47.71
        "8-30": "0.00",
        "30+": "80.00",
    }


def test_the_aging_route_answers_from_the_nightly_snapshot_unless_asked_live(
    client: Client, world: World
) -> None:
    # Given the dataset (its legacy invoice, seeded in the table, written into the lake by the
    # backfill) and the snapshot of 04-08 taken (from the lake)
    from functions.lake.backfill import backfill
    from functions.reporting import snapshot
    from shared.store import snapshots

    dataset(client, world)
    backfill()
    on("2026-04-10")
    snapshot.take(date(2026, 4, 8))

    # When staff ask for the aging without a day, then live
    current = call(client, "GET", "/reports/aging")
    live = call(client, "GET", "/reports/aging?live=true")

    # Then the snapshot rolled forward answers first, the live one computes; both as of today
    assert current.status == live.status == 200, (current.body, live.body)
    assert (current.body["source"], current.body["as_of"]) == ("current", "2026-04-10")
    assert (live.body["source"], live.body["as_of"]) == ("live", "2026-04-10")
    assert _row(current.body, "EUR", CUSTOMER)["total"] == "169.21"

    # And a stack whose snapshots keep no positions answers its nightly aging (as of 04-08)
    pk, sk = snapshots.pointer_key("positions")
    world.session.client("dynamodb").delete_item(
        TableName=world.outputs["TableName"], Key={"pk": {"S": pk}, "sk": {"S": sk}}
    )
    stored = call(client, "GET", "/reports/aging")
    assert (stored.body["source"], stored.body["as_of"]) == ("snapshot", "2026-04-08")
    assert _row(stored.body, "EUR", CUSTOMER)["total"] == "169.21"


def test_the_kpi_route(client: Client, world: World) -> None:
    # Given the dataset
    dataset(client, world)
    on("2026-04-10")

    # When staff ask for the KPIs of March
    answer = call(client, "GET", "/reports/kpis?from=2026-03-01&to=2026-03-31")

    # Then (EUR) AR at 03-31: IA1 41.50 + IA2 47.71 + LA 80.00 = 169.21, of it current (due
    # 04-01 and 04-04) 89.21; sales 119.21; opening 80.00:
    # DSO = 169.21 / 119.21 x 31 = 44.0024... -> 44.00; best = 89.21 / 119.21 x 31 = 23.1986...
    # -> 23.20; CEI = (80 + 119.21 - 169.21) / (80 + 119.21 - 89.21) x 100 = 30 / 110 x 100
    # = 27.2727... -> 27.27
    assert answer.status == 200, answer.body
    eur = next(group for group in answer.body["currencies"] if group["currency"] == "EUR")
    assert (eur["dso"], eur["best_possible_dso"], eur["cei"]) == ("44.00", "23.20", "27.27")
    assert answer.body["days"] == 31


@pytest.mark.parametrize(
    "query",
    ["as_of=2026-4-8", "buckets=60,30", "buckets=x", "as_of=2026-04-11", "colour=red"],
)
def test_the_aging_route_refuses_bad_parameters(client: Client, world: World, query: str) -> None:
    on("2026-04-10")
    assert_problem(
        client.http.get(f"/reports/aging?{query}", headers=_staff()), 400, "invalid-query"
    )


def test_the_kpi_route_refuses_a_period_the_wrong_way_round(client: Client, world: World) -> None:
    on("2026-04-10")
    response = client.http.get("/reports/kpis?from=2026-03-02&to=2026-03-01", headers=_staff())
    assert_problem(response, 400, "invalid-query")


def test_partners_read_no_reports(client: Client, world: World) -> None:
    for path in ("/reports/aging", "/reports/kpis"):
        assert call(client, "GET", path, key=PARTNER_KEY).status == 403


def _staff() -> dict[str, str]:
    return {"X-Api-Key": ADMIN_KEY}


def test_the_entries_the_flows_post_name_their_invoice(client: Client, world: World) -> None:
    # Given the dataset (two invoices, a credit note, cash applied by a clerk)
    invoices = dataset(client, world)

    # When the customer's ledger is read
    entries = ledger_store.entries_for(CUSTOMER)

    # Then every entry that moves a receivable names the invoice it moves
    named = sorted((entry.kind, entry.invoice_id) for entry in entries if entry.kind != "payment")
    first, second = invoices["IA1"].invoice_id, invoices["IA2"].invoice_id
    assert named == sorted(
        [("invoice", first), ("invoice", second), ("credit_note", second), ("allocation", first)]
    )
