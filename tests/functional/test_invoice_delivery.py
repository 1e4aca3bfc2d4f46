"""Delivering issued documents: PDF and UBL XML in the bucket, e-mailed to the buyer once.

A shipped order is invoiced (issuance worker), the InvoiceIssued event reaches the delivery
worker through the bus and its queue, which stores both documents and e-mails them to the
buyer's billing address through SES (moto) as one MIME message with attachments.
"""

from __future__ import annotations

import email
import html
import io
import json
import re
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends
from pypdf import PdfReader

import app as app_module
from functions.portal.links import DEFAULT_LIFETIME_SECONDS
from infra.local.pump import LambdaContext
from shared.adapters import mail
from shared.adapters.bus_events import BusEvent
from shared.config import settings
from tests.functional.conftest import World
from tests.functional.invoicing import credit_note, documents, entities, placed, ship
from tests.functional.order_events import sqs_batch

SENDER = "billing@otc.example"
BILLING_EMAIL = "ap@acme.example"  # cus_acme's, from the seed
SCHEMA = Path(__file__).parents[1] / "schemas" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"


def _raw_emails() -> list[RawMessage]:
    """The MIME messages moto's SES accepted (the order e-mails are simple ones)."""
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [message for message in sent if isinstance(message, RawMessage)]


def _attachments(message: RawMessage) -> dict[str, tuple[str, bytes]]:
    """filename -> (content type, bytes) of a raw message's attachments."""
    parsed: Message = email.message_from_string(message.raw_data)
    found = {}
    for part in parsed.walk():
        if part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_filename() or ""] = (part.get_content_type(), payload)
    return found


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _stored(world: World) -> dict[str, dict[str, Any]]:
    """Key -> head of every object under invoices/ (latest versions)."""
    s3 = world.session.client("s3")
    bucket = world.outputs["DocumentsBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="invoices/").get("Contents", [])
    return {item["Key"]: s3.head_object(Bucket=bucket, Key=item["Key"]) for item in listed}


def _read(world: World, key: str) -> bytes:
    body = world.session.client("s3").get_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=key
    )["Body"]
    content: bytes = body.read()
    return content


def _issued_event_body(world: World, detail_type: str = "InvoiceIssued") -> str:
    """The SQS body (an EventBridge envelope) of the issuing event, as its queue gets it."""
    [event] = [item for item in entities(world, "Event") if item["detail_type"] == detail_type]
    return json.dumps(
        {
            "version": "0",
            "id": "4a1f6b2e-0000-4000-8000-000000000001",
            "detail-type": detail_type,
            "source": "otc.invoicing",
            "account": "123456789012",
            "time": "2026-11-23T10:15:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event["detail"]),
        }
    )


def _deliver(body: str) -> dict[str, Any]:
    """Hand one message to the delivery consumer as Lambda would."""
    answer: dict[str, Any] = app_module.deliver_invoices(
        sqs_batch([body], queue="otc-local-invoice-delivery"), LambdaContext("deliver_invoices")
    )
    return answer


def _invoiced(client: Any, world: World) -> dict[str, Any]:
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [invoice] = documents(world)
    return invoice


def test_a_shipped_order_gets_its_pdf_and_xml_stored_and_emailed_once(world: World, client):
    # Given a confirmed order
    order = placed(client, world)

    # When it ships and the workers run (issuance, outbox, delivery)
    ship(client, world, order["id"], [(1, 3), (2, 1)])

    # Then one invoice was issued, and its PDF and XML are in the bucket at its stable keys,
    # encrypted with the stack's KMS key
    [invoice] = documents(world)
    prefix = f"invoices/{invoice['customer_id']}/{invoice['number']}"
    stored = _stored(world)
    assert set(stored) == {f"{prefix}.pdf", f"{prefix}.xml"}
    assert stored[f"{prefix}.pdf"]["ContentType"] == "application/pdf"
    assert stored[f"{prefix}.xml"]["ContentType"] == "application/xml"
    for head in stored.values():
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["Metadata"]["invoice-id"] == invoice["id"]
    pdf_text = _pdf_text(_read(world, f"{prefix}.pdf"))
    assert invoice["number"] in pdf_text
    assert invoice["payment_reference"] in pdf_text
    # and the XML is valid UBL naming the same number and total
    xml = etree.fromstring(_read(world, f"{prefix}.xml"))
    schema = etree.XMLSchema(etree.parse(str(SCHEMA), etree.XMLParser(no_network=True)))
    assert schema.validate(xml), schema.error_log
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert xml.findtext("cbc:ID", namespaces=ns) == invoice["number"]
    payable = xml.findtext(".//cbc:PayableAmount", namespaces=ns)
    assert payable == invoice["total"]["amount"]

    # And the buyer got exactly one e-mail from the sender, with both documents attached
    [message] = _raw_emails()
    assert message.source == SENDER
    assert BILLING_EMAIL in message.destinations
    parsed = email.message_from_string(message.raw_data)
    assert parsed["Subject"].startswith(f"Invoice {invoice['number']} from ")
    attachments = _attachments(message)
    assert set(attachments) == {f"{invoice['number']}.pdf", f"{invoice['number']}.xml"}
    content_type, pdf = attachments[f"{invoice['number']}.pdf"]
    assert content_type == "application/pdf"
    assert invoice["number"] in _pdf_text(pdf)
    assert attachments[f"{invoice['number']}.xml"][0] == "application/xml"
    # and the marker records SES's message id
    [marker] = [
        item for item in entities(world, "Notification") if item["detail_type"] == "InvoiceIssued"
    ]
    assert (marker["status"], marker["message_id"]) == ("sent", message.id)


