"""API Gateway API keys that mirror the app's own keys, so a usage plan limits each caller.

The app authenticates X-Api-Key itself (only a hash of each secret is stored). API Gateway's usage
plans bind only requests whose key API Gateway knows, so every key the app issues is also
imported into API Gateway with the same value, named ``otc-<key id>``, and added to its role's
usage plan. The plan is found by its name (``PARTNER_USAGE_PLAN_NAME``,
``STAFF_USAGE_PLAN_NAME``): the API's function cannot take the plan's id from the template, as
the plan depends on the API's stage, which depends on that function. Without those variables (the
local stack has no API Gateway) nothing is mirrored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from shared.adapters import aws
from shared.http.auth import Role

PREFIX = "otc-"
PLAN_NAME_VARIABLES = {Role.PARTNER: "PARTNER_USAGE_PLAN_NAME"}
STAFF_PLAN_NAME_VARIABLE = "STAFF_USAGE_PLAN_NAME"


class UsagePlanMissingError(LookupError):
    """The configured usage plan does not exist (the stack and the code disagree)."""


def plan_name(role: Role) -> str | None:
    """The usage plan a key of ``role`` belongs to (None: keys are not mirrored here)."""
    variable = PLAN_NAME_VARIABLES.get(role, STAFF_PLAN_NAME_VARIABLE)
    return os.environ.get(variable) or None


def name(key_id: str) -> str:
    return PREFIX + key_id


def mirror(key_id: str, secret: str, plan: str) -> str:
    """The key's one API Gateway key, holding ``secret``, in the usage plan ``plan``: its id.

    Any gateway key named for the key before (an older secret, an attempt that died) goes first,
    so a retry converges on exactly one."""
    remove(key_id)
    created = _client().create_api_key(
        name=name(key_id),
        value=secret,
        enabled=True,
        description="Mirrors the otc API key of the same id (usage plan limits)",
    )
    _client().create_usage_plan_key(
        usagePlanId=_plan_id(plan), keyId=created["id"], keyType="API_KEY"
    )
    return str(created["id"])


def remove(key_id: str) -> None:
    """Delete every API Gateway key named for the key (none: nothing to do)."""
    for found in _named(key_id):
        delete(found["id"])


def delete(gateway_key_id: str) -> None:
    try:
        _client().delete_api_key(apiKey=gateway_key_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise


def _named(key_id: str) -> Iterator[dict[str, Any]]:
    wanted = name(key_id)
    pages = _client().get_paginator("get_api_keys").paginate(nameQuery=wanted)
    for page in pages:
        yield from (item for item in page.get("items", []) if item.get("name") == wanted)


def _plan_id(plan: str) -> str:
    for page in _client().get_paginator("get_usage_plans").paginate():
        for found in page.get("items", []):
            if found.get("name") == plan:
                return str(found["id"])
    raise UsagePlanMissingError(plan)


def _client() -> Any:
    return aws.client("apigateway")
