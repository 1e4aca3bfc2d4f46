"""The payments intake's wiring: its two queues, the webhook secrets' path, and its grants.

moto enforces no IAM and reads no SSM permission, so what each function may touch is checked on
the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import as_list, events, grants, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
KEY = {"Fn::GetAtt": ["Key", "Arn"]}
SECRETS = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    "${WebhookSecretsPath}/${Stage}/*"
}


def _s3(statements: list[dict[str, Any]]) -> list[tuple[list[str], list[Any]]]:
    return [
        (as_list(s["Action"]), as_list(s["Resource"]))
        for s in statements
        if any(action.startswith("s3:") for action in as_list(s["Action"]))
    ]


def test_verified_gateway_events_reach_their_consumer(template: Template) -> None:
    # Given the rule on our bus
    rule = template["Resources"]["GatewayEventsRule"]["Properties"]

    # Then it routes GatewayEventReceived, and only it, to the consumer's queue
    assert rule["EventBusName"] == {"Fn::GetAtt": ["EventBus", "Name"]}
    assert rule["EventPattern"] == {
        "source": ["otc.payments"],
        "detail-type": ["GatewayEventReceived"],
    }
    [rule_target] = rule["Targets"]
    assert rule_target["Arn"] == {"Fn::GetAtt": ["GatewayEventsQueue", "Arn"]}
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}
    assert queues["RecordGatewayEvents"] == {"Fn::GetAtt": ["GatewayEventsQueue", "Arn"]}


def test_statements_dropped_in_the_inbox_reach_the_importer(template: Template) -> None:
    # Given the rule on the default bus (S3 puts its events there only)
    rule = template["Resources"]["BankStatementsRule"]["Properties"]

    # Then it routes the bucket's new objects under inbox/camt053/ to the importer's queue
    assert rule["EventBusName"] == "default"
    assert rule["EventPattern"]["source"] == ["aws.s3"]
    assert rule["EventPattern"]["detail"] == {
        "bucket": {"name": [{"Ref": "DocumentsBucket"}]},
        "object": {"key": [{"prefix": "inbox/camt053/"}]},
    }
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}
    assert queues["ImportBankStatements"] == {"Fn::GetAtt": ["BankStatementsQueue", "Arn"]}


def test_every_function_knows_where_the_webhook_secrets_are(template: Template) -> None:
    # Given the stack parameter naming the secrets' path
    parameter = template["Parameters"]["WebhookSecretsPath"]

    # Then it has a default, and the API's role may read SecureStrings under it, per stage
    assert parameter["Default"] == "/otc/webhooks"
    statements = role_statements(template, "APIHandler")
    assert grants(statements, "ssm:GetParameter", SECRETS)
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in as_list(s["Action"]))]
    assert [as_list(s["Action"]) for s in ssm] == [["ssm:GetParameter"]]
    for function_id in ("RecordGatewayEvents", "ImportBankStatements"):
        assert not any(
            a.startswith("ssm:")
            for s in role_statements(template, function_id)
            for a in as_list(s["Action"])
        ), function_id


def test_the_consumers_touch_only_their_part_of_the_bucket(template: Template) -> None:
    # When
    recorder = role_statements(template, "RecordGatewayEvents")
    importer = role_statements(template, "ImportBankStatements")

    # Then the gateway consumer needs no object at all; the importer reads the inbox and writes
    # the kept statements and the error reports
    assert _s3(recorder) == []
    assert _s3(importer) == [
        (["s3:GetObject"], [{"Fn::Sub": "${DocumentsBucket.Arn}/inbox/camt053/*"}]),
        (
            ["s3:PutObject"],
            [
                {"Fn::Sub": "${DocumentsBucket.Arn}/statements/*"},
                {"Fn::Sub": "${DocumentsBucket.Arn}/inbox/camt053/errors/*"},
            ],
        ),
    ]
    for statements in (recorder, importer):
        assert grants(statements, "kms:GenerateDataKey", KEY)
        for action in ("GetItem", "PutItem", "UpdateItem"):
            assert grants(statements, f"dynamodb:{action}", TABLE), action
        assert not grants(statements, "dynamodb:DeleteItem", TABLE)


def test_a_large_posted_statement_reaches_the_importer_by_the_inbox(template: Template) -> None:
    from functions.payments.import_statement import INBOX, MAX_RECEIVES
    from functions.payments.queue_statement import API_UPLOADS

    # Given the API and the importer
    api = role_statements(template, "APIHandler")
    importer = template["Resources"]["ImportBankStatements"]["Properties"]
    queue = template["Resources"]["BankStatementsQueue"]["Properties"]
    rule = template["Resources"]["BankStatementsRule"]["Properties"]

    # Then the API may store posted files in the inbox's api/ folder only (not the bank's
    # drops), where the inbox rule sees them
    uploads = {"Fn::Sub": "${DocumentsBucket.Arn}/" + API_UPLOADS + "*"}
    assert API_UPLOADS.startswith(INBOX)
    assert rule["EventPattern"]["detail"]["object"] == {"key": [{"prefix": INBOX}]}
    inbox_grants = [
        (actions, resource)
        for actions, resources in _s3(api)
        for resource in resources
        if "inbox/" in str(resource)
    ]
    assert inbox_grants == [(["s3:PutObject"], uploads)]
    assert grants(api, "kms:GenerateDataKey", KEY)

    # And the importer has minutes for a large file, the queue hides a message six times
    # that long, and the importer knows its last delivery (to mark the statement failed)
    assert importer["Timeout"] == 300
    assert queue["VisibilityTimeout"] >= 6 * importer["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


def test_the_api_gives_up_when_api_gateway_does(template: Template) -> None:
    from shared.config import AwsClientSettings

    # Given the API's function and the clients' defaults
    api = template["Resources"]["APIHandler"]["Properties"]
    clients = AwsClientSettings()

    # Then it stops with API Gateway (29 s; a Powertools in-progress record then expires with
    # it), and one AWS call that exhausts its tries leaves it time to answer 503
    assert api["Timeout"] == 29
    per_try = clients.connect_timeout_seconds + clients.read_timeout_seconds
    assert clients.max_attempts * per_try < api["Timeout"]
