"""One least-privilege IAM role per function, replacing whatever roles Chalice generated.

A role grants three things, each on named resources only:
- what the function's code calls, from the declarative map in permissions.yaml;
- what its triggers need, derived from its (already wired) events: poll its queue, read the
  table stream, send failed batches to the on-failure destination;
- writing to its own log group, and X-Ray segments (the one action AWS only grants on "*").

SAM adds trigger and tracing permissions only to roles it generates itself; our roles are
explicit, so everything a function needs is stated here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from infra.wiring import cfn_yaml
from infra.wiring.merge import Template, WiringError, functions, get_att

PERMISSIONS = Path(__file__).with_name("permissions.yaml")

Statement = dict[str, Any]

_POLL_QUEUE = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
]
_READ_STREAM = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
_SEND_TO = {"AWS::SQS::Queue": "sqs:SendMessage", "AWS::SNS::Topic": "sns:Publish"}
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def load_permissions(path: Path = PERMISSIONS) -> dict[str, list[Statement]]:
    permissions: dict[str, list[Statement]] = cfn_yaml.load(path)
    return permissions


def attach_roles(
    template: Template,
    permissions: Mapping[str, list[Statement]],
    *,
    keep: Collection[str] = frozenset(),
) -> None:
    """Drop Chalice's IAM resources; give each function a role of its own.

    ``keep``: the logical ids of our own resources (resources.yaml's roles for AWS services,
    e.g. Firehose's delivery role), which stay.
    """
    by_function = functions(template)
    if unknown := sorted(set(permissions) - set(by_function)):
        raise WiringError(f"permissions.yaml names functions the app does not have: {unknown}")
    if missing := sorted(set(by_function) - set(permissions)):
        raise WiringError(f"functions without an entry in permissions.yaml: {missing}")
    resources = template["Resources"]
    chalice_iam = [
        key
        for key, value in resources.items()
        if value["Type"].startswith("AWS::IAM::") and key not in keep
    ]
    for logical_id in chalice_iam:
        del resources[logical_id]
    for logical_id, function in by_function.items():
        properties = function["Properties"]
        statements = [
            *_runtime_statements(properties),
            *_trigger_statements(template, properties.get("Events", {})),
            *(_allow(statement) for statement in permissions[logical_id]),
        ]
        role = f"{logical_id}Role"
        resources[role] = _role(logical_id, statements)
        properties["Role"] = get_att(role)
        properties.pop("Policies", None)


def _role(function_id: str, statements: list[Statement]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _LAMBDA_TRUST,
            "Policies": [
                {
                    "PolicyName": f"{function_id}Access",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _allow(statement: Statement) -> Statement:
    sid = {"Sid": statement["Sid"]} if "Sid" in statement else {}
    return {**sid, "Effect": "Allow", **statement}


def _runtime_statements(properties: Mapping[str, Any]) -> list[Statement]:
    """Logs go to the function's own log group; X-Ray accepts segments only on "*"."""
    log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
    return [
        _allow(
            {
                "Sid": "WriteOwnLogs",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [get_att(log_group)],
            }
        ),
        _allow(
            {
                "Sid": "Tracing",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        ),
    ]


def _trigger_statements(template: Template, events: Mapping[str, Any]) -> list[Statement]:
    statements: list[Statement] = []
    for name, event in events.items():
        properties = event["Properties"]
        if event["Type"] == "SQS":
            poll = {"Sid": f"{name}Poll", "Action": _POLL_QUEUE, "Resource": [properties["Queue"]]}
            statements.append(_allow(poll))
        elif event["Type"] == "DynamoDB":
            statements.extend(_stream_statements(name, properties))
            statements.extend(_on_failure_statements(template, name, properties))
    return statements


def _stream_statements(name: str, properties: Mapping[str, Any]) -> list[Statement]:
    stream = properties["Stream"]
    table = stream["Fn::GetAtt"][0]
    return [
        _allow({"Sid": f"{name}Read", "Action": _READ_STREAM, "Resource": [stream]}),
        _allow(
            {
                "Sid": f"{name}List",
                "Action": ["dynamodb:ListStreams"],
                "Resource": [{"Fn::Sub": f"${{{table}.Arn}}/stream/*"}],
            }
        ),
    ]


def _on_failure_statements(
    template: Template, name: str, properties: Mapping[str, Any]
) -> list[Statement]:
    """Lambda delivers failed-batch records to the destination with the function's role."""
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination is None:
        return []
    kind = template["Resources"][destination["Fn::GetAtt"][0]]["Type"]
    action = _SEND_TO.get(kind)
    if action is None:
        raise WiringError(f"no permission known to send failed records to a {kind}")
    return [_allow({"Sid": f"{name}OnFailure", "Action": [action], "Resource": [destination]})]
