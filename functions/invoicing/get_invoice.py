"""Read one invoice or credit note; another customer's is indistinguishable from a missing one."""

from __future__ import annotations

from typing import Any

from shared import errors
from shared.domain.access import Principal
from shared.domain.invoice import Invoice
from shared.store import invoices


def get_invoice(invoice_id: str, principal: Principal) -> dict[str, Any]:
    """The document as the API shows it (a legacy invoice in summary)."""
    item = invoices.get_item(invoice_id)
    if item is None or not principal.may_act_for(str(item.get("customer_id", ""))):
        raise errors.NotFound(f"invoice {invoice_id}")
    return invoices.wire(item)


def readable_invoice(invoice_id: str, principal: Principal) -> Invoice | None:
    """The issued document if this principal may see it; None for a legacy invoice.

    Raises 404 when it does not exist or belongs to a customer the principal may not act for.
    """
    item = invoices.get_item(invoice_id)
    if item is None or not principal.may_act_for(str(item.get("customer_id", ""))):
        raise errors.NotFound(f"invoice {invoice_id}")
    return None if invoices.is_legacy(item) else invoices.from_item(item)
