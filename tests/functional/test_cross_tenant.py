"""Tenant isolation: a partner key never reaches another customer's resources, nor learns of them.

Two customers, each with a partner bound to it alone, each with an order, a partial shipment and
its invoice, a payment, a promise to pay (collections history) and a statement. Then every
partner key tries every other customer's resources, reading and writing: each answer is a 404
problem that says no more than the answer for an id that does not exist, and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalice.test import Client

from shared import clock
from tests.functional.accounts import Answer, call, create_customer
from tests.functional.conftest import World, order_body, post_order
from tests.functional.helpers import PROBLEM, snapshot

MISSING = "does_not_exist_0000"


@dataclass
class Tenant:
    customer_id: str
    partner_id: str
    key: str
    order_id: str
    shipment_id: str
    invoice_id: str
    payment_id: str


def _tenant(client: Client, world: World, name: str) -> Tenant:
    """A customer with a partner of its own, and one of each resource a partner may reach."""
    customer = create_customer(
        client,
        legal_name=f"{name} GmbH",
        billing_email=f"ap@{name.lower()}.example",
        credit_limit="10000.00",
    )
    customer_id = customer["id"]
    partner = call(
        client, "POST", "/partners", body={"name": f"{name} EDI", "customer_ids": [customer_id]}
    )
    assert partner.status == 201, partner.body
    key = partner.body["api_key"]["secret"]

    placed = post_order(client, order_body(customer_id, purchase_order=f"PO-{name}"), key=key)
    assert placed.status_code == 201, placed.body
    order_id = json.loads(placed.body)["id"]
    world.pump.drain()
    shipped = call(
        client,
        "POST",
        f"/orders/{order_id}/shipments",
        key=key,
        body={
            "carrier": "DHL",
            "tracking_number": f"JD{name}",
            "lines": [{"line_no": 1, "quantity": 1}],
        },
    )
    assert shipped.status == 201, shipped.body
    world.pump.drain()
    invoices = call(client, "GET", f"/invoices?customer_id={customer_id}", key=key)
    assert invoices.status == 200, invoices.body
    [invoice] = invoices.body["invoices"]

    paid = call(
        client,
        "POST",
        "/payments",
        body={
            "amount": "5.00",
            "currency": "EUR",
            "method": "cheque",
            "received_on": clock.now().date().isoformat(),
            "payer_name": f"{name} GmbH",
            "reference": f"CHQ-{name}",
            "customer_id": customer_id,
        },
    )
    assert paid.status == 201, paid.body
    world.pump.drain()
    promised = call(
        client,
        "POST",
        f"/invoices/{invoice['id']}/promises",
        body={
            "promised_on": (clock.now().date() + timedelta(days=7)).isoformat(),
            "amount": "1.00",
        },
    )
    assert promised.status == 201, promised.body
    world.pump.drain()
    return Tenant(
        customer_id=customer_id,
        partner_id=partner.body["partner"]["id"],
        key=key,
        order_id=order_id,
        shipment_id=shipped.body["shipment"]["shipment_id"],
        invoice_id=invoice["id"],
        payment_id=paid.body["id"],
    )


def _own_resources_answer(client: Client, tenant: Tenant) -> None:
    """The partner reaches its own resources: the probe's 404s are not a broken key."""
    for path in (
        f"/customers/{tenant.customer_id}",
        f"/customers/{tenant.customer_id}/statement",
        f"/customers/{tenant.customer_id}/collections",
        f"/orders/{tenant.order_id}",
        f"/orders/{tenant.order_id}/history",
        f"/invoices/{tenant.invoice_id}",
        f"/payments/{tenant.payment_id}",
        f"/partners/{tenant.partner_id}/webhook/deliveries",
    ):
        answer = call(client, "GET", path, key=tenant.key)
        assert answer.status == 200, (path, answer.body)


def _probes(other: Tenant, *, missing: bool = False) -> list[tuple[str, str, Any]]:
    """Every request a partner may make on a customer's resources: (method, path, body)."""

    def pick(real: str) -> str:
        return MISSING if missing else real

    customer = pick(other.customer_id)
    order = pick(other.order_id)
    invoice = pick(other.invoice_id)
    payment = pick(other.payment_id)
    partner = pick(other.partner_id)
    return [
        ("GET", f"/customers/{customer}", None),
        ("GET", f"/customers/{customer}/statement", None),
        ("GET", f"/customers/{customer}/statement?format=pdf", None),
        ("GET", f"/customers/{customer}/collections", None),
        ("GET", f"/orders/{order}", None),
        ("GET", f"/orders/{order}/history", None),
        ("PATCH", f"/orders/{order}", {"version": 2, "purchase_order": "PO-HIJACK"}),
        ("POST", f"/orders/{order}/cancel", {"reason": "not mine"}),
        ("POST", f"/orders/{order}/close", {"reason": "not mine"}),
        (
            "POST",
            f"/orders/{order}/shipments",
            {"carrier": "DHL", "tracking_number": "JDX", "lines": [{"line_no": 2, "quantity": 1}]},
        ),
        ("GET", f"/invoices/{invoice}", None),
        ("GET", f"/invoices/{invoice}/document", None),
        ("GET", f"/invoices/{invoice}/document?format=ubl", None),
        ("GET", f"/payments/{payment}", None),
        ("GET", f"/partners/{partner}/webhook", None),
        ("PUT", f"/partners/{partner}/webhook", {"url": "https://evil.example/hook"}),
        ("DELETE", f"/partners/{partner}/webhook", None),
        ("GET", f"/partners/{partner}/webhook/deliveries", None),
        ("POST", f"/partners/{partner}/webhook/deliveries/dlv_x/replay", None),
    ]


