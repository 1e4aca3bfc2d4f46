"""The merge refuses what it cannot wire, instead of shipping a template that fails on AWS."""

from __future__ import annotations

import copy

import pytest

from app import TABLE_STREAM
from infra.package import RESOURCES
from infra.wiring import cfn_yaml, iam, merge
from tests.infra.conftest import Packaged

pytestmark = pytest.mark.infra


def test_short_tags_become_long_forms_and_aliases_independent_copies() -> None:
    # Given CloudFormation YAML with short tags and an alias
    text = """
    A: &shared {Arn: !GetAtt Queue.Arn}
    B: *shared
    C: !Sub ["${X}-y", {X: !Ref Stage}]
    D: !If [IsProd, !Select [0, !Split [",", "a,b"]], !Ref AWS::NoValue]
    """

    # When it is loaded
    loaded = cfn_yaml.loads(text)
    loaded["A"]["Arn"] = "changed"

    # Then every tag has its JSON long form, and the alias did not follow the change
    assert loaded["B"] == {"Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}
    assert loaded["C"] == {"Fn::Sub": ["${X}-y", {"X": {"Ref": "Stage"}}]}
    assert loaded["D"] == {
        "Fn::If": [
            "IsProd",
            {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_a_queue_missing_from_resources_yaml_fails_packaging(packaged: Packaged) -> None:
    # Given app.py consuming a queue resources.yaml does not declare
    chalice = copy.deepcopy(packaged.chalice_template)
    sqs = chalice["Resources"]["ConfirmOrders"]["Properties"]["Events"]
    [event] = sqs.values()
    event["Properties"]["Queue"] = {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:invoice-rendering"
    }

    # When the merge runs, then it names the queue it cannot find
    with pytest.raises(merge.WiringError, match="InvoiceRenderingQueue"):
        merge.merge(chalice, cfn_yaml.load(RESOURCES), stream_placeholder=TABLE_STREAM)


def test_a_function_without_permissions_fails_packaging(packaged: Packaged) -> None:
    # Given the permission map without the event recovery's entry
    permissions = iam.load_permissions()
    del permissions["RecoverEvents"]
    template = merge.merge(
        packaged.chalice_template, cfn_yaml.load(RESOURCES), stream_placeholder=TABLE_STREAM
    )

    # When roles are attached, then the function without an entry is named
    with pytest.raises(merge.WiringError, match="RecoverEvents"):
        iam.attach_roles(template, permissions)


def test_a_trigger_type_without_wiring_fails_packaging(packaged: Packaged) -> None:
    # Given a trigger kind the merge has no wiring (and so no permissions) for
    chalice = copy.deepcopy(packaged.chalice_template)
    chalice["Resources"]["RunReports"]["Properties"]["Events"] = {
        "Uploads": {"Type": "S3", "Properties": {"Bucket": {"Ref": "DocumentsBucket"}}}
    }

    # When the merge runs, then it refuses rather than deploy an unwired trigger
    with pytest.raises(merge.WiringError, match="S3"):
        merge.merge(chalice, cfn_yaml.load(RESOURCES), stream_placeholder=TABLE_STREAM)


def test_a_rule_trigger_listens_on_our_bus_not_the_default_one(packaged: Packaged) -> None:
    # Given a handler Chalice wires as a rule on the default bus (@app.on_cw_event)
    chalice = copy.deepcopy(packaged.chalice_template)
    rule = {"Type": "CloudWatchEvent", "Properties": {"Pattern": {"source": ["otc.orders"]}}}
    chalice["Resources"]["RunReports"]["Properties"]["Events"] = {"OnOrders": rule}

    # When the merge runs
    template = merge.merge(chalice, cfn_yaml.load(RESOURCES), stream_placeholder=TABLE_STREAM)

    # Then the rule is on our bus, its pattern untouched
    wired = template["Resources"]["RunReports"]["Properties"]["Events"]["OnOrders"]
    assert wired["Properties"] == {
        "Pattern": {"source": ["otc.orders"]},
        "EventBusName": {"Fn::GetAtt": ["EventBus", "Name"]},
    }


def test_the_api_handler_cannot_be_given_the_apis_url(
    packaged: Packaged, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API's own handler among the functions that link to the API
    monkeypatch.setattr(merge, "LINKS_TO_API", frozenset({"APIHandler"}))

    # When the merge runs, then it refuses the RestAPI -> APIHandler -> RestAPI cycle
    with pytest.raises(merge.WiringError, match="cycle"):
        merge.merge(
            packaged.chalice_template, cfn_yaml.load(RESOURCES), stream_placeholder=TABLE_STREAM
        )
