"""Data migration's wiring: S3 -> default bus -> import-files queue, and the row work queue.

moto applies no bucket notification from CloudFormation, enforces no IAM, and routes S3 events
to rules on every bus; so the route and the grants are checked on the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.imports import KINDS
from tests.infra.cfn import FUNCTION, as_list, events, grants, of_type, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
KIND_OBJECTS = [{"Fn::Sub": f"${{DocumentsBucket.Arn}}/imports/{kind}/*"} for kind in KINDS]
REPORTS = {"Fn::Sub": "${DocumentsBucket.Arn}/imports/reports/*"}
INVOICE_DOCUMENTS = {"Fn::Sub": "${DocumentsBucket.Arn}/invoices/*"}  # links to invoice documents
STATEMENTS_OF_ACCOUNT = {"Fn::Sub": "${DocumentsBucket.Arn}/account-statements/*"}  # their links
LAKE_OBJECTS = {"Fn::Sub": "${LakeBucket.Arn}/lake/*"}  # reports with source=lake
QUERY_RESULTS = {"Fn::Sub": "${LakeBucket.Arn}/athena-results/*"}  # Athena writes as the caller
PAYMENT_EVIDENCE = [  # verified webhook bodies and posted bank statements (payments intake)
    {"Fn::Sub": "${DocumentsBucket.Arn}/webhooks/*"},
    {"Fn::Sub": "${DocumentsBucket.Arn}/statements/*"},
    {"Fn::Sub": "${DocumentsBucket.Arn}/inbox/camt053/api/*"},  # large ones, for the importer
]


def _s3_grants(template: Template, function_id: str, action: str) -> list[Any]:
    return [
        resource
        for statement in role_statements(template, function_id)
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def test_the_bucket_announces_new_objects_to_eventbridge(template: Template) -> None:
    bucket = of_type(template, "AWS::S3::Bucket")["DocumentsBucket"]
    configuration = bucket["Properties"]["NotificationConfiguration"]
    assert configuration == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_a_rule_on_the_default_bus_routes_files_of_each_kind_to_the_file_worker(
    template: Template,
) -> None:
    # Given the rule S3's events meet (S3 puts them on the default bus only)
    rule = template["Resources"]["ImportFilesRule"]["Properties"]

    # Then it matches "Object Created" in our bucket under each kind the code imports, and no
    # other key: the error reports the workers write under imports/reports/ never loop back
    assert rule["EventBusName"] == "default"
    pattern = rule["EventPattern"]
    assert (pattern["source"], pattern["detail-type"]) == (["aws.s3"], ["Object Created"])
    assert pattern["detail"]["bucket"] == {"name": [{"Ref": "DocumentsBucket"}]}
    prefixes = [matcher["prefix"] for matcher in pattern["detail"]["object"]["key"]]
    assert sorted(prefixes) == sorted(f"imports/{kind}/" for kind in KINDS)
    [rule_target] = rule["Targets"]
    assert rule_target["Arn"] == {"Fn::GetAtt": ["ImportFilesQueue", "Arn"]}
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}
    assert queues["StartImports"] == {"Fn::GetAtt": ["ImportFilesQueue", "Arn"]}


def test_the_row_queue_is_filled_by_the_file_worker_alone(template: Template) -> None:
    # Given the row worker's queue, which no rule feeds
    queue = {"Fn::GetAtt": ["ImportRowsQueue", "Arn"]}
    queues = {function_id: source["Queue"] for function_id, source in events(template, "SQS")}

    # Then the row worker polls it, only the file worker may send to it, and it dead-letters
    assert queues["ImportRows"] == queue
    senders = {
        function_id
        for function_id in of_type(template, FUNCTION)
        if grants(role_statements(template, function_id), "sqs:SendMessage", queue)
    }
    assert senders == {"StartImports"}
    redrive = template["Resources"]["ImportRowsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ImportRowsDeadLetterQueue", "Arn"]}
    file_worker = template["Resources"]["StartImports"]["Properties"]["Environment"]["Variables"]
    assert file_worker["IMPORT_ROWS_QUEUE_URL"] == {"Ref": "ImportRowsQueue"}


def test_import_functions_touch_only_their_part_of_the_bucket(template: Template) -> None:
    # The file worker reads uploaded files and writes reports; the row worker writes reports;
    # the API stores uploads and statements of account, and signs links to reports, invoice
    # documents and statements (a presigned URL needs the signer's grant)
    assert _s3_grants(template, "StartImports", "s3:GetObject") == KIND_OBJECTS
    assert _s3_grants(template, "StartImports", "s3:PutObject") == [REPORTS]
    assert _s3_grants(template, "ImportRows", "s3:GetObject") == []
    assert _s3_grants(template, "ImportRows", "s3:PutObject") == [REPORTS]
    assert _s3_grants(template, "APIHandler", "s3:PutObject") == [
        *KIND_OBJECTS,
        *PAYMENT_EVIDENCE,
        STATEMENTS_OF_ACCOUNT,  # the PDF it renders on request
        QUERY_RESULTS,
    ]
    assert _s3_grants(template, "APIHandler", "s3:GetObject") == [
        REPORTS,
        INVOICE_DOCUMENTS,
        STATEMENTS_OF_ACCOUNT,
        {"Fn::Sub": "${DocumentsBucket.Arn}/reports/*"},  # the nightly report snapshots it serves
        LAKE_OBJECTS,
        QUERY_RESULTS,
    ]
    # and the workers' S3 grants name keys under imports/, never the whole bucket
    for function_id in ("StartImports", "ImportRows"):
        for statement in role_statements(template, function_id):
            if any(action.startswith("s3:") for action in as_list(statement["Action"])):
                for resource in as_list(statement["Resource"]):
                    assert "/imports/" in resource["Fn::Sub"], (function_id, resource)


def test_import_functions_may_use_the_key_that_encrypts_the_bucket(template: Template) -> None:
    key = {"Fn::GetAtt": ["Key", "Arn"]}
    bucket = of_type(template, "AWS::S3::Bucket")["DocumentsBucket"]
    [rule] = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key
    for function_id in ("StartImports", "ImportRows", "APIHandler"):
        statements = role_statements(template, function_id)
        assert grants(statements, "kms:Decrypt", key), function_id
        assert grants(statements, "kms:GenerateDataKey", key), function_id
