"""Every function answers through its published ``live`` alias, so SnapStart can be turned on.

SnapStart snapshots published versions only: a trigger or an API integration still pointing at
the unqualified function would keep cold-starting from scratch, so the expanded template (what
CloudFormation deploys after SAM's transform) is checked, not only the packaged one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.wiring import versions
from tests.infra.cfn import FUNCTION, of_type, target

pytestmark = pytest.mark.infra

Template = dict[str, Any]


def _expanded(packaged: Any) -> Template:
    translator = pytest.importorskip("samtranslator.translator.transform")
    template: Template = json.loads(json.dumps(packaged.template))
    for resource in template["Resources"].values():
        if resource["Type"] == FUNCTION:  # sam deploy uploads the zip and rewrites CodeUri
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"
    return translator.transform(template, {}, _NoManagedPolicies())


def test_snapstart_is_an_opt_in_parameter_every_function_reads(template: Template) -> None:
    # Given the stack's SnapStart parameter
    parameter = template["Parameters"]["SnapStart"]

    # Then it is off unless the operator turns it on, for every function alike
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "Disabled",
        ["Disabled", "Enabled"],
    )
    assert template["Conditions"][versions.CONDITION] == {
        "Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]
    }
    functions = of_type(template, FUNCTION)
    assert functions
    for function_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12", function_id  # SnapStart needs 3.12+
        assert properties["AutoPublishAlias"] == versions.ALIAS, function_id
        assert properties["AutoPublishAliasAllProperties"] is True, function_id
        assert properties["SnapStart"] == {
            "ApplyOn": {"Fn::If": [versions.CONDITION, "PublishedVersions", "None"]}
        }, function_id


def test_every_trigger_and_the_api_invoke_the_published_alias(packaged: Any) -> None:
    # When SAM expands the packaged template
    expanded = _expanded(packaged)
    resources = expanded["Resources"]
    aliases = of_type(expanded, "AWS::Lambda::Alias")
    functions = of_type(expanded, "AWS::Lambda::Function")

    # Then each function has its live alias on a published version, with SnapStart's switch
    assert {target(alias["Properties"]["FunctionName"]) for alias in aliases.values()} == set(
        functions
    )
    assert all(a["Properties"]["Name"] == versions.ALIAS for a in aliases.values())
    for function_id, function in functions.items():
        snap_start = function["Properties"]["SnapStart"]["ApplyOn"]
        assert snap_start == {"Fn::If": [versions.CONDITION, "PublishedVersions", "None"]}, (
            function_id
        )
    # and every event source mapping, schedule and the API call an alias, never $LATEST
    for mapping_id, mapping in of_type(expanded, "AWS::Lambda::EventSourceMapping").items():
        assert target(mapping["Properties"]["FunctionName"]) in aliases, mapping_id
    for schedule_id, schedule in of_type(expanded, "AWS::Scheduler::Schedule").items():
        assert target(schedule["Properties"]["Target"]["Arn"]) in aliases, schedule_id
    permission = resources[versions.API_PERMISSION]["Properties"]
    assert target(permission["FunctionName"]) in aliases
    definition = json.dumps(resources["RestAPI"]["Properties"]["Body"])
    assert "APIHandler.Arn" not in definition
    assert f'"Ref": "{target(permission["FunctionName"])}"' in definition


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}
