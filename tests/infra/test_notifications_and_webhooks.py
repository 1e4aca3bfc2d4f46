"""The e-mail and webhook consumers: routed the events their code handles, granted what they use.

moto enforces no IAM and ignores AWS::SES::EmailIdentity, so these are checked on the template.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.notifications import NOTIFIED_EVENTS
from shared.domain.webhooks import EVENT_TYPES
from tests.infra.cfn import FUNCTION, as_list, events, grants, of_type, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
SENDER_IDENTITY = {
    "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderEmail}"
}


def _rule_pattern(template: Template, rule_id: str) -> dict[str, Any]:
    pattern: dict[str, Any] = template["Resources"][rule_id]["Properties"]["EventPattern"]
    return pattern


def test_each_rule_routes_exactly_the_events_its_consumer_handles(template: Template) -> None:
    # Given the two rules and what the code acts on
    notifications = _rule_pattern(template, "CustomerNotificationsRule")
    webhooks = _rule_pattern(template, "PartnerWebhooksRule")

    # Then the rules match the code: e-mails from the order side only, webhooks for every order
    # and money event a partner may subscribe to, whichever of this system's sources emits it
    assert notifications["source"] == ["otc.orders"]
    assert set(notifications["detail-type"]) == NOTIFIED_EVENTS
    # but not an event that says the customer wants no e-mail of it (EventBridge's content
    # filtering: a field absent, or true)
    assert notifications["$or"] == [
        {"detail": {"data": {"email_notice": [{"exists": False}]}}},
        {"detail": {"data": {"email_notice": [True]}}},
    ]
    assert webhooks["source"] == [{"prefix": "otc."}]
    assert webhooks["detail-type"] == list(EVENT_TYPES)


def test_the_consumers_poll_their_own_queues(template: Template) -> None:
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}
    assert queues["NotifyCustomers"] == {"Fn::GetAtt": ["CustomerNotificationsQueue", "Arn"]}
    assert queues["DeliverWebhooks"] == {"Fn::GetAtt": ["PartnerWebhooksQueue", "Arn"]}


def test_a_webhook_is_retried_eight_times_before_it_is_dead_lettered(template: Template) -> None:
    queue = template["Resources"]["PartnerWebhooksQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 8


def test_only_the_mailers_may_send_email_and_only_from_the_sender(template: Template) -> None:
    # Given every statement naming an SES action, per function
    ses = {
        function_id: [
            statement
            for statement in role_statements(template, function_id)
            if any(action.startswith("ses:") for action in as_list(statement["Action"]))
        ]
        for function_id in of_type(template, FUNCTION)
    }

    # Then only the customer notifier, the invoice deliverer and the collection worker have one:
    # sending on the sender identity, from that address (raw MIME for the attachments: invoice
    # documents, the statement of account)
    mailers = {function_id for function_id, found in ses.items() if found}
    assert mailers == {"NotifyCustomers", "DeliverInvoices", "RemindCustomers"}
    actions = {
        "NotifyCustomers": ["ses:SendEmail"],
        "DeliverInvoices": ["ses:SendEmail", "ses:SendRawEmail"],
        "RemindCustomers": ["ses:SendEmail", "ses:SendRawEmail"],
    }
    for function_id in mailers:
        [statement] = ses[function_id]
        assert as_list(statement["Action"]) == actions[function_id]
        assert as_list(statement["Resource"]) == [SENDER_IDENTITY]
        sender_only = {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
        assert statement["Condition"] == sender_only


def test_the_stack_creates_the_identity_the_functions_send_from(template: Template) -> None:
    [identity] = of_type(template, "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == {"Ref": "SenderEmail"}
    for function_id, function in of_type(template, FUNCTION).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["SENDER_EMAIL"] == {"Ref": "SenderEmail"}, function_id


def test_the_webhook_consumer_may_delay_retries_on_its_own_queue_only(template: Template) -> None:
    statements = role_statements(template, "DeliverWebhooks")
    own = {"Fn::GetAtt": ["PartnerWebhooksQueue", "Arn"]}
    assert grants(statements, "sqs:ChangeMessageVisibility", own)
    delayed_on = [
        resource
        for statement in statements
        if "sqs:ChangeMessageVisibility" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert delayed_on == [own]


def test_the_api_may_manage_webhooks_and_record_replays(template: Template) -> None:
    statements = role_statements(template, "APIHandler")
    table = {"Fn::GetAtt": ["Table", "Arn"]}
    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"):
        assert grants(statements, f"dynamodb:{action}", table), action
