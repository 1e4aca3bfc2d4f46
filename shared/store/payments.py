"""Payments in the single table: the payment, the guard of its source, its listings.

- payment: ``PAYMENT#<id>`` / ``PAYMENT``: the payment's wire form (JSON) and, as attributes,
  what listings and conditions need (status, customer, amounts, version);
- source guard: ``PAYMENTSOURCE#<source>#<reference>`` / ``PAYMENTSOURCE``: the id of the one
  payment a gateway payment, bank entry or clerk's reference became (``Payment.source_reference``).
  It is put (``Put.new``) with the payment, so however often - and through however many events -
  a channel reports one payment, it is received once.

Index keys of a payment:

- gsi1: ``CUSTOMER#<customer id, or UNIDENTIFIED>`` / ``PAYMENT#<received at>#<id>``;
- gsi2: ``PAYMENTSTATUS#<status>`` / ``<received at>#<id>``: the cash-application worklist reads
  ``unapplied`` and ``partially_applied``, oldest first.

Receiving a payment is ONE transaction: the payment, its source guard, its journal entry (cash
debited, unapplied cash credited), the customer's ``unapplied_cash`` when the customer is known,
and ``PaymentReceived``. A payment whose customer is not known yet (most bank entries) is posted
to the ``UNIDENTIFIED`` ledger: a suspense sub-ledger holding money received from payers not yet
identified; cash application moves it to the customer's ledger once it knows whose it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from shared import clock
from shared.domain import ledger as ledger_domain
from shared.domain import payment as payment_domain
from shared.domain.events import DomainEvent
from shared.domain.payment import Payment, PaymentStatus
from shared.store import credit, outbox, readable, table
from shared.store import ledger as ledger_store
from shared.store.outbox import StaleStateError
from shared.store.table import Item, Page, Put, Write

SORT_KEY = "PAYMENT"
SOURCE_SORT_KEY = "PAYMENTSOURCE"
UNIDENTIFIED = "UNIDENTIFIED"
MAX_ID_LENGTH = 64
_GUARD_INDEX = 1  # in receive_writes: the payment, then its source guard


class DuplicatePaymentError(Exception):
    """The source already became a payment: ``payment_id`` names it."""

    def __init__(self, source: str, reference: str, payment_id: str | None) -> None:
        super().__init__(f"{source} payment {reference} was received before as {payment_id}")
        self.source, self.reference, self.payment_id = source, reference, payment_id


def payment_key(payment_id: str) -> tuple[str, str]:
    return f"PAYMENT#{payment_id}", SORT_KEY


def source_key(source: str, reference: str) -> tuple[str, str]:
    return f"PAYMENTSOURCE#{source}#{reference}", SOURCE_SORT_KEY


def ledger_customer(payment: Payment) -> str:
    """Whose ledger the payment is posted to: its customer's, else the suspense one."""
    return payment.customer_id or UNIDENTIFIED


# --- mapping ----------------------------------------------------------------------------------


def to_item(payment: Payment) -> Item:
    pk, sk = payment_key(payment.payment_id)
    received_at = clock.iso(payment.received_at)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Payment",
        "gsi1pk": f"CUSTOMER#{ledger_customer(payment)}",
        "gsi1sk": f"PAYMENT#{received_at}#{payment.payment_id}",
        "gsi2pk": f"PAYMENTSTATUS#{payment.status.value}",
        "gsi2sk": f"{received_at}#{payment.payment_id}",
        "payment_id": payment.payment_id,
        "source": payment.source,
        "external_id": payment.external_id,
        "customer_id": payment.customer_id,
        "currency": payment.currency,
        "amount": payment.amount,
        "unapplied": payment.unapplied,
        "status": payment.status.value,
        "received_at": received_at,
        "version": payment.version,
        "document": table.compressed(
            json.dumps(payment.to_wire(), separators=(",", ":"), sort_keys=True)
        ),
    }


@readable.reader
def from_item(item: Item) -> Payment:
    return payment_domain.from_wire(json.loads(item["document"]))


def source_guard(payment: Payment) -> Put:
    pk, sk = source_key(payment.source, payment.source_reference)
    return Put.new(
        {
            "pk": pk,
            "sk": sk,
            "entity": "PaymentSource",
            "source": payment.source,
            "reference": payment.source_reference,
            "payment_id": payment.payment_id,
        }
    )


