"""The journal export's wiring: its nightly schedule and its grants.

moto fires no schedule and enforces no IAM, so both are checked on the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import as_list, events, grants, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
GSI2 = {"Fn::Sub": "${Table.Arn}/index/gsi2"}
JOURNAL = {"Fn::Sub": "${DocumentsBucket.Arn}/journal/*"}
KEY = {"Fn::GetAtt": ["Key", "Arn"]}


def test_the_export_runs_nightly_after_the_day_ended(template: Template) -> None:
    # Given the schedules
    schedule = dict(events(template, "ScheduleV2"))["ExportJournal"]

    # Then the export fires at 01:45 UTC (the journal counts UTC days: yesterday is complete)
    assert schedule["ScheduleExpression"] == "cron(45 1 * * ? *)"
    assert "ScheduleExpressionTimezone" not in schedule
    assert "${Stage}" in schedule["Name"]["Fn::Sub"]
    assert template["Resources"]["ExportJournal"]["Properties"]["Timeout"] >= 300


def test_the_export_reads_the_journal_index_and_writes_only_journal_files(
    template: Template,
) -> None:
    # Given the export function's statements
    statements = role_statements(template, "ExportJournal")

    # Then it queries the journal index, reads document numbers, and writes under journal/
    assert grants(statements, "dynamodb:Query", GSI2)
    assert grants(statements, "dynamodb:BatchGetItem", TABLE)
    assert grants(statements, "s3:PutObject", JOURNAL)
    assert grants(statements, "s3:GetObject", JOURNAL)  # HeadObject: is the day's file unchanged
    assert grants(statements, "kms:GenerateDataKey", KEY)
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert not actions & {
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "s3:DeleteObject",
    }
    put_targets = [
        resource
        for statement in statements
        if "s3:PutObject" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert put_targets == [JOURNAL]


def test_the_chart_of_accounts_is_a_stack_parameter_empty_by_default(template: Template) -> None:
    assert template["Parameters"]["ChartOfAccounts"]["Default"] == ""
