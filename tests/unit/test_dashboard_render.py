"""The dashboard page: charts and tables say the same numbers, as text, safely escaped."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from functions.reporting.dashboard import Dashboard, overdue_rows, render
from shared.domain.aging import AgingCurrency, AgingReport, AgingRow

AS_OF = date(2026, 12, 1)


def row(customer_id, name, buckets, unapplied="0.00"):
    amounts = tuple(Decimal(value) for value in buckets)
    total = sum(amounts, Decimal(0))
    return AgingRow(
        customer_id=customer_id,
        customer_name=name,
        buckets=amounts,
        total=total,
        unapplied=Decimal(unapplied),
        balance=total - Decimal(unapplied),
        open_items=len([a for a in amounts if a]),
    )


def aging_wire():
    acme = row("cus_acme", "ACME Retail GmbH", ["250.00", "0.00", "1000.00", "0.00", "0.00"])
    evil = row("cus_evil", "<script>alert(1)</script>", ["0.00", "40.00", "0.00", "0.00", "5.50"])
    paid_up = row("cus_ok", "Paid Up Ltd", ["99.00", "0.00", "0.00", "0.00", "0.00"])
    totals = row(None, None, ["349.00", "40.00", "1000.00", "0.00", "5.50"], unapplied="75.00")
    report = AgingReport(
        as_of=AS_OF,
        edges=(30, 60, 90),
        currencies=(AgingCurrency(currency="EUR", customers=(acme, evil, paid_up), totals=totals),),
    )
    return report.to_wire()


def dashboard(**overrides):
    values = {
        "as_of": AS_OF,
        "aging": aging_wire(),
        "trend": [
            {"month": "2026-10", "from": "2026-10-01", "to": "2026-10-31", "dso": {"EUR": None}},
            {"month": "2026-11", "from": "2026-11-01", "to": "2026-11-30", "dso": {"EUR": "41.20"}},
            {"month": "2026-12", "from": "2026-12-01", "to": "2026-12-01", "dso": {"EUR": "38.00"}},
        ],
        "payments_to_apply": 3,
        "payments_to_apply_capped": False,
        "collections_customers": 2,
    }
    return Dashboard(**{**values, **overrides})


def cell(page, **attributes):
    """The text of the one element carrying these data-* attributes."""
    pattern = "".join(f'(?=[^>]*data-{name}="{value}")' for name, value in attributes.items())
    [found] = re.findall(rf"<t[dh]{pattern}[^>]*>([^<]*)<", page)
    return found


def table_row(page, customer_id):
    """The cells' texts of the top-overdue row of ``customer_id``."""
    [found] = re.findall(rf'<tr data-customer="{customer_id}"[^>]*>(.*?)</tr>', page)
    return re.findall(r"<td[^>]*>([^<]*)</td>", found)


def test_the_aging_table_shows_each_bucket_and_the_total_as_text():
    # When
    page = render(dashboard())

    # Then
    assert cell(page, currency="EUR", bucket="current") == "349.00"
    assert cell(page, currency="EUR", bucket="31-60") == "1,000.00"
    assert cell(page, currency="EUR", bucket="90[+]") == "5.50"
    assert cell(page, currency="EUR", bucket="total") == "1,394.50"


def test_the_aging_chart_draws_bars_in_proportion_and_names_every_figure():
    # When
    page = render(dashboard())

    # Then the 31-60 bar (the largest) is the full height, the current one about a third of it
    heights = {
        bucket: float(height)
        for height, bucket in re.findall(r'height="([^"]*)" data-bucket="([^"]*)"', page)
    }
    assert heights["31-60"] == 160.0
    assert heights["current"] == round(349 / 1000 * 160, 1)
    assert heights["61-90"] == 0.0
    # and the chart's title says every number (what a screen reader reads)
    assert (
        "AR aging in EUR: current 349.00, 1-30 40.00, 31-60 1,000.00, 61-90 0.00, 90+ 5.50" in page
    )


def test_top_overdue_customers_are_ranked_by_what_is_past_due():
    # When
    rows = overdue_rows(aging_wire())

    # Then ACME (1,000.00 past due) comes first, the customer with nothing past due is left out
    assert [(r["customer_id"], str(r["past_due"]), r["oldest"]) for r in rows] == [
        ("cus_acme", "1000.00", "31-60"),
        ("cus_evil", "45.50", "90+"),
    ]
    page = render(dashboard())
    assert table_row(page, "cus_acme") == [
        "ACME Retail GmbH",
        "EUR",
        "1,000.00",
        "31-60",
        "1,250.00",
    ]


def test_names_are_escaped_and_the_page_has_no_script():
    # When
    page = render(dashboard())

    # Then
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page


def test_unapplied_cash_and_worklist_counts_are_shown():
    # When
    page = render(dashboard(payments_to_apply=1000, payments_to_apply_capped=True))

    # Then
    assert cell(page, unapplied="EUR") == "75.00"
    assert re.search(r'data-count="payments-to-apply">1000\+<', page)
    assert re.search(r'data-count="collections-worklist">2<', page)


def test_the_dso_trend_leaves_a_month_without_sales_undefined():
    # When
    page = render(dashboard())

    # Then
    assert cell(page, month="2026-10", currency="EUR") == "-"
    assert cell(page, month="2026-11", currency="EUR") == "41.20"
    assert "DSO in EUR by month: 2026-10 undefined, 2026-11 41.20, 2026-12 38.00" in page
    assert len(re.findall(r'<circle class="point"', page)) == 2


