"""No personal data or secrets in the logs: a whole flow's log output, searched for them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared.observability import logger
from tests.functional.accounts import call, create_customer
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.invoicing import placed, ship
from tests.functional.payment_intake import (
    STRIPE_SECRET,
    payment_intent,
    post_stripe,
    stripe_event,
    stripe_signature,
)

PERSON: dict[str, Any] = {
    "legal_name": "Zoltan Quibbleworth",
    "billing_email": "zoltan.quibbleworth@private.example",
    "tax_id": "FR13765432109",
    "credit_limit": "10000.00",
    "billing_address": {
        "line1": "17 Impasse des Oubliettes",
        "city": "Carcassonne",
        "postal_code": "11000",
        "country": "FR",
    },
}
SHIP_TO = {"line1": "Quai Secret 42", "city": "Narbonne", "postal_code": "11100", "country": "FR"}


class _Collect(logging.Handler):
    """Every record as it could reach a log line: message, extra fields, exception text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.getMessage()} {vars(record)!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    # On the root (libraries' loggers) and on the app's own logger, which does not propagate
    collect, listened = _Collect(), [logging.getLogger(), logging.getLogger(logger.name)]
    level = logger.log_level
    logger.setLevel("DEBUG")  # stricter than production: even debug lines must be clean
    for listener in listened:
        listener.addHandler(collect)
    try:
        yield collect.lines
    finally:
        for listener in listened:
            listener.removeHandler(collect)
        logger.setLevel(level)


def test_a_whole_flow_logs_no_personal_data_or_secrets(client, world: World, log_lines, capfd):
    # Given a customer with personal data, an order shipped to a private address, its invoice
    # e-mailed, a Stripe payment (signed with the webhook secret) and a new API key
    customer = create_customer(client, **PERSON)
    order = placed(
        client,
        world,
        customer_id=customer["id"],
        ship_to=SHIP_TO,
        lines=[{"sku": "WIDGET-1", "quantity": 2}],
    )
    ship(client, world, order["id"], [(1, 2)])
    intent = payment_intent(
        amount=1000,
        metadata={"customer_id": customer["id"]},
        payer=PERSON["legal_name"],
    )
    body = stripe_event("payment_intent.succeeded", intent)
    signature = stripe_signature(body)
    assert post_stripe(client, body, {"Stripe-Signature": signature}).status_code == 200
    world.pump.drain()
    partner = call(client, "POST", "/partners", body={"name": "Leaky Ltd", "customer_ids": []})
    assert partner.status == 201, partner.body
    new_secret = partner.body["api_key"]["secret"]
    assert call(client, "GET", "/catalog/items", key=new_secret).status == 200
    assert call(client, "GET", "/orders", key="otc_wrong_key_zzzzzzzzzzzzzzzz").status == 401

    # When
    output = "\n".join(log_lines) + capfd.readouterr().out

    # Then the flow did log, and none of those values is in it
    assert order["id"] in output  # the flow's own lines are here
    secrets = {
        "e-mail": PERSON["billing_email"],
        "name": PERSON["legal_name"],
        "tax id": PERSON["tax_id"],
        "billing street": PERSON["billing_address"]["line1"],
        "shipping street": SHIP_TO["line1"],
        "webhook secret": STRIPE_SECRET,
        "stripe signature": signature.split("v1=")[1],
        "admin key": ADMIN_KEY,
        "partner key": PARTNER_KEY,
        "new key": new_secret,
        "refused key": "otc_wrong_key_zzzzzzzzzzzzzzzz",
    }
    leaked = {what: value for what, value in secrets.items() if value in output}
    assert leaked == {}
