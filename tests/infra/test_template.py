"""The packaged template wires every trigger safely: partial batches, DLQs, alarms, our bus.

None of this is exercised by the local stack (moto runs no event source mappings, no scheduler
and no alarms), so the template itself is the thing to check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.app import CloudWatchEvent

from tests.infra.cfn import FUNCTION, as_list, events, of_type, role_statements, target

pytestmark = pytest.mark.infra

Template = dict[str, Any]


def _consumer_queues(template: Template) -> set[str]:
    return {target(source["Queue"]) for _, source in events(template, "SQS")}


def _dead_letter_queues(template: Template) -> set[str]:
    """Redrive targets, rule-target DLQs and the stream on-failure destinations no function
    consumes (one that a function consumes redrives to a DLQ of its own)."""
    queues = of_type(template, "AWS::SQS::Queue")
    redrive = {
        target(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for queue in queues.values()
        if "RedrivePolicy" in queue["Properties"]
    }
    rule_dlqs = {
        target(rule_target["DeadLetterConfig"]["Arn"])
        for rule in of_type(template, "AWS::Events::Rule").values()
        for rule_target in rule["Properties"]["Targets"]
        if "DeadLetterConfig" in rule_target
    }
    on_failure = {
        target(source["DestinationConfig"]["OnFailure"]["Destination"])
        for _, source in events(template, "DynamoDB")
    }
    return redrive | rule_dlqs | (on_failure - _consumer_queues(template))


def test_template_is_plain_json_with_every_short_tag_converted(packaged: Any) -> None:
    # Given the template file on disk
    text = packaged.template_path.read_text()

    # When it is read as JSON (CloudFormation rejects YAML with aliases; JSON has none)
    template = json.loads(text)

    # Then no YAML short tag survived as a string
    assert '"!' not in text
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def test_every_function_runs_python312_on_arm64_with_active_tracing(template: Template) -> None:
    # Given every function of the app
    functions = of_type(template, FUNCTION)

    # Then each targets the Graviton python3.12 runtime and is traced
    assert set(functions) == {
        "APIHandler",
        "ConfirmOrders",
        "AllocateBackorders",
        "IssueInvoices",
        "DeliverInvoices",
        "NotifyCustomers",
        "DeliverWebhooks",
        "PublishEvents",
        "LandInLake",
        "RecoverEvents",
        "StartImports",
        "ImportRows",
        "RecordGatewayEvents",
        "ImportBankStatements",
        "ApplyCash",
        "RunCollections",
        "RemindCustomers",
        "RunReports",
        "ExportJournal",
        "ApplyCredits",
    }
    for function_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12", function_id
        assert properties["Architectures"] == ["arm64"], function_id
        assert properties["Tracing"] == {"Ref": "Tracing"}, function_id
        disabled = properties["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]
        assert disabled == {"Fn::If": ["TracingActive", "false", "true"]}, function_id


def test_tracing_is_off_unless_the_operator_turns_it_on(template: Template) -> None:
    # Given the Tracing parameter and the condition the functions read
    parameter = template["Parameters"]["Tracing"]

    # Then it defaults to PassThrough (no traces, no X-Ray SDK at cold start) and takes Active
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "PassThrough",
        ["PassThrough", "Active"],
    )
    assert template["Conditions"]["TracingActive"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}


def test_every_function_finds_the_stack_resources_in_its_environment(template: Template) -> None:
    # Given what shared/config.py reads from the environment
    expected = {
        "TABLE_NAME": {"Ref": "Table"},
        "IDEMPOTENCY_TABLE_NAME": {"Ref": "IdempotencyTable"},
        "EVENT_BUS_NAME": {"Fn::GetAtt": ["EventBus", "Name"]},
        "DOCUMENTS_BUCKET": {"Ref": "DocumentsBucket"},
        "SENDER_EMAIL": {"Ref": "SenderEmail"},
        "SELLER_PROFILE": {"Ref": "SellerProfile"},
        "COLLECTION_QUEUE_URL": {"Ref": "CollectionRemindersQueue"},
        "COLLECTION_TIME_ZONE": {"Ref": "CollectionTimeZone"},
        "WEBHOOK_SECRETS_PREFIX": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}"},
        "STRIPE_WEBHOOK_SECRET_PARAMETER": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}/stripe"},
        "STRIPE_API_KEY_PARAMETER": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}/stripe-api-key"},
        "DASHBOARD_LINK_SECRET_PARAMETER": {
            "Fn::Sub": "${DashboardSecretsPath}/${Stage}/link-secret"
        },
        "CHART_OF_ACCOUNTS": {"Ref": "ChartOfAccounts"},
    }

    # Then every function gets it, next to what .chalice/config.json sets
    for function_id, function in of_type(template, FUNCTION).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert expected.items() <= variables.items(), function_id
        assert variables["POWERTOOLS_SERVICE_NAME"] == "otc", function_id


def test_every_sqs_source_reports_partial_batch_failures_from_a_stack_queue(
    template: Template,
) -> None:
    # Given the SQS triggers app.py declares
    sources = events(template, "SQS")
    queues = of_type(template, "AWS::SQS::Queue")

    # Then each polls a queue of this stack and lets a batch fail item by item
    assert sources, "app.py declares at least one SQS consumer"
    for function_id, source in sources:
        assert source["Queue"] == {"Fn::GetAtt": [target(source["Queue"]), "Arn"]}, function_id
        assert target(source["Queue"]) in queues, function_id
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function_id


def test_every_consumer_queue_redrives_to_a_dead_letter_queue(template: Template) -> None:
    # Given the queues functions consume
    queues = of_type(template, "AWS::SQS::Queue")

    # Then a message that keeps failing ends in a DLQ of this stack, not in a retry loop: after
    # at most 10 tries, or for the recovery of events the bus refused, after a day of them
    for queue_id in _consumer_queues(template):
        redrive = queues[queue_id]["Properties"]["RedrivePolicy"]
        assert target(redrive["deadLetterTargetArn"]) in queues, queue_id
        assert target(redrive["deadLetterTargetArn"]) != queue_id
        if queue_id == "EventRecoveryQueue":
            retried = (
                redrive["maxReceiveCount"] * queues[queue_id]["Properties"]["VisibilityTimeout"]
            )
            assert retried >= 24 * 3600, queue_id
        else:
            assert 1 <= redrive["maxReceiveCount"] <= 10, queue_id


def test_consumer_queue_visibility_outlasts_six_function_timeouts(template: Template) -> None:
    # Given each SQS trigger and its function's timeout
    queues = of_type(template, "AWS::SQS::Queue")
    functions = of_type(template, FUNCTION)

    # Then the queue hides a message long enough (AWS's advice; below 1x the mapping fails)
    for function_id, source in events(template, "SQS"):
        timeout = functions[function_id]["Properties"]["Timeout"]
        visibility = queues[target(source["Queue"])]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * timeout, function_id


def test_every_dead_letter_queue_has_an_alarm(template: Template) -> None:
    # Given every DLQ: redrive targets, the bus DLQ, the lake's on-failure queue
    dead_letter_queues = _dead_letter_queues(template)
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()

    # Then each has an alarm on visible messages that notifies someone
    assert {
        "OrderConfirmationDeadLetterQueue",
        "BackorderAllocationDeadLetterQueue",
        "InvoiceIssuanceDeadLetterQueue",
        "InvoiceDeliveryDeadLetterQueue",
        "CustomerNotificationsDeadLetterQueue",
        "PartnerWebhooksDeadLetterQueue",
        "GatewayEventsDeadLetterQueue",
        "BankStatementsDeadLetterQueue",
        "CashApplicationDeadLetterQueue",
        "CollectionRemindersDeadLetterQueue",
        "BusDeadLetterQueue",
        "EventRecoveryDeadLetterQueue",
        "LakeDeadLetterQueue",
    } <= (dead_letter_queues)
    for queue_id in dead_letter_queues:
        watching = [
            alarm["Properties"]
            for alarm in alarms
            if {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
            in alarm["Properties"].get("Dimensions", [])
        ]
        assert watching, f"no alarm on {queue_id}"
        assert all(alarm["Namespace"] == "AWS/SQS" for alarm in watching)
        assert all(alarm["AlarmActions"] for alarm in watching)


@pytest.mark.parametrize(
    ("function_id", "entities", "dead_letters"),
    [
        ("PublishEvents", ["Event"], "EventRecoveryQueue"),
        ("LandInLake", ["Event", "LedgerEntry"], "LakeDeadLetterQueue"),
    ],
)
def test_stream_sources_get_new_items_of_their_kind_and_dead_letter_what_keeps_failing(
    template: Template, function_id: str, entities: list[str], dead_letters: str
) -> None:
    # Given a stream trigger (the outbox publisher's, the lake's landing)
    sources = dict(events(template, "DynamoDB"))
    assert set(sources) == {"PublishEvents", "LandInLake"}
    source = sources[function_id]

    # Then it reads the table's real stream, only new items of its kinds, with partial failures,
    # bisection, bounded retries and an on-failure queue of this stack
    assert source["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    [pattern] = [json.loads(f["Pattern"]) for f in source["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"entity": {"S": entities}}},
    }
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BisectBatchOnFunctionError"] is True
    assert 0 <= source["MaximumRetryAttempts"] <= 10
    destination = source["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [dead_letters, "Arn"]}
    assert dead_letters in of_type(template, "AWS::SQS::Queue")


def test_schedules_run_on_eventbridge_scheduler_with_the_apps_expressions(
    template: Template,
) -> None:
    # Given the schedules app.py declares: collections daily at 06:00, the report snapshot
    # nightly at 01:30 UTC, the journal export at 01:45 UTC
    schedules = dict(events(template, "ScheduleV2"))

    # Then each is a Scheduler schedule, named per stage so dev and prod can share an account
    assert set(schedules) == {"RunCollections", "RunReports", "ExportJournal"}
    assert schedules["RunReports"]["ScheduleExpression"] == "cron(30 1 * * ? *)"
    assert schedules["RunCollections"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    for function_id, schedule in schedules.items():
        assert "${Stage}" in schedule["Name"]["Fn::Sub"], function_id
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}, function_id
    # and the collection run fires at 06:00 in the seller's time zone (the nightly runs in UTC)
    time_zone = {"Ref": "CollectionTimeZone"}
    assert schedules["RunCollections"]["ScheduleExpressionTimezone"] == time_zone
    assert "ScheduleExpressionTimezone" not in schedules["RunReports"]
    assert events(template, "Schedule") == []


def test_schedules_hand_their_functions_a_scheduled_event_with_its_time(
    template: Template,
) -> None:
    # Given what each schedule sends (without an Input, Scheduler sends "{}")
    for function_id, schedule in events(template, "ScheduleV2"):
        text = schedule["Input"]["Fn::Sub"]

        # When Scheduler and CloudFormation fill in their placeholders
        for placeholder, value in {
            "<aws.scheduler.scheduled-time>": "2026-12-01T06:00:00Z",
            "<aws.scheduler.execution-id>": "d32c5kddcf5bb8c3",
            "<aws.scheduler.schedule-arn>": "arn:aws:scheduler:us-east-1:123456789012:schedule/x",
            "${AWS::AccountId}": "123456789012",
            "${AWS::Region}": "us-east-1",
        }.items():
            text = text.replace(placeholder, value)
        event = CloudWatchEvent(json.loads(text), context=None)

        # Then it is the envelope Chalice's scheduled handlers read, with the scheduled time
        assert event.detail_type == "Scheduled Event", function_id
        assert event.time == "2026-12-01T06:00:00Z", function_id
        assert (event.account, event.region) == ("123456789012", "us-east-1"), function_id


def test_every_rule_listens_on_our_bus(template: Template) -> None:
    # Given every EventBridge rule, in CloudFormation or as a SAM trigger
    our_bus = ({"Fn::GetAtt": ["EventBus", "Name"]}, {"Ref": "EventBus"})
    rules = [rule["Properties"] for rule in of_type(template, "AWS::Events::Rule").values()]
    sam_rules = [
        source
        for kind in ("CloudWatchEvent", "EventBridgeRule")
        for _, source in events(template, kind)
    ]

    # Then none listens on the default bus (where no business event is ever put), but for rules
    # on events AWS services put there and nowhere else (S3's "Object Created")
    assert rules
    for rule in rules + sam_rules:
        if rule.get("EventBusName") == "default":
            sources = rule["EventPattern"]["source"]
            assert sources and all(source.startswith("aws.") for source in sources), rule
            continue
        assert rule.get("EventBusName") in our_bus, rule


def _deliveries(template: Template) -> list[tuple[str, str]]:
    """(rule, queue) for every queue a rule sends to: its targets and its target DLQs."""
    return [
        (rule_id, target(arn))
        for rule_id, rule in of_type(template, "AWS::Events::Rule").items()
        for rule_target in rule["Properties"]["Targets"]
        for arn in (rule_target["Arn"], rule_target.get("DeadLetterConfig", {}).get("Arn"))
        if arn is not None
    ]


def _work_queues(template: Template) -> set[str]:
    """Queues a function fills itself (fan-out: one message in, many out), named in its role."""
    return {
        target(resource)
        for function_id in of_type(template, FUNCTION)
        for statement in role_statements(template, function_id)
        if "sqs:SendMessage" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if isinstance(resource, dict) and "Fn::GetAtt" in resource
    }


def test_every_consumer_queue_is_fed_by_a_rule_on_the_bus(template: Template) -> None:
    # Given the queues functions consume, and where rules deliver
    delivered_to = {queue for _, queue in _deliveries(template)}

    # Then each consumer queue is an EventBridge target (or a work queue a function fans out
    # to), and no Lambda is a rule target directly (DESIGN: every async hop is EventBridge ->
    # SQS -> Lambda, for buffering, retries and DLQs)
    assert _consumer_queues(template) <= delivered_to | _work_queues(template)
    assert events(template, "CloudWatchEvent") + events(template, "EventBridgeRule") == []


def test_every_queue_a_rule_delivers_to_admits_only_that_rule(template: Template) -> None:
    # Given each (rule, queue) delivery, targets and dead-letter queues alike
    policies = of_type(template, "AWS::SQS::QueuePolicy").values()

    # Then EventBridge may send to the queue, and only on behalf of that rule (moto never checks)
    for rule_id, queue_id in _deliveries(template):
        statements = [
            statement
            for policy in policies
            if {"Ref": queue_id} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            statement["Effect"] == "Allow"
            and statement["Principal"] == {"Service": "events.amazonaws.com"}
            and "sqs:SendMessage" in as_list(statement["Action"])
            and statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
            and {"Fn::GetAtt": [rule_id, "Arn"]}
            in as_list(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
            for statement in statements
        ), f"{queue_id} does not admit {rule_id}"


def test_every_queue_a_rule_delivers_to_is_encrypted_with_a_key_eventbridge_may_use(
    template: Template,
) -> None:
    # Given each queue EventBridge delivers to
    queues = of_type(template, "AWS::SQS::Queue")
    keys = of_type(template, "AWS::KMS::Key")

    # Then it uses SQS-managed keys, or a KMS key whose policy lets EventBridge encrypt with it
    for _, queue_id in _deliveries(template):
        properties = queues[queue_id]["Properties"]
        if "KmsMasterKeyId" not in properties:
            assert properties.get("SqsManagedSseEnabled") is True, queue_id
            continue
        key_policy = keys[target(properties["KmsMasterKeyId"])]["Properties"]["KeyPolicy"]
        assert any(
            statement["Effect"] == "Allow"
            and statement["Principal"] == {"Service": "events.amazonaws.com"}
            and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(statement["Action"]))
            for statement in key_policy["Statement"]
        ), f"EventBridge cannot use the key of {queue_id}"


def test_documents_bucket_is_kms_encrypted_versioned_and_private(template: Template) -> None:
    # Given the documents bucket
    bucket = of_type(template, "AWS::S3::Bucket")["DocumentsBucket"]
    properties = bucket["Properties"]

    # Then invoices are encrypted with our key, versioned, and never public
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert target(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "Key"
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_bus_keeps_a_replayable_archive(template: Template) -> None:
    # Given the archives of the template
    archives = of_type(template, "AWS::Events::Archive").values()

    # Then one archives our bus
    assert [
        archive for archive in archives if target(archive["Properties"]["SourceArn"]) == "EventBus"
    ]


def test_template_declares_the_stage_parameter_defaulting_to_dev(template: Template) -> None:
    # Given the parameters samconfig.toml overrides per stage
    stage = template["Parameters"]["Stage"]

    # Then a deploy without an override lands in dev
    assert stage["Default"] == "dev"
    assert {"dev", "prod"} <= set(stage["AllowedValues"])
