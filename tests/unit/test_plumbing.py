"""Small pure pieces: ids, events, outbox keys, problems, the pump's conventions."""

import base64
import functools
import json
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from infra.local.pump import with_account
from infra.topology import OUTBOX_EVENTS_ONLY, matches, queue_logical_id
from shared import clock, ids
from shared.domain.events import DomainEvent
from shared.http import problems
from shared.http.auth import Principal, Role, hash_key, key_item
from shared.store import outbox, table


def test_ulids_sort_in_time_order_and_are_unique():
    moments = [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ]
    generated = []
    for moment in moments:
        clock.set_clock(functools.partial(lambda at: at, moment))
        generated.append(ids.ulid())
    clock.set_clock(None)
    assert generated == sorted(generated)
    assert len({ids.new_id("x") for _ in range(1000)}) == 1000
    assert all(len(value) == 26 for value in generated)


def test_iso_timestamps_sort_as_text():
    early = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    assert clock.iso(early) == "2026-01-02T03:04:05.006Z"


def test_an_event_item_carries_its_detail():
    event = DomainEvent(
        detail_type="OrderReceived", source="otc.orders", aggregate_id="ord_1", data={"a": 1}
    )
    item = outbox.event_item(event)
    assert item["pk"] == "AGG#ord_1" and item["sk"].startswith("EVENT#")
    assert json.loads(item["detail"]) == event.detail()
    assert json.loads(item["detail"])["metadata"]["event_id"] == event.event_id


def test_an_event_item_is_stored_with_its_detail_compressed_and_read_back_as_text():
    # Given an event item as commit writes it, in DynamoDB's wire form
    event = DomainEvent(
        detail_type="InvoiceIssued",
        source="otc.invoicing",
        aggregate_id="inv_1",
        data={"lines": [{"description": "Widget", "quantity": "2"}] * 40},
    )
    item = outbox.event_item(event)
    wire = table.to_dynamo(outbox.stored(item))

    # Then the detail is a binary attribute a fraction of the text's size
    assert set(wire["detail"]) == {"B"} and len(wire["detail"]["B"]) * 3 < len(item["detail"])
    # and reads back as the same text, from the SDK (bytes) or a Lambda stream event (base64)
    assert table.from_dynamo(wire) == item
    as_lambda_sends_it = {"B": base64.b64encode(wire["detail"]["B"]).decode()}
    assert table.from_dynamo({**wire, "detail": as_lambda_sends_it}) == item
    # and text stored plain (before compression) reads the same
    assert table.from_dynamo(table.to_dynamo(item)) == item


def test_a_validation_problem_lists_json_pointers():
    class Model(BaseModel):
        count: int

    try:
        Model.model_validate({"count": "x"})
    except ValidationError as error:
        problem = problems.invalid_body(error)
    body = problem.body(instance="/x")
    assert body["status"] == 422 and body["instance"] == "/x"
    assert body["errors"] == [
        {
            "pointer": "#/count",
            "detail": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]


def test_framework_errors_never_leak_internals():
    assert (
        problems.from_framework(500, {"Message": "Traceback..."}).detail
        == "an unexpected error occurred"
    )
    assert (
        problems.from_framework(415, {"Code": "UnsupportedMediaType", "Message": "nope"}).kind
        == "unsupported-media-type"
    )


def test_api_keys_are_stored_only_as_hashes():
    raw = "otc_secret_value"
    item = key_item(
        raw, Principal(principal_id="p", role=Role.PARTNER, customer_ids=frozenset({"c"}))
    )
    assert raw not in json.dumps(item)
    assert item["pk"] == f"APIKEY#{hash_key(raw)}"


def test_partners_act_only_for_their_customers_staff_for_all():
    partner = Principal(principal_id="p", role=Role.PARTNER, customer_ids=frozenset({"c1"}))
    assert partner.may_act_for("c1") and not partner.may_act_for("c2")
    assert Principal(principal_id="s", role=Role.AUDITOR).may_act_for("c2")


def test_queue_logical_ids_follow_the_template_convention():
    assert queue_logical_id("order-confirmation") == "OrderConfirmationQueue"


def test_the_pump_adds_the_account_moto_leaves_out():
    patched = json.loads(with_account(json.dumps({"detail-type": "X", "detail": {}})))
    assert patched["account"] == "123456789012"
    assert with_account("plain text") == "plain text"
    kept = json.dumps({"detail-type": "X", "account": "999"})
    assert with_account(kept) == kept


def test_the_stream_filter_lets_only_new_event_items_through():
    def record(name: str, entity: str) -> dict:
        return {"eventName": name, "dynamodb": {"NewImage": {"entity": {"S": entity}}}}

    assert matches(OUTBOX_EVENTS_ONLY, record("INSERT", "Event"))
    assert not matches(OUTBOX_EVENTS_ONLY, record("MODIFY", "Event"))
    assert not matches(OUTBOX_EVENTS_ONLY, record("INSERT", "Order"))
    assert not matches(OUTBOX_EVENTS_ONLY, {"eventName": "REMOVE", "dynamodb": {}})
