"""The lake's resources moto's CloudFormation skips, created from the template's own properties.

moto (5.2) has no CloudFormation support for AWS::Glue::Database, AWS::Glue::Table,
AWS::KinesisFirehose::DeliveryStream nor AWS::Athena::WorkGroup: it logs and skips them. Their
services do exist, so after the stack is created each such resource of infra/resources.yaml is
created through its API with the properties the template gives it (the few intrinsic functions
they use resolved against the deployed stack), as CloudFormation would on AWS.

Not the Athena workgroup: moto's Athena answers every call from botocore 1.44 with 404 "Not yet
implemented" (the SDK's protocol for Athena is not one moto reads). Locally DuckDB runs the
lake's queries; the workgroup is checked in the packaged template only (tests/infra).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3

_SUB = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """Ref, Fn::GetAtt (Arn) and Fn::Sub against the deployed stack's values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._values[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            resource, attribute = value["Fn::GetAtt"]
            return self._values[f"{resource}.{attribute}"]
        if set(value) == {"Fn::Sub"}:
            text = _SUB.sub(lambda match: self._values[match.group(1)], value["Fn::Sub"])
            return text.replace("${!", "${")
        return {key: self(item) for key, item in value.items()}


def stack_values(
    session: boto3.session.Session, stack_name: str, parameters: Mapping[str, str]
) -> dict[str, str]:
    """What the lake's properties refer to: parameters, pseudo parameters, physical ids, ARNs."""
    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    values = {
        **parameters,
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
    }
    resources = session.client("cloudformation").list_stack_resources(StackName=stack_name)
    for resource in resources["StackResourceSummaries"]:
        logical_id, physical_id = resource["LogicalResourceId"], resource["PhysicalResourceId"]
        values[logical_id] = physical_id
        if resource["ResourceType"] == "AWS::S3::Bucket":
            values[f"{logical_id}.Arn"] = f"arn:aws:s3:::{physical_id}"
        elif resource["ResourceType"] == "AWS::IAM::Role":
            role = session.client("iam").get_role(RoleName=physical_id)["Role"]
            values[f"{logical_id}.Arn"] = role["Arn"]
        elif resource["ResourceType"] == "AWS::KMS::Key":
            values[f"{logical_id}.Arn"] = f"arn:aws:kms:{region}:{account}:key/{physical_id}"
    return values


def create(
    session: boto3.session.Session,
    template: Mapping[str, Any],
    stack_name: str,
    parameters: Mapping[str, str],
) -> list[str]:
    """Create every skipped lake resource of ``template``; return their logical ids."""
    values = stack_values(session, stack_name, parameters)
    # what moto skipped has no physical id: its logical id stands in (as moto's own Ref does)
    values = {**{logical_id: logical_id for logical_id in template["Resources"]}, **values}
    resolve = Resolver(values)
    created = []
    for kind, creator in _CREATORS.items():  # databases, then tables, then their streams
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == kind:
                creator(session, resolve(resource["Properties"]))
                created.append(logical_id)
    return created


def _database(session: boto3.session.Session, properties: dict[str, Any]) -> None:
    session.client("glue").create_database(DatabaseInput=properties["DatabaseInput"])


def _table(session: boto3.session.Session, properties: dict[str, Any]) -> None:
    session.client("glue").create_table(
        DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"]
    )


def _delivery_stream(session: boto3.session.Session, properties: dict[str, Any]) -> None:
    arguments = {
        key: properties[key]
        for key in (
            "DeliveryStreamName",
            "DeliveryStreamType",
            "DeliveryStreamEncryptionConfigurationInput",
            "ExtendedS3DestinationConfiguration",
        )
        if key in properties
    }
    session.client("firehose").create_delivery_stream(**arguments)


_CREATORS: dict[str, Callable[[boto3.session.Session, dict[str, Any]], None]] = {
    "AWS::Glue::Database": _database,
    "AWS::Glue::Table": _table,
    "AWS::KinesisFirehose::DeliveryStream": _delivery_stream,
}
