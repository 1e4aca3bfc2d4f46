"""Customer behaviour over the API: two customers' books placed through the API and landed in the
lake by its worker; their risk scores, explanations, suggested limits, and the worklist by risk.

cus_acme (net 30) pays its first invoice 10 days after issue; a new customer (net 30) pays its
first 50 days after issue, 20 days late. Each then has a second invoice overdue on ``AS_OF``
(acme's older, so the usual worklist order puts acme first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from functions.lake.backfill import backfill
from shared import clock
from shared.domain.invoice import Invoice
from tests.functional.accounts import Answer, call, create_customer, written
from tests.functional.cash import issued_invoice
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import conforms_to_openapi

START = date(2026, 6, 1)
AS_OF = START + timedelta(days=100)
ON_TIME = "cus_acme"
PROBLEM = "application/problem+json"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime.combine(START, time(9, 30), tzinfo=UTC)

    def on(self, day: date) -> None:
        self.moment = datetime.combine(day, time(9, 30), tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[Clock]:
    held = Clock()
    clock.set_clock(lambda: held.moment)
    try:
        yield held
    finally:
        clock.set_clock(None)


def pay(client: Any, world: World, invoice: Invoice, customer_id: str) -> None:
    cheque = {
        "amount": str(invoice.total),
        "currency": invoice.currency,
        "method": "cheque",
        "received_on": clock.now().date().isoformat(),
        "payer_name": "Payer",
        "reference": f"CHQ-{invoice.number}",
        "remittance": invoice.number,
        "customer_id": customer_id,
    }
    answer = call(client, "POST", "/payments", body=cheque)
    assert answer.status == 201, answer.body
    world.pump.drain()


@pytest.fixture
def late(client, world: World, frozen: Clock) -> str:
    """The books of both customers in the lake; the late payer's id."""
    backfill()  # the seeded accounts land in the lake
    late_id = str(
        create_customer(
            client,
            legal_name="Latepay GmbH",
            credit_limit="20000.00",
            payment_terms={"kind": "net", "net_days": 30},
        )["id"]
    )
    first_on_time = issued_invoice(client, world)
    first_late = issued_invoice(client, world, customer_id=late_id)
    frozen.on(START + timedelta(days=10))
    pay(client, world, first_on_time, ON_TIME)
    frozen.on(START + timedelta(days=20))
    issued_invoice(client, world)
    frozen.on(START + timedelta(days=50))
    pay(client, world, first_late, late_id)
    frozen.on(START + timedelta(days=55))
    issued_invoice(client, world, customer_id=late_id)
    frozen.on(AS_OF)
    world.pump.drain()
    return late_id


def behaviour(client: Any, customer_id: str, query: str = "", key: str | None = None) -> Answer:
    kwargs = {} if key is None else {"key": key}
    return call(client, "GET", f"/customers/{customer_id}/behaviour{query}", **kwargs)


