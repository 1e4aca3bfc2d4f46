"""Read CloudFormation YAML (``!Ref``, ``!GetAtt``, ``!Sub`` ...) into its JSON long form.

PyYAML refuses CloudFormation's short tags, and the packaged template must be JSON anyway: a
YAML template with anchors and aliases is rejected by CloudFormation, JSON has neither.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

# Short tags that are not spelled "Fn::<Tag>" in the long form.
_SPECIAL = {"Ref": "Ref", "Condition": "Condition"}
_FUNCTIONS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "ToJsonString",
    "Length",
)


class CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that also understands CloudFormation's short-form intrinsic functions."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unknown node {node!r}", node.start_mark)


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _node_value(loader, node)}

    return construct


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    """``!GetAtt Table.StreamArn`` -> ``{"Fn::GetAtt": ["Table", "StreamArn"]}``."""
    value = _node_value(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _tag, _key in _SPECIAL.items():
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(_key))
for _tag in _FUNCTIONS:
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))
CloudFormationLoader.add_constructor("!GetAtt", _get_att)


def loads(text: str) -> Any:
    """Parse CloudFormation YAML into plain JSON values.

    The JSON round trip turns every alias into an independent copy (patching one place must not
    change another) and any YAML-only scalar (a date) into the string CloudFormation would see.
    """
    parsed = yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    return json.loads(json.dumps(parsed, default=str))


def load(path: Path) -> Any:
    return loads(path.read_text())
