"""The UBL documents the workers store pass the official checks a Peppol access point runs."""

from __future__ import annotations

from typing import Any

from lxml import etree

from tests.functional.conftest import World
from tests.functional.invoicing import (
    credit_note,
    documents,
    eu_business_customer,
    placed,
    ship,
    stored_xml,
)
from tests.unit.validation import validator

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def invoiced_and_credited(
    client, world: World, order: dict[str, Any], shipped: list[tuple[int, int]], line_no: int
) -> tuple[dict[str, Any], bytes, bytes]:
    """Ship ``order``, credit one unit of the invoice's line ``line_no``, let the workers run:
    the invoice, and the UBL stored for it and for its credit note."""
    ship(client, world, order["id"], shipped)
    [invoice] = documents(world)
    body = {"reason": "Returned", "lines": [{"line_no": line_no, "quantity": "1"}]}
    answer = credit_note(client, invoice["id"], body)
    assert answer.status == 201, answer.body
    world.pump.drain()
    [note] = documents(world, "credit_note")
    return invoice, stored_xml(world, invoice), stored_xml(world, note)


def test_the_stored_invoice_and_credit_note_pass_the_xsd_cen_and_peppol_rules(world: World, client):
    # Given a shipped order, invoiced, and part of it credited, with the workers run
    order = placed(client, world)

    # When the stored UBL documents are validated
    invoice, invoice_xml, note_xml = invoiced_and_credited(
        client, world, order, [(1, 3), (2, 1)], 1
    )

    # Then neither fails a rule
    assert validator().fatal(invoice_xml, peppol=True) == []
    assert validator().fatal(note_xml, peppol=True) == []

    # And both give the date of supply (the shipment's); the note names the credited invoice
    # with its issue date
    assert invoice["delivered_on"] is not None
    for xml in (invoice_xml, note_xml):
        root = etree.fromstring(xml)
        assert (
            root.findtext("cac:Delivery/cbc:ActualDeliveryDate", namespaces=NS)
            == (invoice["delivered_on"])
        )
    credited = etree.fromstring(note_xml).find(
        "cac:BillingReference/cac:InvoiceDocumentReference", NS
    )
    assert credited is not None
    assert credited.findtext("cbc:ID", namespaces=NS) == invoice["number"]
    assert credited.findtext("cbc:IssueDate", namespaces=NS) == invoice["issued_on"]


def test_an_intra_community_supply_and_its_credit_note_pass_every_rule(world: World, client):
    # Given a French business buying goods and a service hour, shipped to Lyon, invoiced, and
    # its service credited
    customer = eu_business_customer(client)
    ship_to = {
        "name": "Initech entrepot",
        "line1": "12 quai Rambaud",
        "city": "Lyon",
        "postal_code": "69002",
        "country": "FR",
    }
    lines = [{"sku": "WIDGET-1", "quantity": 2}, {"sku": "SERVICE-HOUR", "quantity": 1}]
    order = placed(client, world, customer_id=customer["id"], lines=lines, ship_to=ship_to)

    # When the stored UBL documents are validated
    _, invoice_xml, note_xml = invoiced_and_credited(client, world, order, [(1, 2), (2, 1)], 2)

    # Then neither fails a rule (BR-IC-* and BR-AE-* included), the goods are K and the
    # service AE, and both documents name the warehouse the goods went to
    assert validator().fatal(invoice_xml, peppol=True) == []
    assert validator().fatal(note_xml, peppol=True) == []
    codes = etree.fromstring(invoice_xml).findall(
        "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", NS
    )
    assert sorted(code.text or "" for code in codes) == ["AE", "K"]
    for xml in (invoice_xml, note_xml):
        address = etree.fromstring(xml).find("cac:Delivery/cac:DeliveryLocation/cac:Address", NS)
        assert address is not None
        assert address.findtext("cbc:CityName", namespaces=NS) == "Lyon"
        assert address.findtext("cac:Country/cbc:IdentificationCode", namespaces=NS) == "FR"
