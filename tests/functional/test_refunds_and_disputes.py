"""Money going back: refunds beyond the unapplied cash reopen invoices; disputes pause them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from shared import clock
from shared.domain.invoice import Invoice
from shared.domain.ledger import Account
from shared.domain.payment import Payment
from shared.store import ledger as ledger_store
from tests.functional.accounts import call
from tests.functional.cash import (
    CUSTOMER,
    account,
    event_data,
    invoice_now,
    issued_invoice,
    payment_now,
    reverse,
)
from tests.functional.collections import interest, on
from tests.functional.conftest import World
from tests.functional.invoicing import assert_ledger_balanced, exposure
from tests.functional.payment_intake import (
    charge,
    dispute,
    payment_intent,
    payments,
    post_stripe,
    stripe_event,
)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _paid_by_card(client, world: World, invoice: Invoice, extra: Decimal = Decimal(0)) -> str:
    """A Stripe payment of the invoice (plus ``extra``), applied by cash application."""
    metadata = {"invoice_number": invoice.number, "customer_id": CUSTOMER}
    amount = _cents(invoice.total + extra)
    answer = post_stripe(
        client,
        stripe_event("payment_intent.succeeded", payment_intent(amount=amount, metadata=metadata)),
    )
    assert answer.status_code == 200, answer.body
    world.pump.drain()
    [payment] = payments(world)
    assert payment["status"] in ("applied", "partially_applied"), payment
    payment_id: str = payment["id"]
    return payment_id


def _refund(client, world: World, invoice: Invoice, total: Decimal, extra: Decimal) -> None:
    refunded = charge(
        amount=_cents(invoice.total + extra),
        amount_refunded=_cents(total),
        metadata={"invoice_number": invoice.number, "customer_id": CUSTOMER},
    )
    assert post_stripe(client, stripe_event("charge.refunded", refunded)).status_code == 200
    world.pump.drain()


def test_a_refund_comes_out_of_the_unapplied_cash_first(client, world: World):
    # Given an invoice paid by card with 20.00 too much
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice, extra=Decimal("20.00"))

    # When the gateway refunds the 20.00
    _refund(client, world, invoice, Decimal("20.00"), Decimal("20.00"))

    # Then the invoice stays paid and the payment is fully applied
    payment = payment_now(payment_id)
    assert (payment.refunded, payment.unapplied, payment.status.value) == (20, 0, "applied")
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert exposure(CUSTOMER).unapplied_cash == 0


def test_a_refund_beyond_the_unapplied_cash_reopens_the_newest_invoice_by_the_rest(
    client, world: World
):
    # Given an invoice paid by card with 20.00 too much
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice, extra=Decimal("20.00"))

    # When the gateway refunds 50.00
    _refund(client, world, invoice, Decimal("50.00"), Decimal("20.00"))

    # Then the 20.00 unapplied paid first, and 30.00 was taken off the allocation, no more
    payment = payment_now(payment_id)
    assert payment.refunded == Decimal("50.00")
    [allocation] = payment.allocations
    assert allocation.reversed_at is None and allocation.applied == invoice.total - 30
    assert [part.amount for part in allocation.taken_back] == [Decimal("30.00")]
    assert (payment.applied, payment.unapplied) == (invoice.total - 30, 0)
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("partially_paid", Decimal("30.00"))
    [refunded] = event_data(world, "PaymentRefunded")
    assert refunded["refund"]["amount"] == "50.00"
    [taken] = refunded["unapplied_allocations"]
    assert (taken["invoice_id"], taken["taken"]["amount"]) == (invoice.invoice_id, "30.00")
    assert [e["id"] for e in event_data(world, "InvoiceReopened")] == [invoice.invoice_id]
    # and the books agree: owed the 30.00 taken back, holding nothing
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("30.00")
    assert account(CUSTOMER, Account.CASH) == invoice.total - Decimal("30.00")
    assert ledger_store.balance(CUSTOMER) == Decimal("30.00")
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (Decimal("30.00"), 0)
    assert_ledger_balanced(CUSTOMER)


def test_a_dispute_pauses_the_invoice_and_a_won_dispute_restores_it(client, world: World):
    # Given an invoice paid by card
    invoice = issued_invoice(client, world)
    _paid_by_card(client, world, invoice)
    opened = dispute(amount=_cents(invoice.total))

    # When the cardholder disputes the payment
    post_stripe(client, stripe_event("charge.dispute.created", opened))
    world.pump.drain()
    during = invoice_now(invoice.invoice_id)
    post_stripe(client, stripe_event("charge.dispute.closed", {**opened, "status": "won"}))
    world.pump.drain()

    # Then the invoice was disputed meanwhile, and is paid again once the dispute is won
    assert during.status.value == "disputed"
    assert [e["id"] for e in event_data(world, "InvoiceDisputed")] == [invoice.invoice_id]
    assert invoice_now(invoice.invoice_id).status.value == "paid"
    assert [e["status"] for e in event_data(world, "InvoiceDisputeClosed")] == ["paid"]


def test_a_lost_dispute_keeps_the_payment_withdrawn_and_reopens_the_invoice(client, world: World):
    # Given an invoice paid by card, then disputed
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)
    opened = dispute(amount=_cents(invoice.total))
    post_stripe(client, stripe_event("charge.dispute.created", opened))
    world.pump.drain()

    # When the dispute is lost
    post_stripe(client, stripe_event("charge.dispute.closed", {**opened, "status": "lost"}))
    world.pump.drain()

    # Then the money went back: the invoice is owed again, the payment refunded in full
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("open", invoice.total)
    payment = payment_now(payment_id)
    assert (payment.status.value, payment.withdrawn) == ("refunded", invoice.total)
    assert payment.refunded == 0  # a chargeback is not a refund (Stripe's amount_refunded)
    assert account(CUSTOMER, Account.CASH) == 0
    assert account(CUSTOMER, Account.RECEIVABLES) == invoice.total
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (invoice.total, 0)
    assert_ledger_balanced(CUSTOMER)


# --- partial refunds and chargebacks move exactly their amount ----------------------------------


def _books(payment_id: str, invoice: Invoice) -> tuple[Payment, Decimal, list[tuple[str, Decimal]]]:
    """What a repeated event must leave alone: the payment, the invoice, the ledger."""
    entries = sorted((e.entry_id, e.total) for e in ledger_store.entries_for(CUSTOMER))
    return payment_now(payment_id), invoice_now(invoice.invoice_id).amount_due, entries


def _entries(kind: str) -> list[tuple[str, Decimal]]:
    return [(e.source_id, e.total) for e in ledger_store.entries_for(CUSTOMER) if e.kind == kind]


def _dispute(client, world: World, event: str, amount: Decimal, status: str, **ids: str) -> None:
    opened = dispute(status, amount=_cents(amount), **ids)
    assert post_stripe(client, stripe_event(event, opened)).status_code == 200
    world.pump.drain()


def _planned(client, world: World, invoice: Invoice, days_overdue: int) -> list[dict[str, str]]:
    """The dry run's plan lines for the customer, ``days_overdue`` after the invoice's due date."""
    assert invoice.due_on is not None
    as_of = invoice.due_on + timedelta(days=days_overdue)
    on(as_of)
    try:
        answer = call(
            client, "POST", "/collection-runs", body={"as_of": as_of.isoformat(), "dry_run": True}
        )
    finally:
        clock.set_clock(None)  # back to now: Stripe signs with the real time
    assert answer.status == 200, answer.body
    return [line for plan in answer.body["plans"] for line in plan["lines"]]


def test_a_partial_refund_reopens_the_invoice_by_exactly_the_refund(client, world: World):
    # Given an invoice paid in full by card
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)
    [allocation] = payment_now(payment_id).allocations

    # When Stripe refunds 20.00 of it (charge.refunded, amount_refunded 2000)
    _refund(client, world, invoice, Decimal("20.00"), Decimal(0))

    # Then exactly 20.00 is owed again, nothing is left unapplied
    payment = payment_now(payment_id)
    assert (payment.refunded, payment.applied, payment.unapplied) == (
        Decimal("20.00"),
        invoice.total - 20,
        0,
    )
    assert payment.status.value == "applied" and payment.allocations[0].reversed_at is None
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("partially_paid", Decimal("20.00"))
    # and the books say the same, each entry named by what caused it
    assert _entries("unapplication") == [
        (f"{allocation.allocation_id}:refund:20.00", Decimal("20.00"))
    ]
    assert _entries("refund") == [(f"{payment_id}:20.00", Decimal("20.00"))]
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("20.00")
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == 0
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (Decimal("20.00"), 0)
    assert_ledger_balanced(CUSTOMER)
    # and GET /payments/{id} shows the part taken back
    shown = call(client, "GET", f"/payments/{payment_id}").body
    [part] = shown["allocations"][0]["taken_back"]
    assert (part["amount"]["amount"], part["reference"]) == ("20.00", "refund:20.00")

    # When a clerk then takes the allocation back
    assert reverse(client, payment_id, allocation.allocation_id).status == 200

    # Then only what was still applied comes off the invoice
    assert invoice_now(invoice.invoice_id).amount_due == invoice.total
    assert payment_now(payment_id).unapplied == invoice.total - 20
    assert account(CUSTOMER, Account.RECEIVABLES) == invoice.total
    assert_ledger_balanced(CUSTOMER)


def test_a_second_partial_refund_moves_only_the_increase_and_repeats_move_nothing(
    client, world: World
):
    # Given an invoice paid by card, 20.00 of it refunded
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)
    _refund(client, world, invoice, Decimal("20.00"), Decimal(0))

    # When Stripe refunds 15.00 more (amount_refunded is cumulative: 3500)
    _refund(client, world, invoice, Decimal("35.00"), Decimal(0))

    # Then 35.00 is owed in all, in two entries of 20.00 and 15.00
    after = _books(payment_id, invoice)
    assert after[0].refunded == Decimal("35.00") and after[1] == Decimal("35.00")
    assert sorted(amount for _, amount in _entries("refund")) == [Decimal(15), Decimal(20)]
    assert sorted(amount for _, amount in _entries("unapplication")) == [
        Decimal(15),
        Decimal(20),
    ]

    # When the first event comes again late (a new delivery of amount_refunded 2000), the same
    # delivery is retried, and Stripe's refund objects' own events arrive
    older = charge(
        amount=_cents(invoice.total),
        amount_refunded=2000,
        metadata={"invoice_number": invoice.number, "customer_id": CUSTOMER},
    )
    body = stripe_event("charge.refunded", {**older, "amount_refunded": 3500})
    for delivery in (stripe_event("charge.refunded", older), body, body):
        assert post_stripe(client, delivery).status_code == 200
    refund_object = {
        "id": "re_3QAcme0001",
        "object": "refund",
        "amount": 1500,
        "charge": "ch_3QAcme0001",
        "payment_intent": "pi_3QAcme0001",
        "currency": "eur",
        "status": "succeeded",
    }
    for event in ("refund.created", "refund.updated", "charge.refund.updated"):
        assert post_stripe(client, stripe_event(event, refund_object)).status_code == 200
    world.pump.drain()

    # Then nothing moved
    assert _books(payment_id, invoice) == after
    assert_ledger_balanced(CUSTOMER)


def test_a_partial_dispute_lost_withdraws_exactly_its_amount(client, world: World):
    # Given an invoice paid in full by card
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)

    # When the cardholder disputes 30.00 of it
    _dispute(client, world, "charge.dispute.created", Decimal("30.00"), "needs_response")

    # Then exactly 30.00 is withdrawn and owed again, the invoice held as disputed meanwhile
    payment = payment_now(payment_id)
    assert (payment.withdrawn, payment.applied, payment.unapplied) == (
        Decimal("30.00"),
        invoice.total - 30,
        0,
    )
    during = invoice_now(invoice.invoice_id)
    assert (during.status.value, during.amount_due) == ("disputed", Decimal("30.00"))
    assert _entries("chargeback") == [(f"{payment_id}:dp_1QAcme0001", Decimal("30.00"))]
    assert [e["id"] for e in event_data(world, "InvoiceDisputed")] == [invoice.invoice_id]
    [disputed] = event_data(world, "PaymentDisputed")
    assert disputed["chargeback"]["amount"]["amount"] == "30.00"
    assert _planned(client, world, invoice, 30) == []  # a disputed invoice is not dunned

    # When the dispute is lost, and Stripe delivers the closing twice
    for _ in range(2):
        _dispute(client, world, "charge.dispute.closed", Decimal("30.00"), "lost")

    # Then the 30.00 stays withdrawn and is owed, nothing more moved
    payment = payment_now(payment_id)
    assert (payment.withdrawn, payment.refunded, payment.disputed) == (Decimal("30.00"), 0, False)
    owed = invoice_now(invoice.invoice_id)
    assert (owed.status.value, owed.amount_due) == ("partially_paid", Decimal("30.00"))
    assert len(_entries("chargeback")) == 1 and _entries("chargeback_reversal") == []
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("30.00")
    assert account(CUSTOMER, Account.CASH) == invoice.total - 30
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (Decimal("30.00"), 0)
    assert_ledger_balanced(CUSTOMER)
    [closed] = event_data(world, "InvoiceDisputeClosed")
    assert (closed["status"], closed["amount_due"]["amount"]) == ("partially_paid", "30.00")
    # and the customer's statement shows the chargeback, its balance agreeing with its aging
    statement = call(client, "GET", f"/customers/{CUSTOMER}/statement").body
    [line] = [line for line in statement["lines"] if line["kind"] == "chargeback"]
    assert (line["reference"], line["description"]) == (payment_id, "Chargeback")
    assert line["debit"]["amount"] == "30.00"
    assert statement["closing_balance"]["amount"] == "30.00"
    assert statement["aging"]["total"]["amount"] == "30.00"

    # And the collection run now plans the 30.00, no more
    [line] = _planned(client, world, invoice, 30)
    assert (line["invoice_id"], line["amount_due"]) == (invoice.invoice_id, "30.00")


def test_a_partial_dispute_won_returns_the_money_and_applies_it_again(client, world: World):
    # Given an invoice paid in full by card, 30.00 of it disputed
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)
    _dispute(client, world, "charge.dispute.created", Decimal("30.00"), "needs_response")

    # When the dispute is won, the closing is delivered twice and the opening again late
    for _ in range(2):
        _dispute(client, world, "charge.dispute.closed", Decimal("30.00"), "won")
    _dispute(client, world, "charge.dispute.created", Decimal("30.00"), "needs_response")

    # Then the 30.00 came back once and pays the invoice again
    payment = payment_now(payment_id)
    assert (payment.withdrawn, payment.applied, payment.unapplied) == (0, invoice.total, 0)
    assert (payment.status.value, payment.disputed) == ("applied", False)
    paid = invoice_now(invoice.invoice_id)
    assert (paid.status.value, paid.amount_due) == ("paid", 0)
    assert _entries("chargeback") == [(f"{payment_id}:dp_1QAcme0001", Decimal("30.00"))]
    assert _entries("chargeback_reversal") == [(f"{payment_id}:dp_1QAcme0001", Decimal("30.00"))]
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert account(CUSTOMER, Account.CASH) == invoice.total
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (0, 0)
    assert_ledger_balanced(CUSTOMER)
    assert [e["status"] for e in event_data(world, "InvoiceDisputeClosed")] == ["paid"]
    assert _planned(client, world, invoice, 30) == []


def test_after_a_partial_refund_the_collection_run_plans_only_what_is_open(client, world: World):
    # Given an invoice paid in full by card, then 20.00 of it refunded
    invoice = issued_invoice(client, world)
    _paid_by_card(client, world, invoice)
    _refund(client, world, invoice, Decimal("20.00"), Decimal(0))

    # When the collection run is planned 30 days after the due date
    [line] = _planned(client, world, invoice, 30)

    # Then it chases the 20.00 and charges interest on the 20.00 only
    assert (line["invoice_id"], line["amount_due"]) == (invoice.invoice_id, "20.00")
    assert line["interest"] == str(interest((Decimal("20.00"), 30)))


def test_a_dispute_seen_first_closed_as_lost_withdraws_once(client, world: World):
    # Given an invoice paid in full by card
    invoice = issued_invoice(client, world)
    payment_id = _paid_by_card(client, world, invoice)

    # When Stripe's closing (lost) overtakes the opening, and the opening and Stripe's balance
    # notifications (funds_withdrawn, funds_reinstated: not acted on) arrive after it
    _dispute(client, world, "charge.dispute.closed", Decimal("30.00"), "lost")
    after = _books(payment_id, invoice)
    _dispute(client, world, "charge.dispute.created", Decimal("30.00"), "needs_response")
    _dispute(client, world, "charge.dispute.funds_withdrawn", Decimal("30.00"), "needs_response")
    _dispute(client, world, "charge.dispute.funds_reinstated", Decimal("30.00"), "won")

    # Then the 30.00 was withdrawn once, and is owed (not held as disputed)
    assert _books(payment_id, invoice) == after
    payment, amount_due, _ = after
    assert (payment.withdrawn, amount_due) == (Decimal("30.00"), Decimal("30.00"))
    assert invoice_now(invoice.invoice_id).status.value == "partially_paid"
    assert _entries("chargeback") == [(f"{payment_id}:dp_1QAcme0001", Decimal("30.00"))]
    assert_ledger_balanced(CUSTOMER)
