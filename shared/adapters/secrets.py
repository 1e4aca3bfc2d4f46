"""Signing secrets (webhooks, dashboard links), read from SSM Parameter Store through Powertools.

The operator creates one SecureString per gateway (the stack never holds a secret):

- Stripe's: the parameter ``STRIPE_WEBHOOK_SECRET_PARAMETER`` names (``whsec_...``, from the
  endpoint's page in Stripe's dashboard);
- a generic provider's: ``<WEBHOOK_SECRETS_PREFIX>/<provider>``. No parameter, no provider:
  ``POST /webhooks/<provider>`` then answers 404.

A parameter may hold several secrets separated by commas, to rotate without losing events:
add the new secret, switch the gateway over, then remove the old one.

Values are cached for five minutes per process (Powertools' cache), so a Lambda reads each
parameter about once per five minutes; a provider found missing is remembered for a minute,
so unauthenticated callers naming made-up providers cannot drive SSM's request rate.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from shared.adapters import aws
from shared.config import settings

STRIPE = "stripe"
MAX_AGE_SECONDS = 300
MISSING_FOR_SECONDS = 60


class UnknownProviderError(LookupError):
    """No signing secret is configured for this provider."""


class SecretsNotConfiguredError(RuntimeError):
    """The deployment does not say where the secrets are (an environment variable is unset)."""


class _Secrets:
    """Powertools' SSM provider on this process's SSM client, and the names found missing."""

    def __init__(self, client: Any) -> None:
        self.provider = SSMProvider(boto3_client=client)
        self.missing: dict[str, float] = {}


@cache
def _secrets(client: Any) -> _Secrets:
    """Keyed by client: ``aws.reset`` (a new moto world in tests) renews the cache too."""
    return _Secrets(client)


def parameter_name(provider: str) -> str:
    """The SSM parameter that holds ``provider``'s signing secret(s)."""
    configured = settings()
    if provider == STRIPE and configured.stripe_webhook_secret_parameter:
        return configured.stripe_webhook_secret_parameter
    if not configured.webhook_secrets_prefix:
        raise SecretsNotConfiguredError("WEBHOOK_SECRETS_PREFIX is not set")
    return f"{configured.webhook_secrets_prefix.rstrip('/')}/{provider}"


def webhook_secrets(provider: str) -> tuple[str, ...]:
    """The secrets ``provider`` may sign with (raises ``UnknownProviderError`` if none)."""
    name = parameter_name(provider)
    holder = _secrets(aws.client("ssm"))
    if holder.missing.get(name, 0.0) > time.monotonic():
        raise UnknownProviderError(provider)
    try:
        value = holder.provider.get(name, decrypt=True, max_age=MAX_AGE_SECONDS)
    except GetParameterError as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ClientError) and (
            cause.response["Error"]["Code"] == "ParameterNotFound"
        ):
            holder.missing[name] = time.monotonic() + MISSING_FOR_SECONDS
            raise UnknownProviderError(provider) from None
        raise
    found = tuple(part.strip() for part in str(value or "").split(",") if part.strip())
    if not found:
        raise UnknownProviderError(provider)
    return found


def dashboard_link_secrets() -> tuple[str, ...]:
    """The secrets dashboard links are signed with: the first signs, any verifies.

    One SecureString (``DASHBOARD_LINK_SECRET_PARAMETER``), comma-separated to rotate like the
    webhook secrets; cached per process for five minutes. Raises ``SecretsNotConfiguredError``
    when the deployment names no parameter, or the parameter is missing or empty.
    """
    name = settings().dashboard_link_secret_parameter
    value = _secure_string(name, "DASHBOARD_LINK_SECRET_PARAMETER")
    found = tuple(part.strip() for part in value.split(",") if part.strip())
    if not found:
        raise SecretsNotConfiguredError(f"the parameter {name} holds no secret")
    return found


def stripe_api_key() -> str:
    """Stripe's secret API key (``sk_...``), for requests to Stripe (refunds).

    One SecureString (``STRIPE_API_KEY_PARAMETER``), cached per process for five minutes.
    Raises ``SecretsNotConfiguredError`` when the deployment names no parameter, or the
    parameter is missing or empty.
    """
    name = settings().stripe_api_key_parameter
    key = _secure_string(name, "STRIPE_API_KEY_PARAMETER").strip()
    if not key:
        raise SecretsNotConfiguredError(f"the parameter {name} holds no key")
    return key


def _secure_string(name: str, variable: str) -> str:
    """The SecureString ``name`` (cached five minutes); SecretsNotConfiguredError when the
    deployment names none (``variable`` unset) or it does not exist."""
    if not name:
        raise SecretsNotConfiguredError(f"{variable} is not set")
    holder = _secrets(aws.client("ssm"))
    try:
        value = holder.provider.get(name, decrypt=True, max_age=MAX_AGE_SECONDS)
    except GetParameterError as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ClientError) and (
            cause.response["Error"]["Code"] == "ParameterNotFound"
        ):
            raise SecretsNotConfiguredError(f"no parameter {name}") from None
        raise
    return str(value or "")
