"""Each function may do what its code and triggers need, on named resources, and nothing else.

moto enforces no IAM: a missing grant shows up only on AWS, an excessive one never does.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import (
    FUNCTION,
    as_list,
    events,
    grants,
    identity_statements,
    of_type,
    role_statements,
    target,
)

pytestmark = pytest.mark.infra

TABLE_WRITES = frozenset(
    {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
)

Template = dict[str, Any]

# AWS accepts X-Ray segments only on "*": the one place a wildcard resource is allowed.
WILDCARD_RESOURCE_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_no_identity_policy_allows_every_action_of_a_service(template: Template) -> None:
    # Given every statement of every role and policy
    statements = list(identity_statements(template))

    # Then none allows "*" or "service:*"
    assert statements
    for owner, statement in statements:
        for action in as_list(statement.get("Action", [])):
            assert action != "*" and not action.endswith(":*"), (owner, action)
        assert "NotAction" not in statement, owner


def test_no_identity_policy_allows_every_resource_but_for_xray(template: Template) -> None:
    # Given every statement of every role and policy
    statements = list(identity_statements(template))

    # Then "*" resources appear only with the X-Ray actions that require them
    for owner, statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= WILDCARD_RESOURCE_ALLOWED, owner
        assert "NotResource" not in statement, owner


def test_each_function_has_a_role_of_its_own_and_no_managed_policy(template: Template) -> None:
    # Given every function
    functions = of_type(template, FUNCTION)
    roles = {function_id: target(f["Properties"]["Role"]) for function_id, f in functions.items()}

    # Then roles are not shared, carry no managed policy, and Chalice's default role is gone
    # (the one other role is API Gateway's, to write the API's access log)
    assert len(set(roles.values())) == len(roles)
    for role_id in roles.values():
        role = template["Resources"][role_id]
        assert role["Type"] == "AWS::IAM::Role"
        assert "ManagedPolicyArns" not in role["Properties"], role_id
    all_roles = of_type(template, "AWS::IAM::Role")
    # (and the roles AWS services take: API Gateway's logging, Firehose's delivery to the lake)
    assert set(all_roles) == {*roles.values(), "ApiGatewayCloudWatchRole", "LakeDeliveryRole"}
    assert "ManagedPolicyArns" not in all_roles["ApiGatewayCloudWatchRole"]["Properties"]


def test_every_function_writes_only_to_its_own_log_group(template: Template) -> None:
    # Given every function and its log group
    for function_id, function in of_type(template, FUNCTION).items():
        log_group = target(function["Properties"]["LoggingConfig"]["LogGroup"])

        # Then its role may write to that group, and logs writes go nowhere else
        statements = role_statements(template, function_id)
        assert grants(statements, "logs:PutLogEvents", {"Fn::GetAtt": [log_group, "Arn"]})
        log_resources = [
            resource
            for statement in statements
            if any(action.startswith("logs:") for action in as_list(statement["Action"]))
            for resource in as_list(statement["Resource"])
        ]
        assert log_resources == [{"Fn::GetAtt": [log_group, "Arn"]}], function_id
        assert of_type(template, "AWS::Logs::LogGroup")[log_group]["Properties"]["RetentionInDays"]


def test_every_consumer_may_poll_its_queue_and_no_other(template: Template) -> None:
    # Given every SQS trigger
    for function_id, source in events(template, "SQS"):
        statements = role_statements(template, function_id)

        # Then the role can receive and delete on that queue, and receive from nothing else
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert grants(statements, action, source["Queue"]), (function_id, action)
        received_from = [
            resource
            for statement in statements
            if "sqs:ReceiveMessage" in as_list(statement["Action"])
            for resource in as_list(statement["Resource"])
        ]
        assert received_from == [source["Queue"]], function_id


def test_stream_readers_may_read_the_stream_and_send_failures_to_their_destination(
    template: Template,
) -> None:
    # Given the stream triggers (the outbox publisher, the lake's landing)
    sources = events(template, "DynamoDB")
    assert {function_id for function_id, _ in sources} == {"PublishEvents", "LandInLake"}
    for function_id, source in sources:
        statements = role_statements(template, function_id)

        # Then each mapping can read the stream and deliver failed batches to its DLQ
        for action in (
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:DescribeStream",
        ):
            assert grants(statements, action, source["Stream"]), action
        assert grants(statements, "dynamodb:ListStreams", {"Fn::Sub": "${Table.Arn}/stream/*"})
        destination = source["DestinationConfig"]["OnFailure"]["Destination"]
        assert grants(statements, "sqs:SendMessage", destination)


def test_functions_publishing_events_may_put_them_on_our_bus_only(template: Template) -> None:
    # Given the outbox publisher and the recovery of its failed batches, which put events on the bus
    for function_id in ("PublishEvents", "RecoverEvents"):
        statements = role_statements(template, function_id)

        # Then they may PutEvents on our bus, and on nothing else
        assert grants(statements, "events:PutEvents", {"Fn::GetAtt": ["EventBus", "Arn"]})
        put_on = [
            resource
            for statement in statements
            if "events:PutEvents" in as_list(statement["Action"])
            for resource in as_list(statement["Resource"])
        ]
        assert put_on == [{"Fn::GetAtt": ["EventBus", "Arn"]}], function_id


def test_api_may_keep_idempotency_records(template: Template) -> None:
    # Given the API, which wraps every POST in Powertools' idempotency
    statements = role_statements(template, "APIHandler")
    table = {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}

    # Then it may read, create, complete and drop records in the idempotency table
    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        assert grants(statements, f"dynamodb:{action}", table), action


def test_functions_touching_the_encrypted_table_may_use_its_key(template: Template) -> None:
    # Given every function whose role reaches the KMS-encrypted table or its stream
    table = {"Fn::GetAtt": ["Table", "Arn"]}
    stream = {"Fn::GetAtt": ["Table", "StreamArn"]}
    key = {"Fn::GetAtt": ["Key", "Arn"]}
    for function_id in of_type(template, FUNCTION):
        statements = role_statements(template, function_id)
        touches_table = any(
            any(resource in (table, stream) for resource in as_list(statement["Resource"]))
            and any(action.startswith("dynamodb:") for action in as_list(statement["Action"]))
            for statement in statements
        )

        writes_table = any(
            table in as_list(statement["Resource"])
            and any(action in TABLE_WRITES for action in as_list(statement["Action"]))
            for statement in statements
        )

        # Then it may use that key to read (and to write, if it writes)
        assert touches_table, function_id
        assert grants(statements, "kms:Decrypt", key), function_id
        if writes_table:
            assert grants(statements, "kms:GenerateDataKey", key), function_id
