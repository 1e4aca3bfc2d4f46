"""Business outcome metrics, counted from committed events."""

from __future__ import annotations

import json
from decimal import Decimal

from shared import outcomes
from shared.domain.events import DomainEvent
from shared.observability import metrics
from shared.outcomes import Measure


def _event(detail_type: str, **data: object) -> DomainEvent:
    return DomainEvent(detail_type=detail_type, source="otc.test", aggregate_id="x", data=data)


def test_each_outcome_counts_once_and_an_invoice_also_counts_its_amount():
    # Given
    events = [
        _event("OrderReceived"),
        _event("OrderHeld"),
        _event("InvoiceIssued", total={"amount": "119.00", "currency": "EUR"}),
        _event("PaymentApplied"),
        _event("PaymentUnmatched"),
        _event("ReminderSent"),
        _event("StockAdjusted"),  # not a business outcome
    ]

    # When
    found = outcomes.measures(events)

    # Then
    assert found == [
        Measure("OrdersReceived", Decimal(1)),
        Measure("OrdersHeld", Decimal(1)),
        Measure("InvoicesIssued", Decimal(1)),
        Measure("AmountInvoiced", Decimal("119.00"), "EUR"),
        Measure("PaymentsApplied", Decimal(1)),
        Measure("PaymentsUnmatched", Decimal(1)),
        Measure("RemindersSent", Decimal(1)),
    ]


def test_an_invoice_without_a_readable_total_is_still_counted():
    assert outcomes.measures([_event("InvoiceIssued", total="oops")]) == [
        Measure("InvoicesIssued", Decimal(1))
    ]


def test_counts_join_the_invocations_metrics_and_amounts_leave_with_their_currency(
    capsys, monkeypatch
):
    # Given metrics switched on (the offline environment switches them off)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    events = [
        _event("OrderReceived"),
        _event("OrderReceived"),
        _event("InvoiceIssued", total={"amount": "50.50", "currency": "USD"}),
    ]

    # When
    outcomes.count(events)
    metrics.flush_metrics()

    # Then
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    amount = next(b for b in blobs if "AmountInvoiced" in b)
    counts = next(b for b in blobs if "OrdersReceived" in b)
    assert amount["AmountInvoiced"] == [50.5] and amount["currency"] == "USD"
    assert amount["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OrderToCash"
    assert counts["OrdersReceived"] == [1.0, 1.0] and counts["InvoicesIssued"] == [1.0]
