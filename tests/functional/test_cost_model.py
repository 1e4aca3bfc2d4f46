"""The cost model: its arithmetic is exact, and a measured cycle uses every service it should."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from bench import cost_model
from bench.cost_model import GB, PRICES, Usage, cost


def test_the_cost_of_a_hand_computed_usage_is_exact() -> None:
    usage = Usage(
        api_requests=1000,
        lambda_billed_ms=(100, 250),
        dynamodb_rru=Decimal(8),
        dynamodb_wru=Decimal(4),
        sqs_requests=10,
        eventbridge_events=3,
        s3_puts=2,
        s3_gets=5,
        ses_messages=1,
        ses_attachment_bytes=GB // 2,
        kms_requests=10_000,
        firehose_billed_bytes=GB // 4,
    )

    costs = cost(usage, memory_mb=512, architecture="arm64")

    assert costs == {
        "API Gateway": Decimal("0.0035"),  # 1,000 x 3.50 / 1M
        "Lambda requests": Decimal("0.0000004"),  # 2 x 0.20 / 1M
        "Lambda duration": Decimal("0.000002333345"),  # 0.35 s x 0.5 GB x 0.0000133334
        "DynamoDB writes": Decimal("0.0000025"),  # 4 x 0.625 / 1M
        "DynamoDB reads": Decimal("0.000001"),  # 8 x 0.125 / 1M
        "DynamoDB Streams": Decimal(0),
        "SQS": Decimal("0.000004"),  # 10 x 0.40 / 1M
        "EventBridge": Decimal("0.000003"),  # 3 x 1.00 / 1M
        "S3": Decimal("0.000012"),  # 2 x 0.005 / 1k + 5 x 0.0004 / 1k
        "SES": Decimal("0.0601"),  # 0.10 / 1k + 0.5 GB x 0.12
        "KMS": Decimal("0.03"),  # 10,000 x 0.03 / 10k
        "Firehose": Decimal("0.01175"),  # 0.25 GB x (0.029 ingested + 0.018 converted)
    }
    assert cost_model.per_thousand(costs)["KMS"] == Decimal("30")
    x86 = cost(usage, memory_mb=1024, architecture="x86_64")["Lambda duration"]
    assert x86 == Decimal("0.35") * PRICES["lambda.gb_second.x86_64"].usd


def test_every_price_names_its_page_and_date() -> None:
    for name, price in PRICES.items():
        assert price.source.startswith("https://aws.amazon.com/"), name
        assert price.as_of == cost_model.AS_OF and price.usd > 0 and price.per > 0, name


def test_firehose_bills_each_record_in_5_kb_steps() -> None:
    # the pricing page's own examples: a 3 KB record bills as 5 KB, a 12 KB one as 15 KB
    assert cost_model.firehose_billed(3 * 1024) == 5 * 1024
    assert cost_model.firehose_billed(12 * 1024) == 15 * 1024
    assert cost_model.firehose_billed(5 * 1024) == 5 * 1024
    assert cost_model.firehose_billed(1) == 5 * 1024


def test_capacity_units_follow_dynamodb_rounding() -> None:
    # "pk" 2 + "abc" 3, "n" 1 + 123 (3 digits: 2 + 1), "m" 1 + map 3 + "b" 1 + true 1
    item: dict[str, dict[str, Any]] = {
        "pk": {"S": "abc"},
        "n": {"N": "123"},
        "m": {"M": {"b": {"BOOL": True}}},
    }
    assert cost_model.item_size(item) == 5 + 4 + 6
    # a binary attribute counts its bytes, not the base64 of moto's wire form
    assert cost_model.attribute_size({"B": base64.b64encode(bytes(10)).decode()}) == 10
    assert cost_model.read_units(0) == Decimal("0.5")  # a miss still costs a unit
    assert cost_model.read_units(4097, consistent=True) == 2
    assert cost_model.read_units(4096, transactional=True) == 2
    assert cost_model.write_units(1025, transactional=True) == 4
    assert cost_model.write_units(1024) == 1


def test_a_measured_cycle_uses_every_service_of_the_flow() -> None:
    report = cost_model.measure()

    assert {"dynamodb", "events", "s3", "sesv2", "firehose"} <= report.services
    assert report.usage.api_requests == 3  # order, shipment, Stripe webhook
    assert {
        "api (HTTP routes)",
        "confirm_orders",
        "issue_invoices",
        "deliver_invoices",
        "apply_cash",
    } <= set(report.functions)
    assert report.usage.lambda_invocations == sum(n for n, _ in report.functions.values())
    usage = report.usage
    assert usage.s3_puts >= 1 and usage.ses_messages >= 1 and usage.eventbridge_events >= 4
    assert usage.dynamodb_wru > 0 and usage.dynamodb_rru > 0 and usage.sqs_requests > 0
    # the cycle's write units and e-mails are counts, not times: a write that grows or comes
    # back fails here (146 WRU: the event item is the outbox entry, chain heads in no index;
    # 178 with outbox markers, 224 before event details and documents were stored compressed)
    assert usage.dynamodb_wru <= 146, report.capacity
    assert usage.ses_messages == 1  # the invoice; the order's notices follow the customer's wish
    thousand = report.per_thousand()
    services = ("API Gateway", "Lambda duration", "DynamoDB writes", "SQS", "S3", "SES", "Firehose")
    for service in services:
        assert thousand[service] > 0, service
    assert report.memory_mb == 512 and report.architecture == "arm64"
    assert "| **Total** |" in cost_model.table(report)
