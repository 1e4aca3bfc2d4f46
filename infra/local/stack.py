"""Deploy infra/resources.yaml through moto's CloudFormation, then apply what moto ignores."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from infra.wiring import cfn_yaml

RESOURCES = Path(__file__).resolve().parents[1] / "resources.yaml"
STACK_NAME = "otc-local"
STAGE = "local"
REGION = "us-east-1"
# Where the local API listens by default (`make run`): the base of links in e-mails.
LOCAL_API_URL = "http://127.0.0.1:8000"
# Signing secrets of the local stack's gateways: Stripe, and a generic provider "demo-pay".
DEMO_WEBHOOK_SECRETS = {
    "stripe": "whsec_local_stripe_0123456789abcdef",
    "demo-pay": "whsec_local_demo_pay_0123456789abcdef",
}
# The secret the local dashboard links are signed with (on AWS, the operator's SecureString).
DEMO_DASHBOARD_LINK_SECRET = "local_dashboard_link_secret_0123456789abcdef"  # noqa: S105


def deploy(session: boto3.session.Session, stack_name: str = STACK_NAME) -> dict[str, str]:
    """Create the stack and return its outputs (names, ARNs, queue URLs)."""
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=_template_body(RESOURCES.read_text()),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": STAGE}],
    )
    outputs = stack_outputs(session, stack_name)
    _create_lake(session, stack_name)
    _apply_ttl(session, outputs)
    _verify_sender(session, outputs)
    _announce_new_documents(session, outputs)
    _store_webhook_secrets(session, outputs)
    _store_dashboard_link_secret(session, outputs)
    return outputs


def stack_outputs(session: boto3.session.Session, stack_name: str = STACK_NAME) -> dict[str, str]:
    """The outputs of the deployed stack (names, ARNs, queue URLs)."""
    cloudformation = session.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} is {stack['StackStatus']}")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def template_digest() -> str:
    """What the deployed resources were made from: a saved world is only loaded with the same."""
    return hashlib.sha256(RESOURCES.read_bytes()).hexdigest()


@cache
def _template_body(yaml_text: str) -> str:
    """The template as JSON: moto parses that in a fraction of the time YAML takes, per deploy."""
    return json.dumps(cfn_yaml.loads(yaml_text))


def _create_lake(session: boto3.session.Session, stack_name: str) -> None:
    """moto's CloudFormation skips the lake's Glue, Firehose and Athena resources: create them
    from the template's properties through their APIs (infra/local/lake_resources.py)."""
    from infra.local import lake_resources

    template = json.loads(_template_body(RESOURCES.read_text()))
    lake_resources.create(session, template, stack_name, _parameters(template))


def _parameters(template: dict[str, Any]) -> dict[str, str]:
    defaults = {
        name: str(parameter["Default"])
        for name, parameter in template["Parameters"].items()
        if "Default" in parameter
    }
    return {**defaults, "Stage": STAGE}


def _apply_ttl(session: boto3.session.Session, outputs: dict[str, str]) -> None:
    """moto's CloudFormation does not apply TimeToLiveSpecification; set it as AWS would."""
    dynamodb = session.client("dynamodb")
    for table, attribute in (
        (outputs["TableName"], "expires_at"),
        (outputs["IdempotencyTableName"], "expiration"),
    ):
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


def _verify_sender(session: boto3.session.Session, outputs: dict[str, str]) -> None:
    """moto's CloudFormation skips AWS::SES::EmailIdentity, and SES refuses unverified senders.

    On AWS the stack creates the identity and its owner clicks SES's verification link; here the
    identity is created (and, in moto, verified at once) through SES v2 itself.
    """
    session.client("sesv2").create_email_identity(EmailIdentity=outputs["SenderEmail"])


def _announce_new_documents(session: boto3.session.Session, outputs: dict[str, str]) -> None:
    """moto's CloudFormation ignores the bucket's NotificationConfiguration; apply it as AWS would.

    With EventBridge notifications on, moto (5.2) sends "Object Created" events to the rules whose
    pattern matches, as S3 does: data-migration files reach the import-files queue locally too.
    Where moto differs from S3 (every event has the same ``id``; it offers them to rules on every
    bus, not only the default one), nothing here depends on it.
    """
    session.client("s3").put_bucket_notification_configuration(
        Bucket=outputs["DocumentsBucketName"],
        NotificationConfiguration={"EventBridgeConfiguration": {}},
    )


def _store_webhook_secrets(session: boto3.session.Session, outputs: dict[str, str]) -> None:
    """What the operator does on AWS before pointing a gateway at the API: one SecureString per
    gateway under the stack's path (the stack itself never holds a secret)."""
    ssm = session.client("ssm")
    for provider, secret in DEMO_WEBHOOK_SECRETS.items():
        ssm.put_parameter(
            Name=f"{outputs['WebhookSecretsPrefix']}/{provider}",
            Value=secret,
            Type="SecureString",
            Overwrite=True,
        )


def _store_dashboard_link_secret(session: boto3.session.Session, outputs: dict[str, str]) -> None:
    """The SecureString the operator creates on AWS before dashboard links can be minted."""
    session.client("ssm").put_parameter(
        Name=outputs["DashboardLinkSecretParameter"],
        Value=DEMO_DASHBOARD_LINK_SECRET,
        Type="SecureString",
        Overwrite=True,
    )


def environment(outputs: dict[str, str], api_url: str = LOCAL_API_URL) -> dict[str, str]:
    """The variables the Lambda functions get from the packaged template, for the same resources.

    ``api_url`` is the local API's (on AWS, the REST API's URL, given to the e-mailing workers).
    """
    return {
        "TABLE_NAME": outputs["TableName"],
        "IDEMPOTENCY_TABLE_NAME": outputs["IdempotencyTableName"],
        "EVENT_BUS_NAME": outputs["EventBusName"],
        "DOCUMENTS_BUCKET": outputs["DocumentsBucketName"],
        "SENDER_EMAIL": outputs["SenderEmail"],
        "IMPORT_ROWS_QUEUE_URL": outputs["ImportRowsQueueUrl"],
        "COLLECTION_QUEUE_URL": outputs["CollectionRemindersQueueUrl"],
        "COLLECTION_TIME_ZONE": outputs["CollectionTimeZone"],
        "PUBLIC_API_URL": api_url,
        "WEBHOOK_SECRETS_PREFIX": outputs["WebhookSecretsPrefix"],
        "STRIPE_WEBHOOK_SECRET_PARAMETER": f"{outputs['WebhookSecretsPrefix']}/stripe",
        "STRIPE_API_KEY_PARAMETER": f"{outputs['WebhookSecretsPrefix']}/stripe-api-key",
        "DASHBOARD_LINK_SECRET_PARAMETER": outputs["DashboardLinkSecretParameter"],
        "LAKE_BUCKET": outputs["LakeBucketName"],
        "LAKE_STREAM_PREFIX": outputs["LakeStreamPrefix"],
        "LAKE_ENGINE": "duckdb",  # moto has no Athena: DuckDB reads the bucket's objects
        "LAKE_WORKGROUP": outputs["LakeWorkGroupName"],
        "LAKE_DATABASE": outputs["LakeDatabaseName"],
    }


def queue_urls(session: boto3.session.Session, stack_name: str = STACK_NAME) -> dict[str, str]:
    """Logical id -> URL of every queue in the stack."""
    resources = session.client("cloudformation").list_stack_resources(StackName=stack_name)
    return {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for resource in resources["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::SQS::Queue"
    }


def apply_environment(values: dict[str, Any]) -> None:
    os.environ.update({key: str(value) for key, value in values.items()})