def only(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    [found] = answer.body["currencies"]
    assert isinstance(found, dict)
    return found


def test_a_late_payer_scores_higher_with_its_reasons_and_a_smaller_suggested_limit(
    client, world: World, late: str
):
    # When both customers' behaviour is asked for
    on_time = only(behaviour(client, ON_TIME, f"?as_of={AS_OF}"))
    slow = only(behaviour(client, late, f"?as_of={AS_OF}&months=12"))

    # Then the late payer paid 50 days after issue, 20 beyond terms, and scores higher
    assert slow["payment"]["average_days_to_pay"] == "50.00"
    assert slow["payment"]["average_days_beyond_terms"] == "20.00"
    assert slow["payment"]["late_share"] == "1.00"
    assert on_time["payment"]["average_days_to_pay"] == "10.00"
    assert on_time["payment"]["late_share"] == "0.00"
    assert Decimal(slow["risk"]["score"]) > Decimal(on_time["risk"]["score"])
    # ...and the explanation lists each factor with the points it added
    points = {f["factor"]: Decimal(f["points"]) for f in slow["risk"]["factors"]}
    assert set(points) == {
        "days_beyond_terms",
        "late_share",
        "overdue_share_of_exposure",
        "trend_worsening",
        "broken_promises",
        "disputes_opened",
    }
    assert points["days_beyond_terms"] == Decimal(20)
    assert points["late_share"] == Decimal(20)
    assert sum(points.values()) == Decimal(slow["risk"]["score"])
    assert slow["risk"]["band"] == "high"
    assert on_time["risk"]["band"] == "low"

    # And the suggested limit is the documented formula's, beside the limit set on the account
    body = behaviour(client, late, f"?as_of={AS_OF}").body
    conforms_to_openapi(body, "CustomerBehaviour")
    days = Decimal(body["days"])
    monthly = Decimal(slow["rfm"]["monetary"]) * 30 / days
    expected = monthly * (Decimal(30) + Decimal(20)) / 30 * Decimal("0.5")
    assert slow["credit_limit"]["amount"] == str(expected.quantize(Decimal(1), ROUND_DOWN))
    assert slow["credit_limit"]["average_terms_days"] == "30.00"
    assert slow["credit_limit"]["set"] == "20000.00"
    assert on_time["credit_limit"]["set"] == "50000.00"


def test_the_report_and_the_worklist_put_the_late_payer_first(client, world: World, late: str):
    # When the behaviour report and the worklist are asked for by risk
    report = call(client, "GET", f"/reports/behaviour?as_of={AS_OF}&sort=risk&limit=2")
    by_urgency = call(client, "GET", f"/collections/worklist?as_of={AS_OF}")
    by_risk = call(client, "GET", f"/collections/worklist?as_of={AS_OF}&sort=risk")

    # Then the late payer leads the report, and the worklist by risk, though not by urgency
    assert report.status == 200, report.body
    assert report.body["customers"][0]["customer_id"] == late
    assert report.body["customers_total"] >= 2
    conforms_to_openapi(report.body, "BehaviourReport")
    conforms_to_openapi(by_risk.body, "CollectionsWorklist")
    assert by_urgency.status == 200 and by_risk.status == 200, (by_urgency.body, by_risk.body)
    assert [c["customer_id"] for c in by_urgency.body["customers"]] == [ON_TIME, late]
    assert [c["customer_id"] for c in by_risk.body["customers"]] == [late, ON_TIME]
    scores = [Decimal(c["risk_score"]) for c in by_risk.body["customers"]]
    assert scores == sorted(scores, reverse=True)


def test_who_may_read_a_customers_behaviour(client, world: World, late: str):
    # The partner bound to cus_acme reads its behaviour; the late payer is not its customer
    assert behaviour(client, ON_TIME, key=PARTNER_KEY).status == 200
    assert behaviour(client, late, key=PARTNER_KEY).status == 404
    assert behaviour(client, "cus_nobody").status == 404
    assert call(client, "GET", "/reports/behaviour", key=PARTNER_KEY).status == 403


@pytest.mark.parametrize(
    "path",
    [
        "/customers/cus_acme/behaviour?months=0",
        "/customers/cus_acme/behaviour?months=abc",
        "/customers/cus_acme/behaviour?as_of=2099-12-31",
        "/customers/cus_acme/behaviour?as_of=1999-01-01",
        "/customers/cus_acme/behaviour?as_of=%27%3BDROP",
        "/customers/cus_acme/behaviour?evil=1",
        "/reports/behaviour?sort=amount",
        "/reports/behaviour?limit=100000",
        "/reports/behaviour?months=37",
        "/collections/worklist?sort=behaviour",
    ],
)
def test_hostile_query_parameters_answer_400_and_write_nothing(
    client, world: World, frozen: Clock, path: str
):
    before = written(world)

    answer = call(client, "GET", path)

    assert answer.status == 400, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert all(error["pointer"].startswith("#/query") for error in answer.body["errors"])
    assert written(world) == before


def test_the_dashboard_shows_the_riskiest_customers_and_the_segments(
    client, world: World, late: str
):
    # When the dashboard is opened as of the day both books are in the lake
    answer = client.http.get(f"/dashboard?as_of={AS_OF}", headers={"X-Api-Key": ADMIN_KEY})

    # Then the late payer tops the riskiest customers, with its band and first factor
    assert answer.status_code == 200, answer.body
    page = answer.body.decode()
    assert "Riskiest customers" in page and "Behaviour segments" in page
    rows = re.findall(r'<tr data-risky="([^"]+)"[^>]*>(.*?)</tr>', page)
    assert rows[0][0] == late
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", rows[0][1])
    assert cells[:2] == ["Latepay GmbH", "EUR"] and cells[3] == "high"
    assert cells[4].startswith(("days_beyond_terms", "late_share", "overdue_share_of_exposure"))
    assert len(rows) <= 5
    # ...and each segment's count, which add up to the customers the lake knows
    counts = re.findall(r'data-segment="([a-z_]+)">(\d+)<', page)
    assert counts and sum(int(count) for _, count in counts) >= 2