def _beyond_the_role(other: Tenant, *, missing: bool = False) -> list[tuple[str, str, Any]]:
    """Requests on a customer's resources that the partner role may not make at all."""
    order, invoice, payment, customer = (
        (MISSING,) * 4
        if missing
        else (other.order_id, other.invoice_id, other.payment_id, other.customer_id)
    )
    return [
        ("POST", f"/orders/{order}/approve", {"note": "mine now"}),
        ("POST", f"/orders/{order}/reject", {"reason": "not mine"}),
        ("PATCH", f"/customers/{customer}", {"version": 1, "legal_name": "Hijacked"}),
        ("POST", f"/invoices/{invoice}/credit-notes", {"reason": "x", "lines": []}),
        ("POST", f"/invoices/{invoice}/promises", {"promised_on": "2030-01-01", "amount": "1"}),
        ("POST", f"/payments/{payment}/allocations", {"allocations": []}),
        ("POST", f"/payments/{payment}/allocations/alc_x/reversal", {"reason": "x"}),
    ]


def _comparable(answer: Answer) -> Any:
    """The answer without the path echoed back (the ids differ, nothing else may)."""
    body = dict(answer.body or {})
    body.pop("instance", None)
    detail = str(body.pop("detail", ""))
    return answer.status, body, detail.replace(MISSING, "<id>")


def _requested(client: Client, method: str, path: str, key: str, body: Any) -> Answer:
    return call(client, method, path, key=key, body=body)


def test_every_partner_key_gets_404_for_every_other_customers_resources(world, client):
    # Given: two customers, each with a partner of its own and every kind of resource
    tenants = [_tenant(client, world, name) for name in ("Northwind", "Southwind")]
    for tenant in tenants:
        _own_resources_answer(client, tenant)
    before = snapshot(world)

    # When: every partner key tries every other customer's resources
    leaks: list[str] = []
    for caller in tenants:
        for other in (t for t in tenants if t is not caller):
            for probes, allowed in ((_probes, {404}), (_beyond_the_role, {403, 404})):
                pairs = zip(probes(other), probes(other, missing=True), strict=True)
                for (method, path, body), (_, missing_path, _) in pairs:
                    answer = _requested(client, method, path, caller.key, body)
                    unknown = _requested(client, method, missing_path, caller.key, body)
                    # Then: 404 (or the role's 403), a problem, and the same words as for an
                    # id that does not exist
                    problem = answer.headers.get("Content-Type") == PROBLEM
                    if answer.status not in allowed or not problem:
                        leaks.append(f"{method} {path}: {answer.status} {answer.body}")
                        continue
                    masked = _comparable(answer)
                    masked = (masked[0], masked[1], _mask(masked[2], other))
                    if masked != _comparable(unknown):
                        leaks.append(f"{method} {path}: {answer.body} vs {unknown.body}")
    world.pump.drain()

    # Then: nothing answered, and nothing written by any of it
    assert leaks == []
    assert snapshot(world) == before


def _mask(detail: str, other: Tenant) -> str:
    for real in (
        other.customer_id,
        other.order_id,
        other.invoice_id,
        other.payment_id,
        other.partner_id,
    ):
        detail = detail.replace(real, "<id>")
    return detail


def test_partner_lists_and_new_orders_stay_within_its_customers(world, client):
    # Given
    north, south = (_tenant(client, world, name) for name in ("Northwind", "Southwind"))
    before = snapshot(world)

    # When: north filters its lists by south's customer, and orders on south's account
    lists = {
        path: call(client, "GET", path, key=north.key)
        for path in (
            f"/orders?customer_id={south.customer_id}",
            f"/invoices?customer_id={south.customer_id}",
            "/orders",
            "/invoices",
            "/customers",
            "/payments",
        )
    }
    order = post_order(client, order_body(south.customer_id, purchase_order="PO-X"), key=north.key)
    unknown = post_order(client, order_body(MISSING, purchase_order="PO-X"), key=north.key)
    world.pump.drain()

    # Then: no list shows anything of south's; the order is refused as if south did not exist
    for path, answer in lists.items():
        text = json.dumps(answer.body)
        assert south.customer_id not in text, (path, answer.body)
        assert south.order_id not in text and south.invoice_id not in text, (path, answer.body)
    assert order.status_code == unknown.status_code == 404, order.body
    assert order.headers["Content-Type"] == PROBLEM
    refused, missing = json.loads(order.body), json.loads(unknown.body)
    assert refused["detail"].replace(south.customer_id, "<id>") == missing["detail"].replace(
        MISSING, "<id>"
    )
    assert snapshot(world) == before
