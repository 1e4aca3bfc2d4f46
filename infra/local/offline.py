"""An AWS world in this process: moto's mocks, fake credentials, the stack, the demo data.

Tests and benchmarks build the same world the same way; the process-wide caches (clients,
settings, the idempotency store) are reset around it so nothing leaks from one world to the next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3

from infra.local import stack
from infra.local.seed import seed

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": stack.REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # DynamoDB Streams under botocore >= 1.44
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "WEBHOOK_ALLOW_LOOPBACK": "1",  # partner webhooks to a receiver on 127.0.0.1
}
UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE")

PARTNER_KEY = "otc_test_partner_key_0123456789abcdef"
ADMIN_KEY = "otc_test_admin_key_0123456789abcdef"


def use_offline_environment() -> None:
    os.environ.update(ENVIRONMENT)
    for name in UNSET:
        os.environ.pop(name, None)


def reset_process_state() -> None:
    """Forget cached clients and settings (a new moto world, or a new environment, follows)."""
    from shared.adapters import aws
    from shared.config import chart_of_accounts, seller, settings
    from shared.http import idempotency

    aws.reset()
    settings.cache_clear()
    seller.cache_clear()
    chart_of_accounts.cache_clear()
    idempotency._persistence.cache_clear()


@dataclass(frozen=True)
class Deployment:
    outputs: dict[str, str]
    queues: dict[str, str]


def deploy_and_seed(session: boto3.session.Session) -> Deployment:
    """Deploy infra/resources.yaml, point the app's environment at it, and seed the demo data.

    Call inside ``mock_aws()``; the variables it sets stay until the caller restores them.
    """
    outputs = stack.deploy(session)
    stack.apply_environment(stack.environment(outputs))
    reset_process_state()
    seed(PARTNER_KEY, ADMIN_KEY)
    return Deployment(outputs=outputs, queues=stack.queue_urls(session))
