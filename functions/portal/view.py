"""What the portal page shows a customer's contact, gathered by the API's own use cases.

The statement (its aging and its lines: invoices, payments, credits) is GET
/customers/{id}/statement's; the invoices and orders are GET /invoices' and GET /orders' for
the customer; the credits are GET /customers/{id}/credits' without the credit figures (those are
for staff). The caller is the link's principal: a partner bound to this one customer, so every
use case scopes to it as it scopes a partner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.domain.access import Principal
from shared.domain.invoice import Invoice
from shared.domain.invoice_parts import PaymentInstructions

HISTORY = 25  # invoices and orders shown, newest first


@dataclass(frozen=True)
class Transfer:
    """How to pay one open invoice by bank transfer (the EPC QR code: euro invoices only)."""

    account_name: str
    iban: str
    bic: str | None
    amount: str
    currency: str
    reference: str
    qr_svg: str | None


@dataclass(frozen=True)
class Portal:
    customer_id: str
    customer_name: str
    contact: str
    statement: dict[str, Any]  # Statement.to_wire(), as GET /customers/{id}/statement
    transfers: dict[str, Transfer]  # by invoice id: the open invoices payable by transfer
    invoices: list[dict[str, Any]]  # GET /invoices' wire form, newest first
    orders: list[dict[str, Any]]  # GET /orders' wire form, newest first
    credits: dict[str, Any]  # {"credits": [...], "total"}
    card: bool = False  # a Stripe key is configured: open invoices are payable by card
    cases: list[dict[str, Any]] = field(default_factory=list)  # newest first, with threads


def gather(customer_id: str, principal: Principal, contact: str) -> Portal:
    from functions.cases.portal_form import customer_cases
    from functions.credits.list_credits import open_credits
    from functions.dunning.statement import StatementQuery, read_statement
    from functions.invoicing.list_invoices import InvoiceQuery, list_invoices
    from functions.orders.list_orders import OrderQuery, list_orders
    from shared.adapters import stripe_checkout

    statement = read_statement(customer_id, StatementQuery(), principal)  # 404: no customer
    invoices = list_invoices(InvoiceQuery(customer_id=customer_id, limit=HISTORY), principal)
    orders = list_orders(OrderQuery(customer_id=customer_id, limit=HISTORY), principal)
    return Portal(
        customer_id=customer_id,
        customer_name=statement["customer_name"],
        contact=contact,
        statement=statement,
        transfers=_transfers(statement["aging"]["open_invoices"], principal),
        invoices=invoices["invoices"],
        orders=[order.to_wire() for order in orders.orders],
        credits=open_credits(customer_id, statement["currency"]),
        card=stripe_checkout.configured(),
        cases=customer_cases(customer_id),
    )


def _transfers(open_invoices: list[dict[str, Any]], principal: Principal) -> dict[str, Transfer]:
    from functions.invoicing.get_invoice import readable_invoice

    found: dict[str, Transfer] = {}
    for aged in open_invoices:
        if aged.get("legacy") or aged.get("kind") != "invoice":
            continue
        invoice = readable_invoice(aged["invoice_id"], principal)
        due = Decimal(aged["amount_due"]["amount"])
        if invoice is None or invoice.payment is None or due <= 0:
            continue
        found[invoice.invoice_id] = transfer(invoice, invoice.payment, due)
    return found


def transfer(invoice: Invoice, payment: PaymentInstructions, due: Decimal) -> Transfer:
    """Paying ``due`` of ``invoice`` to the seller's account ``payment``."""
    from functions.rendering import qr_code
    from shared.domain import epc_qr

    svg = None
    if invoice.currency == "EUR" and epc_qr.MIN_AMOUNT <= due <= epc_qr.MAX_AMOUNT:
        payload = epc_qr.payload(
            name=payment.account_name,
            iban=payment.iban,
            amount=due,
            reference=invoice.payment_reference,
            bic=payment.bic,
        )
        svg = qr_code.svg(payload, title=f"EPC QR code paying {invoice.number}")
    return Transfer(
        account_name=payment.account_name,
        iban=payment.iban,
        bic=payment.bic,
        amount=str(due),
        currency=invoice.currency,
        reference=invoice.payment_reference,
        qr_svg=svg,
    )


def invoice_page(invoice_id: str, principal: Principal) -> tuple[dict[str, Any], dict[int, str]]:
    """One invoice of this system as the API shows it, with each line's amount with tax (404
    for another customer's, and for an imported invoice, which has no lines here)."""
    from functions.invoicing.get_invoice import readable_invoice
    from shared import errors
    from shared.domain.cases import line_gross

    invoice = readable_invoice(invoice_id, principal)
    if invoice is None:
        raise errors.NotFound(f"invoice {invoice_id}")
    grosses = {line.line_no: str(line_gross(invoice, line.line_no)) for line in invoice.lines}
    return invoice.to_wire(), grosses
