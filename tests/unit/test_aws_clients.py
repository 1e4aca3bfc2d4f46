"""Every AWS client: one botocore configuration from the settings, and what counts as an outage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from shared.adapters import aws

API_GATEWAY_TIMEOUT_SECONDS = 29


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in (
        "BOTOCORE_CONNECT_TIMEOUT_SECONDS",
        "BOTOCORE_READ_TIMEOUT_SECONDS",
        "BOTOCORE_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    aws.reset()
    yield monkeypatch
    aws.reset()


def test_every_client_gets_timeouts_and_standard_retries_that_fit_api_gateway(fresh_clients):
    # When clients are made with the default settings
    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")

    # Then each has bounded timeouts and standard retries, and a call that exhausts its
    # attempts still leaves API Gateway's 29 s for the 503
    for made in (dynamodb, s3):
        config = made.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}
        worst = config.retries["total_max_attempts"] * (
            config.connect_timeout + config.read_timeout
        )
        assert worst < API_GATEWAY_TIMEOUT_SECONDS


def test_the_timeouts_and_attempts_come_from_the_environment(fresh_clients):
    # Given a deployment that sets them
    fresh_clients.setenv("BOTOCORE_CONNECT_TIMEOUT_SECONDS", "0.5")
    fresh_clients.setenv("BOTOCORE_READ_TIMEOUT_SECONDS", "3")
    fresh_clients.setenv("BOTOCORE_MAX_ATTEMPTS", "2")

    # When a client is made
    config = aws.client("dynamodb").meta.config

    # Then it carries them
    assert (config.connect_timeout, config.read_timeout) == (0.5, 3.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_the_presigning_client_shares_the_configuration(fresh_clients):
    from shared.adapters import documents

    # When the S3 client that presigns is made
    config = documents._signer(aws.session()).meta.config

    # Then it signs with SigV4 and has the same timeouts and retries
    assert config.signature_version == "s3v4"
    shared_config = aws.client("dynamodb").meta.config
    assert config.read_timeout == shared_config.read_timeout
    assert config.retries == shared_config.retries


def test_powertools_calls_aws_through_the_shared_clients(fresh_clients):
    from shared.adapters import secrets
    from shared.config import settings
    from shared.http import idempotency

    # Given a deployment's settings
    for name in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME"):
        fresh_clients.setenv(name, name.lower())
    settings.cache_clear()
    idempotency._persistence.cache_clear()

    # Then the idempotency store and the parameters provider use the configured clients
    try:
        wrapped: Any = idempotency._persistence().client  # knows its own re-sent puts
        assert wrapped._client is aws.client("dynamodb")
        assert secrets._secrets(aws.client("ssm")).provider.client is aws.client("ssm")
    finally:
        settings.cache_clear()
        idempotency._persistence.cache_clear()


def test_a_bad_setting_is_refused(fresh_clients):
    # Given a setting that is no positive number
    fresh_clients.setenv("BOTOCORE_READ_TIMEOUT_SECONDS", "0")

    # Then no client is made with it
    with pytest.raises(ValueError, match="read_timeout_seconds"):
        aws.client("dynamodb")


@pytest.mark.parametrize(
    ("code", "unavailable"),
    [
        ("ProvisionedThroughputExceededException", True),
        ("ThrottlingException", True),
        ("RequestLimitExceeded", True),
        ("SlowDown", True),
        ("InternalServerError", True),
        ("ServiceUnavailable", True),
        ("TransactionInProgressException", True),  # a same-token transaction is still running
        ("ConditionalCheckFailedException", False),
        ("AccessDeniedException", False),
        ("ValidationException", False),
    ],
)
def test_which_aws_answers_are_an_outage(code, unavailable):
    # Given an error AWS answered, wrapped as a library wraps it
    error = ClientError({"Error": {"Code": code, "Message": "..."}}, "Operation")
    try:
        try:
            raise error
        except ClientError as cause:
            raise RuntimeError("failed to save the record") from cause
    except RuntimeError as wrapped:
        # When it is classified / Then only a busy or failing AWS is an outage
        assert aws.unavailable(wrapped) is unavailable


def test_a_cancelled_transaction_is_an_outage_only_when_dynamodb_throttled_it():
    # Given transactions DynamoDB cancelled for different reasons
    def cancelled(*codes: str) -> ClientError:
        response: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        }
        return ClientError(response, "TransactWriteItems")

    # Then throttling and a conflicting transaction are outages; a failed condition is not
    assert aws.unavailable(cancelled("None", "ThrottlingError"))
    assert aws.unavailable(cancelled("TransactionConflict", "None"))
    assert not aws.unavailable(cancelled("ConditionalCheckFailed", "ThrottlingError"))


def test_timeouts_are_outages_and_other_errors_are_not():
    assert aws.unavailable(ReadTimeoutError(endpoint_url="https://dynamodb.amazonaws.com"))
    assert aws.unavailable(ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com"))
    assert not aws.unavailable(ValueError("bad input"))
