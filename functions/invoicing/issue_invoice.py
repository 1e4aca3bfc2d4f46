"""Issue the invoice for shipped goods (on OrderShipped, and OrderClosed).

Customers are invoiced ``per_shipment`` (each shipment gets its invoice) or ``per_order`` (one
invoice once every line has shipped, or the unshipped rest was closed, billing all of the
order's shipments; earlier shipments only mark their event consumed). The invoice is written
in ONE transaction with:

- the next number of its series (``shared/store/series.py``): no gap, no duplicate;
- a source guard per shipment it bills (and the order, per order): no shipment is billed twice,
  whatever the delivery count, the consumed markers' expiry or a change of invoicing setting;
- its journal entry (receivable debited, revenue and VAT credited);
- the credit move: the order's net amount leaves the uninvoiced orders, the invoice total
  joins the open receivables;
- an ``InvoiceIssued`` event and the consumed marker of the OrderShipped event.

What is released from the uninvoiced exposure telescopes per order line: a shipment releases
``round(price x shipped through it) - round(price x shipped before it)``, so the releases of all
of an order's shipments add up to exactly the line totals the confirmation added, however the
order was split. A redelivered event, or a second one for an already billed order, writes
nothing and answers the invoice already issued.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ConfigDict

from shared import clock
from shared.adapters.bus_events import BusEvent
from shared.config import seller as configured_seller
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain import numbering
from shared.domain.customer import Customer
from shared.domain.invoice import Invoice
from shared.domain.money import quantize
from shared.domain.order import SHIPPING_DONE, Order, Shipment
from shared.model import Model
from shared.observability import logger
from shared.store import credit, customers, invoices, orders, outbox, series
from shared.store import ledger as ledger_store
from shared.store.outbox import AlreadyConsumedError, StaleStateError
from shared.store.table import Update

CONSUMER = "invoice-issuance"
ORDER_CLOSED = "OrderClosed"


class ShippedLine(Model):
    line_no: int
    sku: str
    quantity: int


class ShippedGoods(Model):
    """What an OrderShipped event says left the warehouse (its ``shipment`` field)."""

    model_config = ConfigDict(extra="ignore")

    shipment_id: str
    lines: list[ShippedLine]


class ExposureMismatchError(Exception):
    """The customer's uninvoiced orders hold less than the invoice releases (a broken invariant:
    the message goes to the DLQ and its alarm, rather than bill with wrong credit figures)."""


@dataclass(frozen=True)
class Billing:
    """What one invoice bills: the source naming it, its guards, shipments and quantities."""

    source: str
    guarded: tuple[str, ...]  # every source the invoice claims (its own and its shipments)
    shipments: tuple[Shipment, ...]
    quantities: dict[int, int]  # order line_no -> units
    released: Decimal  # net amount leaving the customer's uninvoiced orders


def issue_for_event(message: BusEvent) -> Invoice | None:
    """The consumer's entry point: one OrderShipped or OrderClosed event from its queue."""
    metadata = message.detail.metadata
    if message.detail_type == ORDER_CLOSED:
        return issue_for_closed_order(metadata.aggregate_id, metadata.event_id)
    shipped = ShippedGoods.model_validate(message.detail.data["shipment"])
    return issue_for_shipment(metadata.aggregate_id, shipped.shipment_id, metadata.event_id)


def issue_for_closed_order(order_id: str, event_id: str) -> Invoice | None:
    """A closed order's per-order invoice (its last shipment's event may have come first).

    Per-shipment customers have each shipment billed by its own event: nothing to do here.
    """
    order = orders.get(order_id)
    if order is None:
        raise LookupError(f"order {order_id} of a closing event does not exist")
    customer = customers.get(order.customer_id, consistent=True)
    recorded = orders.shipments(order_id)
    if (customer is not None and customer.invoicing == "per_shipment") or not recorded:
        _mark_consumed(event_id)
        return None
    return issue_for_shipment(order_id, recorded[-1].shipment_id, event_id)


def issue_for_shipment(order_id: str, shipment_id: str, event_id: str) -> Invoice | None:
    """The invoice that bills this shipment, issued now or before; None while none is due."""
    order = orders.get(order_id)
    if order is None:
        raise LookupError(f"order {order_id} of a shipment event does not exist")
    customer = customers.get(order.customer_id, consistent=True)
    if customer is None:
        raise LookupError(f"customer {order.customer_id} of order {order_id} does not exist")
    recorded = orders.shipments(order_id)
    if shipment_id not in {shipment.shipment_id for shipment in recorded}:
        raise LookupError(f"shipment {shipment_id} of order {order_id} is not recorded yet")
    billing, already = _billing(order, customer, recorded, shipment_id)
    if already is not None:
        return invoices.get(already)
    if billing is None:
        _mark_consumed(event_id)
        return None
    return _issue(order, customer, billing, event_id)