def test_delivering_the_same_event_again_sends_nothing_more(world: World, client):
    # Given an invoice already delivered
    invoice = _invoiced(client, world)
    assert len(_raw_emails()) == 1

    # When its InvoiceIssued event is delivered again
    answer = _deliver(_issued_event_body(world))

    # Then it succeeds, rewrites the same documents, and e-mails no one
    assert answer == {"batchItemFailures": []}
    assert len(_raw_emails()) == 1
    prefix = f"invoices/{invoice['customer_id']}/{invoice['number']}"
    assert set(_stored(world)) == {f"{prefix}.pdf", f"{prefix}.xml"}


def test_a_failed_send_releases_the_claim_and_the_retry_sends_once(
    world: World, client, monkeypatch: pytest.MonkeyPatch
):
    # Given SES refusing the first send
    real_send = mail.send_raw
    attempts: list[str] = []

    def flaky(**kwargs: Any) -> str:
        attempts.append(kwargs["recipient"])
        if len(attempts) == 1:
            raise ConnectionError("SES endpoint unreachable")
        return real_send(**kwargs)

    monkeypatch.setattr(mail, "send_raw", flaky)

    # When an order ships and is invoiced: the first delivery fails
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)], drain=False)
    world.pump.drain()  # the failed message comes back (no visibility delay locally) and succeeds

    # Then the retry claimed afresh and the buyer got the documents exactly once
    assert attempts == [BILLING_EMAIL, BILLING_EMAIL]
    [message] = _raw_emails()
    [invoice] = documents(world)
    assert f"{invoice['number']}.pdf" in _attachments(message)
    assert world.queue_depth("InvoiceDeliveryDeadLetterQueue") == 0

    # And a later redelivery still sends nothing more
    assert _deliver(_issued_event_body(world)) == {"batchItemFailures": []}
    assert len(_raw_emails()) == 1


def test_a_credit_note_is_stored_and_emailed_too(world: World, client):
    # Given a delivered invoice
    invoice = _invoiced(client, world)

    # When part of it is credited and the workers run
    answer = credit_note(
        client,
        invoice["id"],
        {"reason": "Damaged in transit", "lines": [{"line_no": 1, "quantity": "1"}]},
    )
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then the credit note's documents sit next to the invoice's, and it was e-mailed once
    [note] = documents(world, "credit_note")
    customer = f"invoices/{invoice['customer_id']}"
    assert set(_stored(world)) == {
        f"{customer}/{invoice['number']}.pdf",
        f"{customer}/{invoice['number']}.xml",
        f"{customer}/{note['number']}.pdf",
        f"{customer}/{note['number']}.xml",
    }
    invoice_email, note_email = _raw_emails()
    assert email.message_from_string(note_email.raw_data)["Subject"].startswith(
        f"Credit note {note['number']} from "
    )
    _, pdf = _attachments(note_email)[f"{note['number']}.pdf"]
    text = _pdf_text(pdf)
    assert "Credit note" in text
    assert f"Credits invoice: {invoice['number']}" in text
    assert "Reason: Damaged in transit" in text
    _, xml = _attachments(note_email)[f"{note['number']}.xml"]
    assert etree.QName(etree.fromstring(xml)).localname == "CreditNote"
    assert invoice_email.id != note_email.id


