"""Many payments racing for one invoice: it ends exactly paid, and every cent is accounted for.

Slow by moto, not by the code: in-process moto snapshots every table for each transaction (to
roll a failed one back), so each of the few hundred transactions here costs about a second.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from shared.domain import ledger as ledger_domain
from shared.domain.ledger import Account
from shared.store import ledger as ledger_store
from shared.store.payments import UNIDENTIFIED
from tests.functional.cash import (
    CUSTOMER,
    deliver_to_cash_application,
    invoice_now,
    issued_invoice,
    payment_now,
    received,
)
from tests.functional.conftest import World
from tests.functional.invoicing import exposure

PAYMENTS = 24
EACH = Decimal("10.00")
THREADS = 8


def _received_bodies(world: World, payment_ids: set[str]) -> list[str]:
    """The SQS bodies of the payments' PaymentReceived events, as EventBridge delivers them."""
    return [
        json.dumps(
            {
                "version": "0",
                "id": item["event_id"],
                "detail-type": "PaymentReceived",
                "source": "otc.payments",
                "account": "123456789012",
                "time": item["occurred_at"],
                "region": "us-east-1",
                "resources": [],
                "detail": json.loads(item["detail"]),
            }
        )
        for item in world.table_items()
        if item.get("entity") == "Event"
        and item["detail_type"] == "PaymentReceived"
        and item["aggregate_id"] in payment_ids
    ]


def _until_done(body: str) -> int:
    """Deliver one message until the consumer takes it (SQS redelivers failures); attempts."""
    for attempt in range(1, 50):
        if not deliver_to_cash_application([body])["batchItemFailures"]:
            return attempt
    raise AssertionError("a payment never got its decision")


def test_many_payments_racing_for_one_invoice_pay_it_exactly_once(
    world: World, client, serializable_transactions
):
    # Given an invoice, and 24 payments that each name it, together four times its amount;
    # half from the customer's channel, half from payers nobody has identified yet
    invoice = issued_invoice(client, world)
    reference = {"invoice_number": invoice.number}
    made = [
        received(str(EACH), metadata=reference, customer_id=CUSTOMER if n % 2 else None)
        for n in range(PAYMENTS)
    ]
    bodies = _received_bodies(world, {payment.payment_id for payment in made})
    assert len(bodies) == PAYMENTS
    receivables_before = exposure(CUSTOMER).open_receivables

    # When cash application handles them all at once, from many threads
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        attempts = list(pool.map(_until_done, bodies))

    # Then the invoice is paid exactly: never more than its total
    paid = invoice_now(invoice.invoice_id)
    assert (paid.status.value, paid.amount_paid, paid.amount_due) == ("paid", invoice.total, 0)
    payments = [payment_now(payment.payment_id) for payment in made]
    applied = sum((payment.applied for payment in payments), Decimal(0))
    assert applied == invoice.total
    # every payment is applied + unapplied == its amount; the excess waits as unapplied
    assert all(payment.applied + payment.unapplied == payment.amount for payment in payments)
    unapplied = sum((payment.unapplied for payment in payments), Decimal(0))
    assert unapplied == PAYMENTS * EACH - invoice.total
    # the ledgers balance, and say what the payments and the invoice say
    customer_entries = ledger_store.entries_for(CUSTOMER)
    suspense_entries = ledger_store.entries_for(UNIDENTIFIED)
    for entries in (customer_entries, suspense_entries):
        debits = sum((p.debit for e in entries for p in e.postings), Decimal(0))
        credits = sum((p.credit for e in entries for p in e.postings), Decimal(0))
        assert debits == credits
    held_for_customer = sum(
        (p.unapplied for p in payments if p.customer_id == CUSTOMER), Decimal(0)
    )
    held_unidentified = sum((p.unapplied for p in payments if p.customer_id is None), Decimal(0))
    assert ledger_domain.customer_balance(customer_entries) == -held_for_customer
    assert ledger_domain.customer_balance(suspense_entries) == -held_unidentified
    assert ledger_domain.balances(customer_entries)[Account.RECEIVABLES] == 0
    cash = ledger_domain.balances(customer_entries)[Account.CASH]
    cash += ledger_domain.balances(suspense_entries)[Account.CASH]
    assert cash == PAYMENTS * EACH
    # and the credit figures are exact
    figures = exposure(CUSTOMER)
    assert figures.open_receivables == receivables_before - invoice.total == 0
    assert figures.unapplied_cash == held_for_customer
    print(
        f"\nrace: {PAYMENTS} payments x {EACH} for {invoice.total}: "
        f"{sum(1 for p in payments if p.allocations)} applied, "
        f"{sum(attempts)} deliveries, held {held_for_customer} + {held_unidentified} unapplied"
    )
