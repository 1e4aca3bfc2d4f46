"""Every function is invoked through a published version (the ``live`` alias), so the stack can
turn on Lambda SnapStart, which restores published versions only.

With the ``SnapStart`` parameter ``Enabled``, Lambda initializes each version once when it is
published (imports, module-level work), snapshots it, and resumes new execution environments from
the snapshot instead of importing the app again. ``Disabled`` (the default) publishes the same
versions without snapshots. SAM's ``AutoPublishAlias`` publishes a version when the code or any
property changes (``AutoPublishAliasAllProperties``: a new environment variable must reach the
alias too) and points every event source at the alias; the API's integration and its invoke
permission, which Chalice writes against the unqualified function, are pointed at it here.
See docs/deploy.md for what SnapStart costs.
"""

from __future__ import annotations

from typing import Any

from infra.wiring.merge import API_HANDLER, FUNCTION_TYPE, REST_API, Template

ALIAS = "live"
CONDITION = "SnapStartEnabled"
API_PERMISSION = f"{API_HANDLER}InvokePermission"
_UNQUALIFIED_API_HANDLER = f"${{{API_HANDLER}.Arn}}"
_ALIAS_VARIABLE = "LiveAlias"


def publish_versions(template: Template) -> None:
    """Alias every function, snapshot its versions when SnapStart is on, and invoke the API's
    function through its alias."""
    for resource in template["Resources"].values():
        if resource["Type"] == FUNCTION_TYPE:
            properties = resource["Properties"]
            properties["AutoPublishAlias"] = ALIAS
            properties["AutoPublishAliasAllProperties"] = True
            properties["SnapStart"] = {
                "ApplyOn": {"Fn::If": [CONDITION, "PublishedVersions", "None"]}
            }
    api = template["Resources"].get(REST_API)
    if api is not None:
        api["Properties"]["DefinitionBody"] = _through_alias(api["Properties"]["DefinitionBody"])
    permission: dict[str, Any] | None = template["Resources"].get(API_PERMISSION)
    if permission is not None:
        permission["Properties"]["FunctionName"] = {"Ref": f"{API_HANDLER}.Alias"}


def _through_alias(value: Any) -> Any:
    """Chalice's integration URIs (``Fn::Sub`` of ``${APIHandler.Arn}``) with the alias's ARN:
    ``Ref`` of ``APIHandler.Alias``, which SAM resolves to the alias it publishes."""
    if isinstance(value, list):
        return [_through_alias(item) for item in value]
    if not isinstance(value, dict):
        return value
    text = value.get("Fn::Sub")
    if isinstance(text, str) and _UNQUALIFIED_API_HANDLER in text:
        return {
            "Fn::Sub": [
                text.replace(_UNQUALIFIED_API_HANDLER, f"${{{_ALIAS_VARIABLE}}}"),
                {_ALIAS_VARIABLE: {"Ref": f"{API_HANDLER}.Alias"}},
            ]
        }
    return {key: _through_alias(item) for key, item in value.items()}
