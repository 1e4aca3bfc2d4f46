"""Reporting's wiring: the nightly snapshot function, its grants, and the dashboard's secret.

moto fires no schedule and enforces no IAM, so both are checked on the packaged template.
"""

from __future__ import annotations

import zipfile
from typing import Any

import pytest

from tests.infra.cfn import FUNCTION, as_list, events, grants, of_type, role_statements
from tests.infra.conftest import Packaged

pytestmark = pytest.mark.infra

Template = dict[str, Any]
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
GSI1 = {"Fn::Sub": "${Table.Arn}/index/gsi1"}
GSI2 = {"Fn::Sub": "${Table.Arn}/index/gsi2"}
REPORTS = {"Fn::Sub": "${DocumentsBucket.Arn}/reports/*"}
KEY = {"Fn::GetAtt": ["Key", "Arn"]}
LINK_SECRET = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    "${DashboardSecretsPath}/${Stage}/link-secret"
}


def test_the_snapshot_runs_nightly_at_0130_utc(template: Template) -> None:
    # Given the schedules
    schedules = dict(events(template, "ScheduleV2"))

    # Then the report run fires at 01:30 UTC (reports count UTC days: yesterday is complete)
    schedule = schedules["RunReports"]
    assert schedule["ScheduleExpression"] == "cron(30 1 * * ? *)"
    assert "ScheduleExpressionTimezone" not in schedule
    assert "${Stage}" in schedule["Name"]["Fn::Sub"]
    # and it has the time to read the books
    timeout = template["Resources"]["RunReports"]["Properties"]["Timeout"]
    assert timeout >= 300


def test_the_snapshot_reads_the_books_and_writes_only_reports(template: Template) -> None:
    # Given the snapshot function's statements
    statements = role_statements(template, "RunReports")

    # Then it reads no item of the table (its figures are the lake's)
    for action in ("GetItem", "BatchGetItem", "Query"):
        assert not grants(statements, f"dynamodb:{action}", TABLE), action
    assert not grants(statements, "dynamodb:Query", GSI1)
    assert not grants(statements, "dynamodb:Query", GSI2)
    # and writes the snapshot objects under reports/ and the pointer item, nothing else
    assert grants(statements, "s3:PutObject", REPORTS)
    assert grants(statements, "dynamodb:PutItem", TABLE)
    assert grants(statements, "kms:GenerateDataKey", KEY)
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert not actions & {
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "s3:DeleteObject",
    }
    # its aging and KPIs are the lake's: Athena in the stack's workgroup, which reads the lake's
    # objects and writes its results as the caller; the documents bucket it only writes to
    workgroup = "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/"
    for action in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults"):
        assert grants(statements, f"athena:{action}", {"Fn::Sub": workgroup + "otc-${Stage}-lake"})
    results = {"Fn::Sub": "${LakeBucket.Arn}/athena-results/*"}
    assert _targets(statements, "s3:GetObject") == [
        {"Fn::Sub": "${LakeBucket.Arn}/lake/*"},
        results,
    ]
    assert _targets(statements, "s3:PutObject") == [REPORTS, results]


def _targets(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [
        resource
        for statement in statements
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def test_only_the_api_reads_snapshots_and_the_link_secret(template: Template) -> None:
    # Given every function
    functions = of_type(template, FUNCTION)

    # Then the API (GET /reports/aging's snapshot, the dashboard's and portal's links) and no
    # one else may; the link secret also signs the portal link of the invoice and reminder e-mails
    readers = {
        f for f in functions if grants(role_statements(template, f), "s3:GetObject", REPORTS)
    }
    assert readers == {"APIHandler"}
    secret_readers = {
        f
        for f in functions
        if grants(role_statements(template, f), "ssm:GetParameter", LINK_SECRET)
    }
    assert secret_readers == {"APIHandler", "DeliverInvoices", "RemindCustomers"}


def test_every_function_knows_where_the_link_secret_lives(template: Template) -> None:
    expected = {"Fn::Sub": "${DashboardSecretsPath}/${Stage}/link-secret"}
    for function_id, function in of_type(template, FUNCTION).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["DASHBOARD_LINK_SECRET_PARAMETER"] == expected, function_id
    assert template["Parameters"]["DashboardSecretsPath"]["Default"] == "/otc/dashboard"


def test_the_dashboard_template_ships_in_the_code_zip(packaged: Packaged) -> None:
    # Given the deployment zip
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())
        template = code.read("functions/reporting/templates/dashboard.html").decode()

    # Then the page's template sits next to the module that renders it
    assert "functions/reporting/dashboard.py" in names
    assert "$aging" in template and "<script" not in template