# --- writes -------------------------------------------------------------------------------------


def receive_writes(payment: Payment) -> list[Write]:
    """The new payment, its source guard, its journal entry and (customer known) the credit move.

    The caller vouches that ``customer_id`` names an existing customer billed in the payment's
    currency (the credit figures are in that currency).
    """
    entry = ledger_domain.for_payment(
        ledger_customer(payment),
        payment.currency,
        payment.amount,
        payment.payment_id,
        payment.received_at,
        cash_account=payment_domain.cash_dimension(payment),
    )
    writes: list[Write] = [Put.new(to_item(payment)), source_guard(payment)]
    writes += ledger_store.post(entry)
    if payment.customer_id:
        writes.append(credit.add_unapplied_cash(payment.customer_id, payment.amount))
    return writes


def receive(
    payment: Payment,
    *,
    events: tuple[DomainEvent, ...] | None = None,
    consumed: tuple[str, str] | None = None,
    extra: Sequence[Write] = (),
) -> None:
    """Commit ``receive_writes`` (and ``extra``, e.g. index rows) with ``PaymentReceived`` (or
    ``events``) and ``consumed``.

    Raises ``DuplicatePaymentError`` when the source became a payment before, and the outbox's
    ``AlreadyConsumedError`` when ``consumed`` was applied before.
    """
    chosen = events if events is not None else (payment_domain.received_event(payment),)
    try:
        outbox.commit([*receive_writes(payment), *extra], chosen, consumed=consumed)
    except StaleStateError as stale:
        if _GUARD_INDEX not in stale.failed:
            raise
        existing = source_payment_id(payment.source, payment.source_reference)
        raise DuplicatePaymentError(payment.source, payment.source_reference, existing) from stale


def replacing(payment: Payment, before: Payment) -> Put:
    """The payment's next version, refused if anyone wrote since ``before`` was read."""
    return Put.replacing(to_item(payment), before.version)


def refund_writes(before: Payment, after: Payment, amount: Decimal, refund_id: str) -> list[Write]:
    """The refunded payment, the refund's journal entry and (customer known) the credit move.

    ``refund_id`` names the refund for good (e.g. the payment id and the gateway's cumulative
    refunded amount): a second write of the same refund collides with the first's entry.
    """
    entry = ledger_domain.for_refund(
        ledger_customer(after),
        after.currency,
        amount,
        refund_id,
        clock.now(),
        cash_account=payment_domain.cash_dimension(after),
        payment_id=after.payment_id,
    )
    writes: list[Write] = [replacing(after, before), *ledger_store.post(entry)]
    if after.customer_id:
        writes.append(credit.release_unapplied_cash(after.customer_id, amount))
    return writes


# --- reads --------------------------------------------------------------------------------------


def get(payment_id: str) -> Payment | None:
    if not payment_id or len(payment_id) > MAX_ID_LENGTH:
        return None
    item = table.get(*payment_key(payment_id))
    return from_item(item) if item else None


def source_payment_id(source: str, reference: str) -> str | None:
    """The id of the payment ``(source, reference)`` became, if it did."""
    item = table.get(*source_key(source, reference))
    return item["payment_id"] if item else None


def by_source(source: str, reference: str) -> Payment | None:
    """The payment a gateway payment, bank entry or clerk's reference became, if any.

    ``reference`` is what ``Payment.source_reference`` gives: the external id, or for manual
    payments ``<method>:<reference>`` (``payment_domain.source_reference`` builds it).
    """
    payment_id = source_payment_id(source, reference)
    return get(payment_id) if payment_id else None


def list_by_status(status: PaymentStatus, *, limit: int = 50, cursor: str | None = None) -> Page:
    """Payments in ``status``, oldest received first (the cash-application worklist)."""
    return table.query_page(
        f"PAYMENTSTATUS#{status.value}", index="gsi2", limit=limit, cursor=cursor
    )


def list_for_customer(
    customer_id: str | None,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """A customer's payments (``None``: the unidentified ones), newest first.

    ``since`` and ``until`` are ISO dates or timestamps bounding ``received_at``.
    """
    return table.customer_page(
        customer_id or UNIDENTIFIED, "PAYMENT", since=since, until=until, limit=limit, cursor=cursor
    )
