"""HTTP routes of invoices: list and read them, their documents, credit notes and write-offs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/invoices", methods=["GET"], requires=Action.READ)
def list_invoices(principal: Principal) -> Response:
    from functions.invoicing.list_invoices import InvoiceQuery, list_invoices

    return json_response(list_invoices(routes.query(InvoiceQuery), principal))


@routes.route("/invoices/{invoice_id}", methods=["GET"], requires=Action.READ)
def get_invoice(invoice_id: str, principal: Principal) -> Response:
    from functions.invoicing.get_invoice import get_invoice

    return json_response(get_invoice(invoice_id, principal))


@routes.route("/invoices/{invoice_id}/document", methods=["GET"], requires=Action.READ)
def get_invoice_document(invoice_id: str, principal: Principal) -> Response:
    from functions.invoicing.document_link import DocumentQuery, document_link

    link = document_link(invoice_id, routes.query(DocumentQuery), principal)
    # no-store: the answer is a bearer link to the document
    return json_response(link, headers={"Cache-Control": "no-store"})


@routes.route(
    "/invoices/{invoice_id}/credit-notes", methods=["POST"], requires=Action.ISSUE_CREDIT_NOTES
)
def post_credit_note(invoice_id: str, principal: Principal) -> Response:
    from functions.invoicing.credit_notes import CreditNoteRequest, issue_credit_note

    request = routes.json_body(CreditNoteRequest)

    def issue() -> Answer:
        note = issue_credit_note(invoice_id, request, principal)
        location = f"/invoices/{note.invoice_id}"
        return {"status": 201, "body": note.to_wire(), "headers": {"Location": location}}

    return routes.once(f"invoices.credit.{invoice_id}", principal, request, issue)


@routes.route("/invoices/{invoice_id}/write-offs", methods=["POST"], requires=Action.WRITE_OFF)
def post_write_off(invoice_id: str, principal: Principal) -> Response:
    from functions.invoicing.write_offs import WriteOffRequest, write_off

    request = routes.json_body(WriteOffRequest)

    def run() -> Answer:
        invoice, written = write_off(invoice_id, request, principal)
        location = f"/invoices/{invoice_id}/write-offs/{written.write_off_id}"
        body = {"write_off": written.to_wire(invoice.currency), "invoice": invoice.to_wire()}
        return {"status": 201, "body": body, "headers": {"Location": location}}

    return routes.once(f"invoices.write_off.{invoice_id}", principal, request, run)


@routes.route(
    "/invoices/{invoice_id}/write-offs/{write_off_id}/reversal",
    methods=["POST"],
    requires=Action.WRITE_OFF,
)
def post_write_off_reversal(invoice_id: str, write_off_id: str, principal: Principal) -> Response:
    from functions.invoicing.write_offs import WriteOffReversalRequest, reverse

    request = routes.json_body(WriteOffReversalRequest)

    def run() -> Answer:
        invoice, reversed_ = reverse(invoice_id, write_off_id, request, principal)
        body = {"write_off": reversed_.to_wire(invoice.currency), "invoice": invoice.to_wire()}
        return {"status": 200, "body": body}

    operation = f"invoices.write_off_reversal.{invoice_id}.{write_off_id}"
    return routes.once(operation, principal, request, run)
