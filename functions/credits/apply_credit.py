"""POST /customers/{customer_id}/credits/applications: apply a customer credit to an invoice or
(``charge_id``) to a fee or interest charge.

What both forms share (the request, the credit's sources, the transaction's steps) is in
``functions.credits.application``; the charge form in ``functions.credits.charge_application``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from functions.credits.application import (  # noqa: F401 (CreditSource: imported from here)
    Applied,
    CreditApplicationRequest,
    CreditSource,
    apply_to_invoice,
    earlier_application,
    retried,
)
from functions.credits.charge_application import apply_credit_to_charge
from shared import errors, ids, request_scope
from shared.domain.access import Principal
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.money import minor_units
from shared.store import credit, invoices


def apply_credit(
    customer_id: str, request: CreditApplicationRequest, principal: Principal
) -> dict[str, Any]:
    """The application; 404 unknown customer or credit, 409 contended, 422 refused."""
    figures = credit.get_exposure(customer_id) if len(customer_id) <= 64 else None
    if figures is None:
        raise errors.NotFound(f"customer {customer_id}")
    amount = _amount(request.amount, figures.currency)
    application_id = request_scope.request_scoped_id("cap") or ids.new_id("cap")
    _one_target(request)
    if request.charge_id is not None:
        return apply_credit_to_charge(
            customer_id,
            request,
            request.charge_id,
            amount,
            figures.currency,
            principal,
            application_id,
        )
    if earlier := _applied_before(customer_id, request, application_id):
        return earlier.to_wire()

    def attempt() -> Applied:
        invoice = _open_invoice(request.invoice_id or "", customer_id, figures.currency)
        return apply_to_invoice(
            customer_id,
            request.source.kind,
            request.source.id,
            invoice,
            amount,
            by=principal.principal_id,
            application_id=application_id,
        )

    return retried(attempt, "invoice").to_wire()


def _one_target(request: CreditApplicationRequest) -> None:
    """422 unless the request names exactly one of an invoice and a charge."""
    if (request.invoice_id is None) == (request.charge_id is None):
        detail = "name either an invoice_id or a charge_id"
        raise errors.Unprocessable(
            "credit-application-refused",
            detail,
            errors=[{"pointer": "#/invoice_id", "detail": detail}],
        )


def _open_invoice(invoice_id: str, customer_id: str, currency: str) -> Invoice:
    """The customer's invoice with something due in ``currency``, or 422 naming why not."""
    invoice = invoices.get(invoice_id)
    problem = None
    if invoice is None or invoice.kind is not DocumentKind.INVOICE:
        problem = f"no invoice {invoice_id} a credit can be applied to"
    elif invoice.customer_id != customer_id:
        problem = f"invoice {invoice.number} is not {customer_id}'s"
    elif invoice.currency != currency:
        problem = f"invoice {invoice.number} is in {invoice.currency}, not {currency}"
    elif invoice.amount_due <= 0:
        problem = f"invoice {invoice.number} has nothing due ({invoice.status.value})"
    if problem or invoice is None:
        detail = problem or invoice_id
        raise errors.Unprocessable(
            "credit-application-refused",
            detail,
            errors=[{"pointer": "#/invoice_id", "detail": detail}],
        )
    return invoice


def _amount(text: str, currency: str) -> Decimal:
    amount = Decimal(text)
    places = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)) or amount <= 0:
        detail = f"an amount above 0 with at most {places} decimal places ({currency})"
        raise errors.Unprocessable(
            "credit-application-refused",
            detail,
            errors=[{"pointer": "#/amount", "detail": detail}],
        )
    return amount


def _applied_before(
    customer_id: str, request: CreditApplicationRequest, application_id: str
) -> Applied | None:
    """The application a first attempt of this request made (then died before answering)."""
    invoice = invoices.get(request.invoice_id or "")
    earlier = earlier_application(customer_id, request.source, application_id)
    if invoice is None or earlier is None:
        return None
    return Applied(application_id, earlier[0], invoice, earlier[1])
