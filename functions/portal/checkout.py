"""Pay open invoices by card from the portal: a Stripe Checkout Session, then Stripe's page.

``POST /portal/{customer_id}/checkout?token=...`` (a plain form: ``invoice_id`` once per
invoice) checks each invoice is the customer's, open and in one currency, and asks Stripe
(``shared/adapters/stripe_checkout.py``) for a session of one line per invoice, its amount due
in minor units. The session's metadata names the customer, the invoices (ids, numbers, RF
references) and the amount asked for; ``checkout.session.completed`` brings that metadata back
and cash application applies the payment to exactly those invoices (see
``gateway_events.checkout_metadata``). The idempotency key is derived from the customer, the
invoices, their amounts due and versions: a double click makes one session, and a session for
an amount that has since changed is a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

from shared import errors
from shared.domain.access import Principal
from shared.domain.gateway_events import CHECKOUT_AMOUNT_KEY
from shared.domain.invoice import Invoice, InvoiceStatus
from shared.domain.money import minor_units

# Stripe keeps a metadata value to 500 characters: the ids, numbers and RF references of this
# many invoices fit (a session could hold up to 100 lines).
MAX_INVOICES = 15
MAX_FIELDS = 2 * MAX_INVOICES  # a form with more is no selection
PAYABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID})


def invoice_ids(form: Mapping[str, list[str]] | None) -> list[str]:
    """The ``invoice_id`` fields of the form (None: a form that did not read), in order, each
    once; Invalid without one."""
    wanted = list(dict.fromkeys((form or {}).get("invoice_id", [])))
    if not wanted or len(wanted) > MAX_INVOICES or any(len(i) > 64 for i in wanted):
        raise errors.Invalid(
            "invalid-selection",
            "Choose the invoices to pay",
            f"choose between 1 and {MAX_INVOICES} open invoices to pay",
        )
    return wanted


def start_checkout(
    customer_id: str, wanted: list[str], principal: Principal, *, page_url: str
) -> str:
    """The URL of Stripe's payment page for the open invoices ``wanted`` of the customer."""
    from shared.adapters import stripe_checkout

    if not stripe_checkout.configured():
        raise _unavailable("card payment is not offered here; pay by bank transfer")
    invoices = [_payable(invoice_id, customer_id, principal) for invoice_id in wanted]
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) > 1:
        raise errors.Unprocessable(
            "mixed-currencies",
            f"the invoices chosen are billed in {', '.join(sorted(currencies))}",
            title="Pay invoices of one currency at a time",
        )
    items = [
        stripe_checkout.LineItem(
            name=f"Invoice {invoice.number}",
            minor_amount=_minor(invoice.amount_due, invoice.currency),
            currency=invoice.currency,
        )
        for invoice in invoices
    ]
    total = sum(item.minor_amount for item in items)
    metadata = {
        "customer_id": customer_id,
        "invoice_ids": ",".join(invoice.invoice_id for invoice in invoices),
        "invoice_numbers": " ".join(invoice.number for invoice in invoices),
        "payment_references": " ".join(invoice.payment_reference for invoice in invoices),
        CHECKOUT_AMOUNT_KEY: str(total),
    }
    try:
        session = stripe_checkout.create_session(
            items,
            client_reference_id=customer_id,
            metadata=metadata,
            success_url=_with(page_url, checkout="paid"),
            cancel_url=_with(page_url, checkout="cancelled"),
            idempotency_key=idempotency_key(customer_id, invoices),
        )
    except stripe_checkout.CheckoutUnavailableError:
        raise _unavailable("card payment is unavailable just now; try again shortly") from None
    return session.url


def idempotency_key(customer_id: str, invoices: list[Invoice]) -> str:
    """One key per customer, invoice set, amounts due and versions."""
    parts = sorted(f"{i.invoice_id}:{i.amount_due}:{i.version}" for i in invoices)
    digest = hashlib.sha256("|".join([customer_id, *parts]).encode()).hexdigest()[:40]
    return f"portal-checkout-{digest}"


def _payable(invoice_id: str, customer_id: str, principal: Principal) -> Invoice:
    from functions.invoicing.get_invoice import readable_invoice

    invoice = readable_invoice(invoice_id, principal)  # 404: not this customer's
    if invoice is not None and invoice.customer_id != customer_id:
        raise errors.NotFound(f"invoice {invoice_id}")
    if invoice is None:  # imported: paid as the old system says, by transfer
        raise errors.Conflict(
            "not-payable",
            f"invoice {invoice_id} was imported; pay it by bank transfer",
            title="This invoice is not payable here",
        )
    if invoice.status not in PAYABLE or invoice.amount_due <= 0:
        raise errors.Conflict(
            "not-payable",
            f"invoice {invoice.number} has nothing to pay",
            title="This invoice is not open",
        )
    return invoice


def _minor(amount: Decimal, currency: str) -> int:
    return int((amount * (10 ** minor_units(currency))).to_integral_value())


def _with(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _unavailable(detail: str) -> errors.DomainError:
    return errors.Unavailable("card-payment-unavailable", "Card payment unavailable", detail)
