"""Collection runs' wiring: the daily schedule, the customer fan-out queue, the reminder worker.

moto never fires a schedule, enforces no IAM and ignores the schedule's time zone, so the route
and the grants are checked on the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import FUNCTION, as_list, events, grants, of_type, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
QUEUE = {"Fn::GetAtt": ["CollectionRemindersQueue", "Arn"]}
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
OPEN_BY_DUE = {"Fn::Sub": "${Table.Arn}/index/open_by_due"}
GSI1 = {"Fn::Sub": "${Table.Arn}/index/gsi1"}
KEY = {"Fn::GetAtt": ["Key", "Arn"]}


LINK_SECRET = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    "${DashboardSecretsPath}/${Stage}/link-secret"
}


def _variables(template: Template, function_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = template["Resources"][function_id]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def test_the_time_zone_is_a_stack_parameter_defaulting_to_utc(template: Template) -> None:
    # Given the stack's parameters
    parameter = template["Parameters"]["CollectionTimeZone"]

    # Then a deploy without an override collects on UTC days, at 06:00 UTC
    assert parameter["Type"] == "String"
    assert parameter["Default"] == "UTC"
    # and every function reads the same zone (the API's runs and the schedule's agree)
    for function_id in of_type(template, FUNCTION):
        variables = _variables(template, function_id)
        assert variables["COLLECTION_TIME_ZONE"] == {"Ref": "CollectionTimeZone"}, function_id


def test_the_reminder_queue_is_filled_by_collection_runs_alone(template: Template) -> None:
    # Given the reminder worker's queue, which no rule feeds
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}

    # Then the worker polls it, only the scheduled run and the API (staff start runs) may send
    # to it, and both find it in their environment
    assert queues["RemindCustomers"] == QUEUE
    senders = {
        function_id
        for function_id in of_type(template, FUNCTION)
        if grants(role_statements(template, function_id), "sqs:SendMessage", QUEUE)
    }
    assert senders == {"RunCollections", "APIHandler"}
    for function_id in senders:
        variables = _variables(template, function_id)
        assert variables["COLLECTION_QUEUE_URL"] == {"Ref": "CollectionRemindersQueue"}
    assert not [
        rule
        for rule in of_type(template, "AWS::Events::Rule").values()
        for rule_target in rule["Properties"]["Targets"]
        if rule_target["Arn"] == QUEUE
    ]


def test_a_customer_that_keeps_failing_is_dead_lettered_and_alarmed(template: Template) -> None:
    # Given the reminder queue
    queue = template["Resources"]["CollectionRemindersQueue"]["Properties"]
    worker = template["Resources"]["RemindCustomers"]["Properties"]

    # Then it redrives to its DLQ (an alarm watches it) and hides a message while a worker
    # may still be e-mailing: six times the worker's timeout
    dlq = {"Fn::GetAtt": ["CollectionRemindersDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == dlq
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True
    dimension = {
        "Name": "QueueName",
        "Value": {"Fn::GetAtt": ["CollectionRemindersDeadLetterQueue", "QueueName"]},
    }
    assert [
        alarm
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
        if dimension in alarm["Properties"]["Dimensions"]
    ]


def test_the_run_reads_the_open_invoice_index_and_never_scans(template: Template) -> None:
    # Given the scheduled run's statements
    statements = role_statements(template, "RunCollections")

    # Then it queries the sparse index of open invoices, may read items for a dry run, and
    # writes nothing to the table
    assert grants(statements, "dynamodb:Query", OPEN_BY_DUE)
    for action in ("GetItem", "BatchGetItem"):
        assert grants(statements, f"dynamodb:{action}", TABLE), action
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert not actions & {
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
    assert not [action for action in actions if action.startswith(("ses:", "s3:"))]
    assert grants(statements, "kms:Decrypt", KEY)


def test_the_worker_records_and_mails_reminders_with_what_it_needs(template: Template) -> None:
    # Given the reminder worker's statements
    statements = role_statements(template, "RemindCustomers")

    # Then it reads and transacts on the table, queries customers' items on gsi1, and never scans
    for action in ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"):
        assert grants(statements, f"dynamodb:{action}", TABLE), action
    assert grants(statements, "dynamodb:Query", GSI1)
    assert not grants(statements, "dynamodb:Scan", TABLE)
    assert grants(statements, "kms:GenerateDataKey", KEY)
    # and sends no message anywhere (it is the end of the fan-out)
    assert not [s for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
    # and reads the link secret the reminder's portal link is signed with, and no other
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in as_list(s["Action"]))]
    assert [(as_list(s["Action"]), as_list(s["Resource"])) for s in ssm] == [
        (["ssm:GetParameter"], [LINK_SECRET])
    ]


def test_the_reminder_worker_links_to_the_api_and_the_api_handler_cannot(
    template: Template,
) -> None:
    # Given the API's URL, as Chalice writes its EndpointURL (without the trailing slash)
    url = {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"}

    # Then the reminder worker has it for the statement link, and the API's own handler does not
    # (RestAPI -> APIHandler -> RestAPI would be a cycle CloudFormation refuses)
    assert _variables(template, "RemindCustomers")["PUBLIC_API_URL"] == url
    # and the invoice deliverer for the portal link of the invoice e-mail
    assert _variables(template, "DeliverInvoices")["PUBLIC_API_URL"] == url
    assert "PUBLIC_API_URL" not in _variables(template, "APIHandler")
