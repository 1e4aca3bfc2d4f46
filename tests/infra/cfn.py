"""Reading a CloudFormation/SAM template the way the infra tests need: by type, by reference."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

Template = dict[str, Any]
Resource = dict[str, Any]
Statement = dict[str, Any]

FUNCTION = "AWS::Serverless::Function"
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def of_type(template: Template, resource_type: str) -> dict[str, Resource]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def events(template: Template, event_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(function id, event properties) of every trigger of that SAM type."""
    return [
        (function_id, event["Properties"])
        for function_id, function in of_type(template, FUNCTION).items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == event_type
    ]


def target(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"{value!r} references no resource")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def identity_statements(template: Template) -> Iterator[tuple[str, Statement]]:
    """(owner, statement) of every identity policy: roles, IAM policies, SAM inline policies."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == FUNCTION:
            documents = [p for p in as_list(properties.get("Policies", [])) if isinstance(p, dict)]
        else:
            continue
        for document in documents:
            for statement in as_list(document.get("Statement", [])):
                yield logical_id, statement


def role_statements(template: Template, function_id: str) -> list[Statement]:
    role = target(template["Resources"][function_id]["Properties"]["Role"])
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def grants(statements: list[Statement], action: str, resource: Any) -> bool:
    """Whether an Allow statement names exactly this action on exactly this resource."""
    return any(
        statement["Effect"] == "Allow"
        and action in as_list(statement["Action"])
        and resource in as_list(statement["Resource"])
        for statement in statements
    )


def references(value: Any) -> set[str]:
    """Every logical id (or parameter) a value refers to, through Ref, GetAtt and Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(as_list(inner)[0].split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= set(_SUB_REFERENCE.findall(text))
                found |= references(inner[1:]) if isinstance(inner, list) else set()
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def without_sam(template: Template) -> Template:
    """The plain CloudFormation part: SAM resources gone, with whatever refers to them.

    cfn-lint relaxes some rules (IAM action names among them) on templates with the SAM
    transform; this view lets them run on our roles, queues and policies.
    """
    plain = copy.deepcopy(template)
    plain.pop("Transform", None)
    resources = plain["Resources"]
    gone = {
        key for key, value in resources.items() if value["Type"].startswith("AWS::Serverless::")
    }
    while dependents := {
        key for key, value in resources.items() if key not in gone and references(value) & gone
    }:
        gone |= dependents
    used_by_gone = set().union(*(_uses(resources[logical_id]) for logical_id in gone))
    for logical_id in gone:
        del resources[logical_id]
    plain["Outputs"] = {
        key: value
        for key, value in plain.get("Outputs", {}).items()
        if not references(value) & gone
    }
    # Parameters and conditions only SAM resources used (function settings, the API's limits)
    for section in ("Conditions", "Parameters"):
        still_used = _uses({key: plain.get(key, {}) for key in ("Resources", "Outputs", "Rules")})
        still_used |= _uses(plain.get("Conditions", {}))
        for name in list(plain.get(section, {})):
            if name in used_by_gone and name not in still_used:
                used_by_gone |= _uses(plain[section][name])  # a condition's parameters too
                del plain[section][name]
    return plain


def _uses(value: Any) -> set[str]:
    """The parameters, resources and conditions a value names (Ref, GetAtt, Sub, If, Condition)."""
    found = references(value)
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::If":
                found.add(inner[0])
            elif key in ("Condition", "Fn::Condition") and isinstance(inner, str):
                found.add(inner)
            found |= _uses(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _uses(inner)
    return found
