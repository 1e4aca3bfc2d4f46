"""The openapi.yaml generator derives what the code declares and refuses an overlay that
disagrees with it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.domain.access import Action
from shared.http.routing import PUBLIC, Requirement
from tools.openapi import access, build
from tools.openapi.render import render

OVERLAY = build.read(build.OVERLAY)


def _with(change: Any) -> dict[str, Any]:
    overlay = copy.deepcopy(OVERLAY)
    change(overlay)
    return overlay


def test_a_route_without_an_authored_operation_stops_the_generator():
    overlay = _with(lambda o: o["paths"]["/orders"].pop("post"))
    with pytest.raises(build.OverlayError, match="without an operation"):
        build.document(overlay)


def test_an_authored_operation_without_a_route_stops_the_generator():
    overlay = _with(lambda o: o["paths"]["/orders"].update(put=o["paths"]["/orders"]["post"]))
    with pytest.raises(build.OverlayError, match="without a route"):
        build.document(overlay)


def test_a_plain_refusal_the_route_declares_is_not_written_twice():
    def add_403(overlay: dict[str, Any]) -> None:
        overlay["paths"]["/orders"]["post"]["responses"]["403"] = access.PROBLEM

    with pytest.raises(build.OverlayError, match="follows from requires"):
        build.document(_with(add_403))


def test_an_open_route_documents_no_401():
    def add_401(overlay: dict[str, Any]) -> None:
        overlay["paths"]["/health"]["get"]["responses"]["401"] = access.PROBLEM

    with pytest.raises(build.OverlayError, match="admits anyone"):
        build.document(_with(add_401))


def test_security_and_refusals_follow_from_requires():
    link = Requirement("link", lambda _request: None, api_key="none")
    either = Requirement("link-or-key", lambda _request: None, api_key="optional")

    assert (access.security(PUBLIC), access.refusals(PUBLIC)) == ([], {})
    assert access.security(Action.PLACE_ORDERS) is None  # the document's API key
    assert set(access.refusals(Action.PLACE_ORDERS)) == {"401", "403"}
    assert set(access.refusals(Action.READ)) == {"401"}  # every role may read
    assert (access.security(link), set(access.refusals(link))) == ([], {"401", "403"})
    assert access.security(either) == [{"apiKey": []}, {}]


def test_a_schema_named_after_a_model_is_generated_from_it():
    document = build.document(OVERLAY)
    schema = document["components"]["schemas"]["WriteOffReversalRequest"]
    assert schema["required"] == ["reason"]
    assert "title" not in schema and "x-model" not in schema


def test_the_rendered_text_reads_back_as_the_document():
    document = build.document(OVERLAY)
    assert build.yaml.safe_load(render(document)) == document


def test_a_model_schema_takes_prose_from_the_overlay_but_never_rules():
    # Given a schema generated from its model, with a field's description authored
    document = build.document(OVERLAY)
    label = document["components"]["schemas"]["KeyRequest"]["properties"]["label"]
    assert label["description"] == "to tell keys apart"
    assert {"type": "string", "maxLength": 120, "minLength": 1} in label["anyOf"]

    # When the overlay would also state a rule for the model's schema
    def bound(overlay: dict[str, Any]) -> None:
        overlay["components"]["schemas"]["KeyRequest"]["properties"]["label"]["maxLength"] = 9

    # Then the generator refuses it: the bounds are the model's
    with pytest.raises(ValueError, match="not prose"):
        build.document(_with(bound))


def test_no_prose_is_cut_at_a_comma_into_a_key_without_a_value():
    # Given every key of the overlay whose value is empty
    def phrases(node: Any) -> list[str]:
        if isinstance(node, dict):
            here = [k for k, v in node.items() if v is None and " " in str(k)]
            return here + [p for v in node.values() for p in phrases(v)]
        return [p for v in node for p in phrases(v)] if isinstance(node, list) else []

    # Then none is the tail of a description an unquoted comma split in a flow mapping
    assert phrases(OVERLAY) == []


def test_a_schema_a_model_refers_to_may_be_written_with_prose_but_not_other_rules():
    # Given Supply, which ItemRequest's model refers to, written in the overlay with its prose
    document = build.document(OVERLAY)
    assert document["components"]["schemas"]["Supply"]["description"].startswith("What the item")

    # When the overlay's Supply would admit another value than the model's enum
    def widen(overlay: dict[str, Any]) -> None:
        overlay["components"]["schemas"]["Supply"]["enum"].append("rights")

    # Then the generator refuses it
    with pytest.raises(build.OverlayError, match="not what the model"):
        build.document(_with(widen))