def test_the_sample_event_is_delivered_from_its_own_data(world: World):
    # Given the sample batch (events/), whose invoice is in no table: the event's document serves
    events = Path(__file__).resolve().parents[2] / "events"
    batch = json.loads((events / "sqs" / "invoice-delivery-batch.json").read_text())
    envelope = json.loads((events / "eventbridge" / "invoice-issued.json").read_text())
    assert json.loads(batch["Records"][0]["body"]) == envelope
    assert BusEvent.model_validate(envelope).detail_type == "InvoiceIssued"

    # When the delivery consumer gets it
    answer = app_module.deliver_invoices(batch, LambdaContext("deliver_invoices"))

    # Then both documents are stored and the buyer got them
    assert answer == {"batchItemFailures": []}
    assert set(_stored(world)) == {
        "invoices/cus_acme/INV-2026-000042.pdf",
        "invoices/cus_acme/INV-2026-000042.xml",
    }
    [message] = _raw_emails()
    assert BILLING_EMAIL in message.destinations
    assert set(_attachments(message)) == {"INV-2026-000042.pdf", "INV-2026-000042.xml"}


def test_an_invoice_issued_before_sellers_had_a_contact_is_delivered_with_it(world: World, client):
    # Given an issued invoice stored as documents were before sellers named their contact and
    # Peppol participant id
    from shared.store import invoices, table
    from tests.unit.validation import validator

    invoice = invoices.get(_invoiced(client, world)["id"])
    assert invoice is not None
    bare = invoice.seller.model_copy(update={"contact": None, "endpoint": None})
    table.transact([invoices.replacing(invoice.model_copy(update={"seller": bare}), invoice)])

    # When its issuing event is delivered (again)
    assert _deliver(_issued_event_body(world)) == {"batchItemFailures": []}

    # Then the stored UBL names the seller's contact and address and passes Peppol's rules
    xml = _read(world, f"invoices/{invoice.customer_id}/{invoice.number}.xml")
    root = etree.fromstring(xml)
    ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    contact = root.find("cac:AccountingSupplierParty/cac:Party/cac:Contact", ns)
    assert contact is not None and contact.findtext("cbc:ElectronicMail", namespaces=ns)
    assert validator().fatal(xml, peppol=True) == []


def _parts(message: RawMessage) -> dict[str, str]:
    """content type -> decoded text of a raw message's text/plain and text/html parts."""
    parsed: Message = email.message_from_string(message.raw_data)
    found: dict[str, str] = {}
    for part in parsed.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def test_the_invoice_email_links_the_buyer_to_the_portal(world: World, client):
    # Given an invoice delivered where the portal is configured
    invoice = _invoiced(client, world)
    [message] = _raw_emails()
    parts = _parts(message)

    # Then both parts hold one signed link to cus_acme's portal for the billing contact
    base = settings().public_api_url
    [url] = re.findall(re.escape(base) + r"/portal/cus_acme\?token=[^\s\"<]+", parts["text/plain"])
    assert f'href="{html.escape(url, quote=True)}"' in parts["text/html"]
    token = url.split("token=", 1)[1]
    issued, expires, *_ = token.split(".")
    assert int(expires) - int(issued) == DEFAULT_LIFETIME_SECONDS
    # which opens the portal on the invoice
    page = client.http.get(url.removeprefix(base), headers={"Accept": "text/html"})
    assert page.status_code == 200
    body = page.body.decode()
    assert BILLING_EMAIL in body and f'data-invoice="{invoice["id"]}"' in body


def test_without_a_public_url_the_invoice_email_has_no_portal_link(
    world: World, client, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PUBLIC_API_URL", "")
    settings.cache_clear()
    try:
        _invoiced(client, world)
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    [message] = _raw_emails()
    assert "/portal/" not in message.raw_data


def test_a_failed_read_for_the_portal_link_is_retried_and_the_email_goes_once_with_it(
    world: World, client, monkeypatch: pytest.MonkeyPatch
):
    # Given the customer's portal access read throttled once
    from botocore.exceptions import ClientError

    from shared.store import portal_access

    real_read = portal_access.links_valid_after
    reads: list[str] = []

    def throttled_once(customer_id: str) -> int:
        reads.append(customer_id)
        if len(reads) == 1:
            code = "ProvisionedThroughputExceededException"
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "GetItem")
        return real_read(customer_id)

    monkeypatch.setattr(portal_access, "links_valid_after", throttled_once)

    # When an order ships and is invoiced: the first delivery fails before claiming the e-mail
    _invoiced(client, world)

    # Then the retry sent it, once, and with the portal link
    assert reads == ["cus_acme", "cus_acme"]
    [message] = _raw_emails()
    assert f"{settings().public_api_url}/portal/cus_acme?token=" in _parts(message)["text/plain"]
    assert world.queue_depth("InvoiceDeliveryDeadLetterQueue") == 0


def test_an_unknown_customer_gets_no_portal_link_rather_than_no_email(world: World):
    from functions.portal.links import email_link

    assert email_link("cus_nobody", BILLING_EMAIL) is None
    assert email_link("cus_acme", BILLING_EMAIL) is not None
