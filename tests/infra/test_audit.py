"""The audit trail's wiring: whoever writes events may read and move their chain heads.

``outbox.commit`` reads the chain heads of the events' aggregates (BatchGetItem) and puts the
moved heads in its transaction (PutItem); the API lists heads on gsi2 to verify every chain.
moto enforces no IAM, so the grants are checked on the packaged template.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import grants, role_statements

pytestmark = pytest.mark.infra

Template = dict[str, Any]
TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
GSI2 = {"Fn::Sub": "${Table.Arn}/index/gsi2"}

# Every function whose code commits events through the outbox.
EVENT_WRITERS = (
    "APIHandler",
    "ConfirmOrders",
    "AllocateBackorders",
    "IssueInvoices",
    "StartImports",
    "ImportRows",
    "RecordGatewayEvents",
    "ImportBankStatements",
    "ApplyCash",
    "RemindCustomers",
    "ApplyCredits",
)


def test_every_function_that_writes_events_may_read_and_move_their_chain_heads(
    template: Template,
) -> None:
    for function_id in EVENT_WRITERS:
        # Given
        statements = role_statements(template, function_id)

        # Then
        assert grants(statements, "dynamodb:BatchGetItem", TABLE), function_id
        assert grants(statements, "dynamodb:PutItem", TABLE), function_id


def test_the_api_may_read_the_trail_and_list_every_chain_head(template: Template) -> None:
    # Given
    statements = role_statements(template, "APIHandler")

    # Then an entity's events (Query of its partition), its head, and the heads on gsi2
    assert grants(statements, "dynamodb:Query", TABLE)
    assert grants(statements, "dynamodb:GetItem", TABLE)
    assert grants(statements, "dynamodb:Query", GSI2)
