"""Limits, logs, reservations, retries and protections the packaged template sets.

None of these shows in the local stack (moto has no API Gateway stage, no concurrency, no
Scheduler, and ignores encryption and backups), so the template itself is checked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.wiring import merge
from tests.infra.cfn import FUNCTION, as_list, events, of_type, role_statements, target
from tests.infra.conftest import Packaged

pytestmark = pytest.mark.infra

Template = dict[str, Any]


def _api(template: Template) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["RestAPI"]["Properties"]
    return properties


def _default(template: Template, parameter: str) -> Any:
    return template["Parameters"][parameter]["Default"]


# --- the API --------------------------------------------------------------------------------------


def test_the_api_stage_throttles_every_route_within_parameters(template: Template) -> None:
    # Given the REST API's stage settings
    [settings] = _api(template)["MethodSettings"]

    # Then every method of every path is throttled by the stack's rate and burst parameters
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    assert _default(template, "ApiThrottleRateLimit") > 0
    assert _default(template, "ApiThrottleBurstLimit") >= _default(template, "ApiThrottleRateLimit")


def test_the_api_logs_every_request_as_json_to_a_log_group_that_expires(
    template: Template,
) -> None:
    # Given the stage's access log setting
    setting = _api(template)["AccessLogSetting"]
    group = template["Resources"][target(setting["DestinationArn"])]

    # Then it goes to a log group of the stack, kept for a limited time
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert 0 < group["Properties"]["RetentionInDays"] <= 400
    # and each line is JSON naming the request, the caller's address, the status and the latency
    line = json.loads(setting["Format"])
    assert line["requestId"] == "$context.requestId"
    assert line["ip"] == "$context.identity.sourceIp"
    assert line["status"] == "$context.status"
    assert line["latency"] == "$context.responseLatency"
    assert not [value for value in line.values() if "apiKey" in value and "Id" not in value]
    assert "header" not in setting["Format"].lower()  # no header (X-Api-Key) is ever logged


def test_api_gateway_may_write_logs_before_the_stage_is_created(template: Template) -> None:
    # Given the account setting API Gateway logs with
    account = template["Resources"]["ApiGatewayAccount"]
    role = template["Resources"][target(account["Properties"]["CloudWatchRoleArn"])]

    # Then only API Gateway assumes its role, the role writes logs of this account only,
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    [policy] = role["Properties"]["Policies"]
    for statement in policy["PolicyDocument"]["Statement"]:
        assert all(action.startswith("logs:") for action in statement["Action"])
        assert "${AWS::AccountId}" in statement["Resource"]["Fn::Sub"]
    # and the API (so its stage) is created after the setting
    assert "ApiGatewayAccount" in template["Resources"]["RestAPI"]["DependsOn"]


def test_the_partner_usage_plan_is_attached_to_the_stage_with_its_limits(
    template: Template,
) -> None:
    # Given the usage plan
    plan = template["Resources"]["PartnerUsagePlan"]["Properties"]

    # Then it applies to the API's stage, with throttle and daily quota from parameters
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]
    assert plan["Throttle"] == {
        "RateLimit": {"Ref": "PartnerThrottleRateLimit"},
        "BurstLimit": {"Ref": "PartnerThrottleBurstLimit"},
    }
    assert plan["Quota"] == {"Limit": {"Ref": "PartnerDailyQuota"}, "Period": "DAY"}
    # and one partner's limits stay within the whole stage's
    assert _default(template, "PartnerThrottleRateLimit") <= _default(
        template, "ApiThrottleRateLimit"
    )


def test_gateway_keys_are_required_only_when_the_parameter_says_so(template: Template) -> None:
    # Given the parameter and the REST API's definition
    parameter = template["Parameters"]["RequireGatewayApiKeys"]
    definition = _api(template)["DefinitionBody"]

    # Then requiring keys is off unless the operator turns it on
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["RequiresGatewayApiKeys"] == {
        "Fn::Equals": [{"Ref": "RequireGatewayApiKeys"}, "true"]
    }
    # and API Gateway reads the key from the app's own header
    assert definition["securityDefinitions"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    # and every route that takes X-Api-Key requires it under that condition, no other route
    required = {"Fn::If": ["RequiresGatewayApiKeys", [{"api_key": []}], {"Ref": "AWS::NoValue"}]}
    routes = {
        (path, method): operation
        for path, operations in definition["paths"].items()
        for method, operation in operations.items()
        if method in merge.HTTP_METHODS
    }
    keyless = {route for route, operation in routes.items() if "security" not in operation}
    assert keyless == {
        ("/health", "get"),
        ("/webhooks/stripe", "post"),
        ("/webhooks/{provider}", "post"),
        ("/dashboard", "get"),
        ("/portal/{customer_id}", "get"),
        ("/portal/{customer_id}/invoices/{invoice_id}/document", "get"),
    }
    assert all(
        operation["security"] == required
        for route, operation in routes.items()
        if route not in keyless
    )
    assert routes[("/orders", "post")]["security"] == required


def test_staff_keys_have_a_usage_plan_of_their_own_on_the_stage(template: Template) -> None:
    plan = template["Resources"]["StaffUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]
    assert plan["Throttle"] == {
        "RateLimit": {"Ref": "ApiThrottleRateLimit"},
        "BurstLimit": {"Ref": "ApiThrottleBurstLimit"},
    }


def test_the_api_finds_each_usage_plan_it_mirrors_keys_into_by_its_name(template: Template) -> None:
    # Given the API function's environment
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]

    # Then each plan's name is the one the plan has (its id would be a cycle: the plan needs the
    # stage, the stage the function)
    for variable, plan in merge.USAGE_PLAN_VARIABLES.items():
        assert variables[variable] == template["Resources"][plan]["Properties"]["UsagePlanName"]
    # and the function may create, find and delete keys and add them to plans, nothing more
    statements = role_statements(template, "APIHandler")
    region = "arn:${AWS::Partition}:apigateway:${AWS::Region}::"
    expected = {
        ("apigateway:GET", f"{region}/apikeys"),
        ("apigateway:GET", f"{region}/usageplans"),
        ("apigateway:POST", f"{region}/apikeys"),
        ("apigateway:POST", f"{region}/usageplans/*/keys"),
        ("apigateway:DELETE", f"{region}/apikeys/*"),
    }
    granted = {
        (action, resource["Fn::Sub"])
        for statement in statements
        for action in as_list(statement["Action"])
        if action.startswith("apigateway:")
        for resource in as_list(statement["Resource"])
    }
    assert granted == expected


# --- functions ------------------------------------------------------------------------------------


def test_every_function_reserves_the_concurrency_its_parameter_says(template: Template) -> None:
    # Given every function
    for function_id, function in of_type(template, FUNCTION).items():
        parameter = f"{function_id}ReservedConcurrency"
        condition = f"{function_id}HasReservedConcurrency"

        # Then its reservation is a parameter of its own, with a default, and -1 leaves it unset
        assert template["Parameters"][parameter]["Type"] == "Number"
        assert _default(template, parameter) >= 1, function_id
        assert template["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "-1"]}]
        }
        assert function["Properties"]["ReservedConcurrentExecutions"] == {
            "Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]
        }


def test_reserved_defaults_leave_the_account_its_unreserved_hundred(template: Template) -> None:
    # Given the default reservations of one stage
    total = sum(
        _default(template, f"{function_id}ReservedConcurrency")
        for function_id in of_type(template, FUNCTION)
    )

    # Then a dev and a prod stack fit in the default 1000 with 100 left unreserved
    assert 2 * total <= 900
    assert _default(template, "APIHandlerReservedConcurrency") == max(
        merge.RESERVED_CONCURRENCY.values()
    )


def test_queue_consumers_poll_no_faster_than_their_reservation(template: Template) -> None:
    # Given every SQS trigger
    for function_id, source in events(template, "SQS"):
        parameter = f"{function_id}ReservedConcurrency"

        # Then its pollers stop at the reservation (a throttled message would count a receive)
        assert source["ScalingConfig"] == {
            "Fn::If": [
                f"{function_id}HasReservedConcurrency",
                {"MaximumConcurrency": {"Ref": parameter}},
                {"Ref": "AWS::NoValue"},
            ]
        }
        # which Lambda accepts only from 2
        assert _default(template, parameter) >= 2, function_id


# --- schedules ------------------------------------------------------------------------------------


def test_every_schedule_retries_and_then_dead_letters_to_an_alarmed_queue(
    template: Template,
) -> None:
    # Given every Scheduler schedule
    schedules = events(template, "ScheduleV2")
    assert len(schedules) == 3

    for function_id, schedule in schedules:
        # Then Scheduler retries a refused invocation for a bounded time
        policy = schedule["RetryPolicy"]
        assert 0 < policy["MaximumRetryAttempts"] <= 185, function_id
        assert 60 <= policy["MaximumEventAgeInSeconds"] <= 86400, function_id
        # and then sends it to the schedule DLQ, which keeps it 14 days and raises an alarm
        queue_id = target(schedule["DeadLetterConfig"]["Arn"])
        assert queue_id == "ScheduleDeadLetterQueue", function_id
    queue = template["Resources"]["ScheduleDeadLetterQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 1209600
    assert queue["SqsManagedSseEnabled"] is True
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    assert any(
        target(dimension["Value"]) == "ScheduleDeadLetterQueue"
        for alarm in alarms
        for dimension in alarm["Properties"].get("Dimensions", [])
    )


def test_sam_lets_each_schedules_role_send_to_the_dead_letter_queue(packaged: Packaged) -> None:
    # Given SAM's expansion of the template (Scheduler writes dead letters with the schedule's
    # execution role; it reads no queue policy)
    translator = pytest.importorskip("samtranslator.translator.transform")
    template: Template = json.loads(json.dumps(packaged.template))
    for resource in template["Resources"].values():
        if resource["Type"] == FUNCTION:
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"

    # When it is translated
    translated = translator.transform(template, {}, _NoManagedPolicies())
    resources = translated["Resources"]

    # Then every schedule's role may send to the schedule DLQ, and the target names it
    schedules = of_type(translated, "AWS::Scheduler::Schedule")
    assert len(schedules) == 3
    for schedule_id, schedule in schedules.items():
        schedule_target = schedule["Properties"]["Target"]
        assert target(schedule_target["DeadLetterConfig"]["Arn"]) == "ScheduleDeadLetterQueue"
        assert schedule_target["RetryPolicy"] == merge.SCHEDULE_RETRY_POLICY
        role = resources[target(schedule_target["RoleArn"])]
        statements = [
            statement
            for policy in role["Properties"]["Policies"]
            for statement in as_list(policy["PolicyDocument"]["Statement"])
        ]
        assert any(
            "sqs:SendMessage" in as_list(statement["Action"])
            and target(as_list(statement["Resource"])[0]) == "ScheduleDeadLetterQueue"
            for statement in statements
        ), schedule_id


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


# --- data -----------------------------------------------------------------------------------------


def test_the_table_cannot_be_deleted_by_the_stack_or_by_hand(template: Template) -> None:
    table = template["Resources"]["Table"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_idempotency_table_is_restorable_and_encrypted_with_the_stacks_key(
    template: Template,
) -> None:
    # Given the idempotency table (saved answers replay payments and order creations)
    properties = template["Resources"]["IdempotencyTable"]["Properties"]

    # Then it has point-in-time recovery and is encrypted with our key, not an AWS-owned one
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    sse = properties["SSESpecification"]
    assert (sse["SSEEnabled"], sse["SSEType"]) == (True, "KMS")
    assert target(sse["KMSMasterKeyId"]) == "Key"


def test_the_key_lets_dynamodb_use_it_for_this_accounts_tables_only(template: Template) -> None:
    # Given the key policy
    statements = template["Resources"]["Key"]["Properties"]["KeyPolicy"]["Statement"]
    [dynamodb] = [s for s in statements if s["Sid"] == "DynamoDBEncryptsTheAccountsTables"]

    # Then DynamoDB may use it on behalf of this account's principals, through DynamoDB only
    assert {"kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant"} <= set(dynamodb["Action"])
    condition = dynamodb["Condition"]["StringEquals"]
    assert condition["kms:ViaService"] == {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
    assert condition["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}


def test_every_function_using_the_idempotency_table_may_use_its_key(template: Template) -> None:
    # Given the functions whose role reaches the idempotency table
    for function_id in of_type(template, FUNCTION):
        statements = role_statements(template, function_id)
        resources = [r for s in statements for r in as_list(s.get("Resource", []))]
        if {"Fn::GetAtt": ["IdempotencyTable", "Arn"]} not in resources:
            continue

        # Then it may decrypt and generate data keys with the key the table is encrypted with
        assert any(
            {"kms:Decrypt", "kms:GenerateDataKey"} <= set(as_list(statement["Action"]))
            and {"Fn::GetAtt": ["Key", "Arn"]} in as_list(statement["Resource"])
            for statement in statements
        ), function_id


# --- alarms ---------------------------------------------------------------------------------------


def test_alarms_reach_the_alarm_email_only_when_one_is_given(template: Template) -> None:
    # Given the AlarmEmail parameter and the subscription
    parameter = template["Parameters"]["AlarmEmail"]
    subscription = template["Resources"]["AlarmEmailSubscription"]

    # Then empty is allowed (and the default), and the subscription exists only when it is set
    assert parameter["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    # and every alarm notifies the topic
    for alarm_id, alarm in of_type(template, "AWS::CloudWatch::Alarm").items():
        assert {"Ref": "AlarmTopic"} in alarm["Properties"]["AlarmActions"], alarm_id
