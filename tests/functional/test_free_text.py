"""Free text over the API: every text field of every request body refuses what would break a
document (control characters, lone surrogates, non-characters), is trimmed and has a length limit;
names in any script are taken and come back as sent."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from chalice.test import Client
from lxml import etree

from tests.functional import fake_resolver
from tests.functional.accounts import PROBLEM, Answer, call, customer_body
from tests.functional.cash import issued_invoice
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, order_body, post_order
from tests.functional.invoicing import placed

Setup = Callable[[Client, World], dict[str, str]]
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}

_ITEM = {"name": "Widget", "unit": "C62", "tax_category": "standard"}

SHIP_TO = {
    "name": "Goods In",
    "line1": "Dock 4",
    "line2": "Gate B",
    "city": "Rotterdam",
    "postal_code": "3011 AA",
    "region": "Zuid-Holland",
    "country": "NL",
}


def _nothing(client: Client, world: World) -> dict[str, str]:
    return {}


def _an_order(client: Client, world: World) -> dict[str, str]:
    answer = post_order(client, order_body())
    assert answer.status_code == 201, answer.body
    return {"order_id": json.loads(answer.body)["id"]}


def _a_confirmed_order(client: Client, world: World) -> dict[str, str]:
    return {"order_id": placed(client, world)["id"]}


def _an_uncounted_item(client: Client, world: World) -> dict[str, str]:
    answer = call(client, "PUT", "/catalog/items/WIDGET-9", body=_ITEM)
    assert answer.status == 201, answer.body
    return {}


def _an_invoice(client: Client, world: World) -> dict[str, str]:
    return {"invoice_id": issued_invoice(client, world).invoice_id}


@dataclass(frozen=True)
class TextField:
    """One text field of one request: where it is sent, a body the API takes, the field in it."""

    method: str
    path: str
    body: dict[str, Any]
    pointer: str  # a JSON pointer into ``body``
    max_length: int
    accepted: int  # the status the body as given answers (404 where the path names nothing)
    required: bool = True  # False: blank means none, so a blank value is not refused
    multi_line: bool = False
    key: str = ADMIN_KEY
    setup: Setup = field(default=_nothing)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.pointer}"


_PAYMENT = {
    "amount": "10.00",
    "currency": "EUR",
    "method": "cheque",
    "received_on": date.today().isoformat(),
    "payer_name": "Acme Corp",
    "payer_account": "DE89370400440532013000",
    "reference": "CHQ-100200",
    "remittance": "INV-2026-000001",
    "customer_id": "cus_acme",
}
_ORDER = order_body(purchase_order="PO-4711", ship_to=SHIP_TO)
_AMENDMENT = {"version": 1, "purchase_order": "PO-4712", "ship_to": SHIP_TO}
_SHIPMENT = {
    "carrier": "DHL",
    "tracking_number": "JD0001",
    "lines": [{"line_no": 1, "quantity": 1}],
}

FIELDS = [
    *(
        TextField("POST", "/customers", customer_body(), pointer, limit, 201)
        for pointer, limit in [("/legal_name", 200), ("/billing_address/line1", 120)]
    ),
    *(
        TextField(
            "POST",
            "/customers",
            customer_body(billing_address={k: v for k, v in SHIP_TO.items() if k != "name"}),
            pointer,
            limit,
            201,
        )
        for pointer, limit in [
            ("/billing_address/line2", 120),
            ("/billing_address/city", 120),
            ("/billing_address/postal_code", 20),
            ("/billing_address/region", 120),
        ]
    ),
    TextField(
        "PATCH", "/customers/cus_acme", {"version": 1, "legal_name": "A"}, "/legal_name", 200, 200
    ),
    *(
        TextField("POST", "/orders", _ORDER, pointer, limit, 201, key=PARTNER_KEY)
        for pointer, limit in [
            ("/customer_id", 120),
            ("/purchase_order", 120),
            ("/lines/0/sku", 120),
            ("/ship_to/name", 120),
            ("/ship_to/line1", 120),
            ("/ship_to/line2", 120),
            ("/ship_to/city", 120),
            ("/ship_to/postal_code", 20),
            ("/ship_to/region", 120),
        ]
    ),
    *(
        TextField(
            "PATCH",
            "/orders/{order_id}",
            _AMENDMENT,
            pointer,
            120,
            200,
            key=PARTNER_KEY,
            setup=_an_order,
        )
        for pointer in ["/purchase_order", "/ship_to/line1"]
    ),
    TextField(
        "POST",
        "/orders/{order_id}/cancel",
        {"reason": "ordered twice"},
        "/reason",
        500,
        200,
        required=False,
        multi_line=True,
        key=PARTNER_KEY,
        setup=_an_order,
    ),
    TextField(
        "POST",
        "/orders/{order_id}/reject",
        {"reason": "over the limit"},
        "/reason",
        500,
        409,  # the order is not held
        required=False,
        multi_line=True,
        setup=_an_order,
    ),
    *(
        TextField(
            "POST",
            "/orders/{order_id}/shipments",
            _SHIPMENT,
            pointer,
            120,
            201,
            setup=_a_confirmed_order,
        )
        for pointer in ["/carrier", "/tracking_number"]
    ),
    TextField(
        "POST",
        "/invoices/{invoice_id}/credit-notes",
        {"reason": "damaged in transit"},
        "/reason",
        500,
        201,
        multi_line=True,
        setup=_an_invoice,
    ),
    TextField(
        "POST", "/partners", {"name": "ERP", "customer_ids": ["cus_acme"]}, "/name", 120, 201
    ),
    TextField("PATCH", "/partners/prt_demo", {"version": 1, "name": "ERP"}, "/name", 120, 200),
    TextField("POST", "/staff", {"name": "Clerk", "role": "ar_clerk"}, "/name", 120, 201),
    TextField("POST", "/principals/prt_demo/keys", {"label": "ERP prod"}, "/label", 120, 201),
    TextField("PUT", "/catalog/items/WIDGET-9", _ITEM, "/name", 200, 201),
    TextField(
        "PUT",
        "/catalog/items/WIDGET-1/prices/EUR",
        {"unit_price": "18.00", "customer_id": "cus_acme"},
        "/customer_id",
        120,
        201,
    ),
    TextField(
        "PUT",
        "/stock/WIDGET-9",
        {"on_hand": 5, "version": 0, "reason": "count"},
        "/reason",
        200,
        201,
        setup=_an_uncounted_item,
    ),
    TextField(
        "POST",
        "/stock/WIDGET-1/adjustments",
        {"delta": 1, "reason": "receipt"},
        "/reason",
        200,
        200,
    ),
    TextField(
        "PUT",
        "/partners/prt_demo/webhook",
        {"url": "https://hooks.example.com/otc"},
        "/url",
        2048,
        200,
    ),
    TextField("POST", "/payments", _PAYMENT, "/payer_name", 140, 201),
    TextField("POST", "/payments", _PAYMENT, "/payer_account", 64, 201, required=False),
    TextField(
        "POST", "/payments", _PAYMENT, "/remittance", 500, 201, required=False, multi_line=True
    ),
    TextField(
        "POST",
        "/payments/pay_unknown/allocations/alc_unknown/reversal",
        {"reason": "applied to the wrong invoice"},
        "/reason",
        500,
        404,  # the body is read first: a bad one is refused whatever the path names
        multi_line=True,
    ),
]


def _hostile(text_field: TextField) -> dict[str, str]:
    values = {
        "NUL": "Acme\x00Ltd",
        "BEL": "Acme\x07Ltd",
        "NEL (C1)": "Acme\x85Ltd",
        "U+FFFE": "Acme\ufffeLtd",
        "lone surrogate": "Acme\ud800Ltd",  # json.dumps sends it as the escape \ud800
        "over-long": "x" * (text_field.max_length + 1),
    }
    if text_field.required:
        values["whitespace only"] = " \u3000 " if not text_field.multi_line else " \n\t "
    if not text_field.multi_line:
        values["tab"] = "Acme\tLtd"
        values["newline"] = "Acme\nLtd"
    return values


def _with(body: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    *parents, last = pointer.strip("/").split("/")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def _send(client: Client, text_field: TextField, path: str, body: dict[str, Any]) -> Answer:
    return call(client, text_field.method, path, key=text_field.key, body=json.dumps(body))


def _objects(world: World) -> list[str]:
    listed = world.session.client("s3").list_objects_v2(Bucket=world.outputs["DocumentsBucketName"])
    return sorted(item["Key"] for item in listed.get("Contents", []))


@pytest.mark.parametrize("text_field", FIELDS, ids=[f.id for f in FIELDS])
def test_hostile_text_in_any_field_is_refused_at_its_pointer_and_writes_nothing(
    world, client, text_field, monkeypatch
):
    fake_resolver.install(monkeypatch, "hooks.example.com")  # webhook URLs resolve, publicly
    # Given the resource the request is about, and what is stored so far
    path = text_field.path.format(**text_field.setup(client, world))
    written, objects = world.written(), _objects(world)

    for name, value in _hostile(text_field).items():
        # When the field holds a control character, a surrogate, a non-character, too much text
        answer = _send(client, text_field, path, _with(text_field.body, text_field.pointer, value))

        # Then it is a 422 problem naming exactly that field, and nothing was written
        assert answer.status == 422, (name, answer.body)
        assert answer.headers["Content-Type"] == PROBLEM
        assert answer.body["type"].endswith("/validation-error"), answer.body
        assert answer.body["status"] == 422 and answer.body["detail"]
        pointers = [error["pointer"] for error in answer.body["errors"]]
        assert pointers == [f"#{text_field.pointer}"], (name, answer.body)
        assert world.written() == written, name
        assert _objects(world) == objects, name

    # And the body as given, without the hostile value, is not refused as invalid
    assert _send(client, text_field, path, text_field.body).status == text_field.accepted


# --- what is stored -----------------------------------------------------------------------------


def test_leading_and_trailing_whitespace_is_trimmed_in_what_is_stored(world, client):
    # Given a new account whose name and address lines are padded with spaces and a no-break space
    body = customer_body(legal_name="  Initech SARL\u00a0 ")
    body["billing_address"]["line1"] = "\u3000 12 rue de la Paix  "

    # When it is opened
    answer = call(client, "POST", "/customers", body=body)

    # Then what is answered and what is stored are the trimmed text
    assert answer.status == 201, answer.body
    assert answer.body["legal_name"] == "Initech SARL"
    stored = call(client, "GET", f"/customers/{answer.body['id']}").body
    assert stored["legal_name"] == "Initech SARL"
    assert stored["billing_address"]["line1"] == "12 rue de la Paix"


@pytest.mark.parametrize(
    "name",
    ["Ромашка и партнёры", "شركة المثال للتجارة", "株式会社サンプル商事", "Müller & Söhne <GmbH>"],
)
def test_a_name_in_any_script_is_accepted_and_comes_back_as_sent(world, client, name):
    # Given a customer named in Cyrillic, Arabic, CJK, or with markup characters
    # When the account is opened and read back
    answer = call(client, "POST", "/customers", body=customer_body(legal_name=name))
    assert answer.status == 201, answer.body
    stored = call(client, "GET", f"/customers/{answer.body['id']}").body

    # Then the name is exactly what was sent
    assert answer.body["legal_name"] == stored["legal_name"] == name


def test_a_single_line_name_refuses_a_tab_or_newline_and_a_multi_line_reason_keeps_newlines(
    world, client
):
    # Given a confirmed order, and what is stored
    order_id = _a_confirmed_order(client, world)["order_id"]
    written = world.written()

    # When a partner is named with a newline, and the order is cancelled with a two-line reason
    named = call(client, "POST", "/partners", body={"name": "ERP\nprod", "customer_ids": []})
    assert world.written() == written
    cancelled = call(
        client,
        "POST",
        f"/orders/{order_id}/cancel",
        key=PARTNER_KEY,
        body={"reason": "ordered twice\r\nsee ticket 42"},
    )

    # Then the name is refused at its pointer, and the reason is kept with a newline
    assert named.status == 422 and [e["pointer"] for e in named.body["errors"]] == ["#/name"]
    assert cancelled.status == 200, cancelled.body
    [event] = [
        json.loads(item["detail"])
        for item in world.written()
        if item.get("entity") == "Event" and item["detail_type"] == "OrderCancelled"
    ]
    assert event["data"]["reason"] == "ordered twice\nsee ticket 42"


# --- text stored before the rules -----------------------------------------------------------------


def test_control_characters_stored_before_the_rules_cannot_break_the_documents(world, client):
    # Given an account and a confirmed order whose stored text holds a NUL, a BEL and a newline
    # (as written before free text refused them)
    from shared.store import customers, orders, table

    acme = customers.get("cus_acme")
    assert acme is not None and acme.billing_address is not None
    address = acme.billing_address.model_copy(update={"city": "Ber\x07lin", "line1": "Main\n1"})
    legacy = acme.model_copy(
        update={"legal_name": "ACME\x00 Industrial", "billing_address": address}
    )
    table.transact([table.Put(customers.to_item(legacy))])
    order = orders.get(placed(client, world)["id"])
    assert order is not None
    table.transact(
        [table.Put(orders.to_item(order.model_copy(update={"purchase_order": "PO\x00-9"})))]
    )

    # When the account is read, and the order is shipped and invoiced
    read = call(client, "GET", "/customers/cus_acme")
    answer = call(
        client,
        "POST",
        f"/orders/{order.order_id}/shipments",
        body={
            "carrier": "DHL",
            "tracking_number": "JD0002",
            "lines": [{"line_no": 1, "quantity": 3}, {"line_no": 2, "quantity": 1}],
        },
    )
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then the account reads as stored, and the UBL in the bucket is well-formed, text replaced
    assert read.status == 200 and read.body["legal_name"] == "ACME\x00 Industrial"
    s3 = world.session.client("s3")
    bucket = world.outputs["DocumentsBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="invoices/cus_acme/")
    [key] = [item["Key"] for item in listed["Contents"] if item["Key"].endswith(".xml")]
    ubl = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    SafeET.fromstring(ubl)
    root = etree.fromstring(ubl)
    texts = root.xpath("//cbc:RegistrationName/text() | //cbc:ID/text()", namespaces=NS)
    assert "ACME\ufffd Industrial" in texts and "PO\ufffd-9" in texts
    assert "Ber\ufffdlin" in root.xpath("//cbc:CityName/text()", namespaces=NS)
