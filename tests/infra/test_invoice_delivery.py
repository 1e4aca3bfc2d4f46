"""The invoice delivery consumer: routed the issuing events, granted only what it uses.

moto enforces no IAM, so what the function may touch is checked on the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from functions.invoicing.deliver_invoice import DELIVERED_EVENTS
from tests.infra.cfn import as_list, events, grants, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
INVOICE_DOCUMENTS = {"Fn::Sub": "${DocumentsBucket.Arn}/invoices/*"}
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
KEY = {"Fn::GetAtt": ["Key", "Arn"]}


def test_the_rule_routes_exactly_the_issuing_events_to_the_delivery_queue(
    template: Template,
) -> None:
    # Given the delivery rule
    rule = template["Resources"]["InvoiceDeliveryRule"]["Properties"]

    # Then it routes invoicing's issuing events, and only those, to the delivery queue
    assert rule["EventPattern"]["source"] == ["otc.invoicing"]
    assert set(rule["EventPattern"]["detail-type"]) == DELIVERED_EVENTS
    [rule_target] = rule["Targets"]
    assert rule_target["Arn"] == {"Fn::GetAtt": ["InvoiceDeliveryQueue", "Arn"]}
    # and the queue lets that rule, and only it, send
    policy = template["Resources"]["InvoiceDeliveryQueuePolicy"]["Properties"]["PolicyDocument"]
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    condition = {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["InvoiceDeliveryRule", "Arn"]}}}
    assert statement["Condition"] == condition


def test_the_deliverer_polls_its_own_queue(template: Template) -> None:
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}
    assert queues["DeliverInvoices"] == {"Fn::GetAtt": ["InvoiceDeliveryQueue", "Arn"]}


def test_the_deliverer_writes_invoice_documents_only(template: Template) -> None:
    # Given the deliverer's statements
    statements = role_statements(template, "DeliverInvoices")

    # Then it may put objects under invoices/ only, and read nothing from the bucket
    s3 = [s for s in statements if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    assert [(as_list(s["Action"]), as_list(s["Resource"])) for s in s3] == [
        (["s3:PutObject"], [INVOICE_DOCUMENTS])
    ]
    # and it uses the stack key (bucket and table) and the markers of the e-mails it sends
    assert grants(statements, "kms:GenerateDataKey", KEY)
    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        assert grants(statements, f"dynamodb:{action}", TABLE), action
    assert not grants(statements, "dynamodb:Scan", TABLE)
