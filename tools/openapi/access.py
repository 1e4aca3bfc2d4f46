"""What a route's ``requires=`` says in openapi.yaml: its ``security`` and its 401/403 answers."""

from __future__ import annotations

from typing import Any

from shared.domain.access import PERMISSIONS, Action
from shared.http.routing import AUTHENTICATED, PUBLIC, Requires

PROBLEM = {"$ref": "#/components/responses/Problem"}
SECURITY: dict[str, list[dict[str, list[str]]] | None] = {
    "required": None,  # the document's own: an API key
    "optional": [{"apiKey": []}, {}],
    "none": [],
}


def security(requires: Requires) -> list[dict[str, list[str]]] | None:
    """The operation's ``security``, or None where the document's (an API key) applies."""
    api_key = "required" if isinstance(requires, Action) else requires.api_key
    return SECURITY[api_key]


def refusals(requires: Requires) -> dict[str, Any]:
    """The 401 and 403 the route's admission may answer before its handler runs."""
    if requires is PUBLIC:
        return {}
    if isinstance(requires, Action):
        refuses = any(requires not in allowed for allowed in PERMISSIONS.values())
    else:
        refuses = requires is not AUTHENTICATED
    return {"401": PROBLEM, "403": PROBLEM} if refuses else {"401": PROBLEM}