def test_an_empty_book_renders_empty_states():
    # When
    page = render(
        dashboard(
            aging={"as_of": "2026-12-01", "edges": [30, 60, 90], "buckets": [], "currencies": []},
            trend=[],
            payments_to_apply=0,
            collections_customers=0,
        )
    )

    # Then
    assert "Nothing is open." in page
    assert "No unapplied cash." in page
    assert "No customer is past due." in page
    assert "DSO is undefined" in page


def behaviour_wire(customer_id, name, parts):
    from shared.domain.behaviour import assess

    start, as_of = date(2026, 1, 1), date(2026, 6, 30)
    return assess({"customer_id": customer_id, "customer_name": name, **parts}, start, as_of)


def test_the_behaviour_panels_show_the_riskiest_first_escaped_and_the_segments():
    from functions.reporting.behaviour import riskiest

    hostile = '<script>alert("x")</script>'
    late = behaviour_wire(
        "cus_late",
        hostile,
        {"currency": "EUR", "invoices_paid": 2, "days_beyond": 40, "paid_late": 2,
         "orders_confirmed": 1, "first_order_on": date(2026, 1, 5),
         "last_order_on": date(2026, 1, 5)},
    )  # fmt: skip
    punctual = behaviour_wire("cus_ok", "Punctual AG", {"currency": "EUR", "invoices_paid": 3})
    ranked = tuple(one.to_wire() for one in riskiest([punctual, late]))

    page = render(dashboard(behaviour=ranked))

    rows = re.findall(r'<tr data-risky="([^"]+)"[^>]*>(.*?)</tr>', page)
    assert [customer for customer, _ in rows] == ["cus_late", "cus_ok"]
    assert hostile not in page and "&lt;script&gt;" in rows[0][1]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", rows[0][1])
    assert cells[2:] == ["40.00", "medium", "days_beyond_terms (+20.00)"]
    assert re.findall(r'data-segment="([a-z_]+)">(\d+)<', page) == [
        ("at_risk", "1"),
        ("no_orders", "1"),
    ]


def test_without_a_lake_the_behaviour_panels_say_so():
    page = render(dashboard(behaviour=None))
    assert page.count("The lake is not configured") == 2


def test_the_collection_panel_shows_each_currencys_kpis_and_leaves_undefined_ones_blank():
    # Given the lake's KPIs of the last 30 days
    kpis = {
        "from": "2026-11-02",
        "to": "2026-12-01",
        "currencies": [
            {
                "currency": "EUR",
                "cei": "35.89",
                "dso": "43.92",
                "countback_dso": None,
                "average_days_to_pay": "39.00",
                "fulfilment_rate": "100.00",
            }
        ],
    }

    # When
    page = render(dashboard(kpis=kpis))

    # Then
    assert cell(page, currency="EUR", kpi="cei") == "35.89"
    assert cell(page, currency="EUR", kpi="dso") == "43.92"
    assert cell(page, currency="EUR", kpi="countback_dso") == "-"
    assert cell(page, currency="EUR", kpi="average_days_to_pay") == "39.00"
    assert cell(page, currency="EUR", kpi="fulfilment_rate") == "100.00"
    assert "2026-11-02 to 2026-12-01" in page


def test_without_a_lake_the_collection_panel_says_so():
    assert "no collection figures to show" in render(dashboard())


def service_wire():
    from datetime import UTC, datetime

    from shared.domain import cases
    from shared.domain.cases import CaseKind, Priority

    opened = datetime(2026, 11, 30, 9, tzinfo=UTC)
    dispute = cases.Timing(
        opened_at=opened,
        due_at=cases.due_at(opened, Priority.NORMAL),
        first_response_at=datetime(2026, 11, 30, 21, tzinfo=UTC),
        resolved_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        kind=CaseKind.DISPUTE,
        reason="<b>damaged</b>",
        outcome="credit_note",
        disputed_amount=Decimal("59.50"),
        currency="EUR",
    )
    figures = cases.service_figures([dispute], [dispute], [5, 2])
    return {"from": "2026-11-02", "to": "2026-12-01", **figures}


def test_the_service_panel_shows_times_disputes_reasons_outcomes_and_csat():
    # When
    page = render(dashboard(service=service_wire()))

    # Then
    assert cell(page, service="opened") == "1"
    assert cell(page, service="first_response_median") == "12.0"
    assert cell(page, service="first_response_within_target") == "100.0 %"
    assert cell(page, service="resolution_p90") == "24.0"
    assert cell(page, service="dispute_days_median") == "1.0"
    assert cell(page, service="csat") == "50.0 %"
    assert cell(page, service="satisfaction_average") == "3.5"
    assert cell(page, disputed="EUR") == "59.50"
    assert cell(page, outcome="credit_note") == "1"
    assert "<b>damaged</b>" not in page  # a stored reason is text, never markup
    assert cell(page, reason="&lt;b&gt;damaged&lt;/b&gt;") == "1"


def test_the_service_panel_says_when_there_were_no_cases():
    from shared.domain import cases

    empty = {"from": "2026-11-02", "to": "2026-12-01", **cases.service_figures([], [], [])}
    page = render(dashboard(service=empty))
    assert "No cases opened or closed in these days." in page
    assert 'data-service="' not in page
