"""Idempotency-Key for POSTs from outside, on Powertools' idempotency utility.

The same key with the same body replays the first answer (status and body); the same key with
another body answers 422; a second request while the first is running answers 409. Records live
longer than any client's retry window. Keys are scoped by caller, so two partners never collide.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from botocore.exceptions import ClientError

from shared import request_scope
from shared.adapters import aws
from shared.config import settings
from shared.http import problems
from shared.http.idempotency_key import HEADER, MAX_KEY_LENGTH, require_key
from shared.request_scope import made_before, request_scoped_id

# Imported from here too (from shared.request_scope and shared.http.idempotency_key).
__all__ = ["HEADER", "MAX_KEY_LENGTH", "made_before", "request_scoped_id", "require_key"]

Answer = dict[str, Any]  # {"status": int, "body": JSON value}


ATTEMPT_ATTRIBUTE = "attempt"


class _OwnPutRecognised:
    """The DynamoDB client Powertools keeps its records with, knowing its own in-progress put.

    Powertools puts the INPROGRESS record with a condition (no live record for the key). When
    the SDK re-sends that put after a timeout and the first send went through, the re-send meets
    the record it wrote itself and the request would answer 409 request-in-progress to its own
    first attempt. Each put carries an attempt id (the same in every send of it); a put refused
    by a record bearing its own attempt id is that put having succeeded.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_item(self, **request: Any) -> Any:
        attempt = {"S": uuid.uuid4().hex}
        request["Item"] = {**request["Item"], ATTEMPT_ATTRIBUTE: attempt}
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            return self._client.put_item(**request)
        except ClientError as error:
            refused = error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            found: Any = error.response.get("Item", {})
            if refused and found.get(ATTEMPT_ATTRIBUTE) == attempt:
                return {}
            raise


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    client = cast(Any, _OwnPutRecognised(aws.client("dynamodb")))
    return DynamoDBPersistenceLayer(
        table_name=settings().idempotency_table_name, boto3_client=client
    )


def _config(lambda_context: Any) -> IdempotencyConfig:
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings().idempotency_ttl_seconds,
        hash_function="sha256",
    )
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        # Lets a request that crashed mid-way be retried once the Lambda timeout has passed.
        config.register_lambda_context(lambda_context)
    return config


def once(
    operation: str,
    caller: str,
    key: str,
    raw_body: bytes,
    produce: Callable[[], Answer],
    *,
    lambda_context: Any = None,
) -> Answer:
    """Run ``produce`` once per (operation, caller, key); replay its answer afterwards."""

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=_persistence(),
        config=_config(lambda_context),
        key_prefix=operation,
    )
    def run(request: dict[str, str]) -> Answer:
        scope = request_scope.producing.set(f"{operation}#{request['key']}")
        try:
            return produce()
        finally:
            request_scope.producing.reset(scope)

    request = {"key": f"{caller}#{key}", "body": hashlib.sha256(raw_body).hexdigest()}
    try:
        answer: Answer = run(request=request)
    except IdempotencyValidationError:
        raise problems.idempotency_key_reused() from None
    except IdempotencyAlreadyInProgressError:
        raise problems.request_in_progress() from None
    return answer