def _billing(
    order: Order, customer: Customer, recorded: Sequence[Shipment], shipment_id: str
) -> tuple[Billing | None, str | None]:
    """(what to bill now, None) or (None, the id of the invoice that billed it already)."""
    if customer.invoicing == "per_shipment":
        if billed := invoices.billed_by([shipment_id]):
            return None, billed[shipment_id]
        [shipment] = [s for s in recorded if s.shipment_id == shipment_id]
        return _bill(order, recorded, shipment_id, [shipment], guarded=[shipment_id]), None
    source = invoices.order_source(order.order_id)
    if order.status not in SHIPPING_DONE:
        return None, None  # the last shipment's (or the closing's) event bills the whole order
    billed = invoices.billed_by([source, *(s.shipment_id for s in recorded)])
    if source in billed:
        return None, billed[source]
    unbilled = [s for s in recorded if s.shipment_id not in billed]
    if not unbilled:  # billed shipment by shipment before the customer changed its setting
        return None, billed[shipment_id]
    guarded = [source, *(s.shipment_id for s in unbilled)]
    return _bill(order, recorded, source, unbilled, guarded=guarded), None


def _bill(
    order: Order,
    recorded: Sequence[Shipment],
    source: str,
    billed: Sequence[Shipment],
    *,
    guarded: Sequence[str],
) -> Billing:
    quantities: dict[int, int] = {}
    for shipment in billed:
        for line in shipment.lines:
            quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
    ids = {shipment.shipment_id for shipment in billed}
    return Billing(
        source=source,
        guarded=tuple(guarded),
        shipments=tuple(billed),
        quantities=quantities,
        released=released_exposure(order, recorded, ids),
    )


def released_exposure(
    order: Order, recorded: Sequence[Shipment], billed: Collection[str]
) -> Decimal:
    """The net amount the ``billed`` shipments release from the order's uninvoiced exposure.

    Each line's releases telescope over ``recorded`` (all the order's shipments, in order), so
    all shipments together release exactly the line totals.
    """
    prices = {line.line_no: line.unit_price for line in order.lines}
    shipped_before: dict[int, int] = {}
    released = Decimal(0)
    for shipment in recorded:
        for line in shipment.lines:
            before = shipped_before.get(line.line_no, 0)
            through = before + line.quantity
            if shipment.shipment_id in billed:
                price = prices[line.line_no]
                released += quantize(price * through, order.currency) - quantize(
                    price * before, order.currency
                )
            shipped_before[line.line_no] = through
    return released


def _issue(order: Order, customer: Customer, billing: Billing, event_id: str) -> Invoice | None:
    seller = configured_seller()
    invoice_id = invoices.invoice_id_for(billing.source)
    draft = invoice_domain.draft(
        invoice_id=invoice_id,
        customer=customer,
        seller=seller,
        order=order,
        quantities=billing.quantities,
        shipment_ids=tuple(shipment.shipment_id for shipment in billing.shipments),
        issued_at=clock.now(),
        delivered_on=max((s.shipped_at.date() for s in billing.shipments), default=None),
    )
    guards = range(1, 2 + len(billing.guarded))  # the invoice and its source guards
    exposure = 1 + len(guards) + 2  # after the counter, the documents and the ledger entry

    def write(number: int, counter: Update) -> Invoice:
        invoice = invoice_domain.numbered(draft, number, seller)
        state = [
            counter,
            *invoices.issue_writes(invoice, billing.guarded),
            *ledger_store.post(ledger_domain.for_invoice(invoice)),
            credit.invoice_issued(customer.customer_id, billing.released, invoice.total),
        ]
        events = [invoice_domain.issued_event(invoice)]
        outbox.commit(state, events, consumed=(CONSUMER, event_id))
        return invoice

    try:
        invoice = series.issue(
            seller.entity, numbering.series(seller.invoice_prefix, draft.issued_on), write
        )
    except AlreadyConsumedError:
        logger.info("event already applied", extra={"order_id": order.order_id})
        return invoices.get(invoice_id)
    except StaleStateError as stale:
        if any(index in guards for index in stale.failed):
            logger.info("already invoiced", extra={"invoice_id": invoice_id})
            return _already_issued(billing)
        if exposure in stale.failed:
            raise ExposureMismatchError(
                f"customer {customer.customer_id}: uninvoiced orders below {billing.released}"
            ) from stale
        raise
    logger.info(
        "invoice issued",
        extra={
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "order_id": order.order_id,
        },
    )
    return invoice


def _already_issued(billing: Billing) -> Invoice | None:
    billed = invoices.billed_by(billing.guarded)
    invoice_id = billed.get(billing.source) or next(iter(billed.values()), None)
    return invoices.get(invoice_id) if invoice_id else None


def _mark_consumed(event_id: str) -> None:
    """Nothing to bill yet: only remember the event (a redelivery then finds it consumed)."""
    with suppress(AlreadyConsumedError):
        outbox.commit([], [], consumed=(CONSUMER, event_id))
