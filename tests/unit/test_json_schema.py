"""A request model's JSON Schema (openapi.yaml's request schemas) states the rules its validators
check: a field that may be left out but not sent as null, unique ids, a non-zero delta."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.domain.customer import CustomerPatch
from shared.domain.principal import PartnerPatch, PartnerRequest
from shared.domain.stock import AdjustmentRequest


def test_an_omittable_field_admits_no_null_in_schema_or_model():
    # Given a field the client may leave out but not send as null
    schema = CustomerPatch.model_json_schema()["properties"]["legal_name"]

    # Then its schema has no null branch, and the model refuses null
    assert "anyOf" not in schema and schema["type"] == "string"
    with pytest.raises(ValidationError, match="may not be null"):
        CustomerPatch.model_validate({"version": 1, "legal_name": None})
    # while a field null clears stays nullable in both
    assert {"type": "null"} in CustomerPatch.model_json_schema()["properties"]["tax_id"]["anyOf"]
    assert CustomerPatch.model_validate({"version": 1, "tax_id": None}).tax_id is None


@pytest.mark.parametrize("model", [PartnerRequest, PartnerPatch])
def test_customer_ids_are_unique_in_schema_and_model(model):
    schema = model.model_json_schema()["properties"]["customer_ids"]
    assert schema["uniqueItems"] is True and schema["type"] == "array"
    with pytest.raises(ValidationError, match="unique"):
        model.model_validate({"version": 1, "name": "Acme", "customer_ids": ["c1", "c1"]})


def test_a_stock_adjustment_moves_something_in_schema_and_model():
    assert AdjustmentRequest.model_json_schema()["properties"]["delta"]["not"] == {"const": 0}
    with pytest.raises(ValidationError, match="must not be 0"):
        AdjustmentRequest.model_validate({"delta": 0, "reason": "count"})
