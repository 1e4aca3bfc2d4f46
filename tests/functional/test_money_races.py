"""Requests racing for one stock level, invoice or payment: one wins, the others answer 409
(never 500), and what they move moves once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from functions.catalog.set_stock import set_stock
from functions.dunning.promises import PromiseRequest, record_promise
from functions.invoicing.credit_notes import CreditNoteRequest, issue_credit_note
from functions.payments import allocate_manually as allocation
from functions.payments.allocate_manually import AllocationRequest, allocate_manually
from functions.payments.unapply import ReversalRequest, unapply_allocation
from shared import clock, errors
from shared.domain.invoice import Invoice
from shared.domain.stock import SetOnHandRequest
from shared.store import dunning, stock
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice, paid_in, payment_now
from tests.functional.conftest import World
from tests.functional.invoicing import exposure
from tests.functional.races import after_both_read, conflicts, principal, race, statuses

PAYER = {"payer_name": "Acme Retail Payments Ltd", "payer_account": "DE89 3704 0044 0532 0130 00"}


def _events(world: World, detail_type: str) -> int:
    return sum(
        1
        for item in world.written()
        if item.get("entity") == "Event" and item["detail_type"] == detail_type
    )


def whole_of(invoice: Invoice) -> AllocationRequest:
    """An allocation of the invoice's whole total to it, for the customer."""
    return AllocationRequest.model_validate(
        {
            "customer_id": CUSTOMER,
            "allocations": [{"invoice_id": invoice.invoice_id, "amount": str(invoice.total)}],
        }
    )


def test_two_counts_of_one_stock_version_set_it_once(world: World, serializable_transactions):
    # Given WIDGET-1's level at its version
    level = stock.get_level("WIDGET-1")

    def count(on_hand: int) -> object:
        request = SetOnHandRequest.model_validate({"on_hand": on_hand, "version": level.version})
        return set_stock("WIDGET-1", request)

    # When two counts of that version arrive at once
    outcomes = race(lambda: count(700), lambda: count(900))

    # Then one sets it and the other answers 409 with the version the first made
    assert statuses(outcomes) == [200, 409], outcomes
    after = stock.get_level("WIDGET-1")
    [refusal] = conflicts(outcomes)
    assert refusal["type"].endswith("/stale-version")
    assert refusal["current_version"] == after.version == level.version + 1
    assert after.available in (700 - level.reserved, 900 - level.reserved)
    assert _events(world, "StockLevelSet") == 1


def test_two_credit_notes_that_together_exceed_the_invoice_credit_it_once(
    world: World, client, serializable_transactions
):
    # Given an issued invoice
    invoice = issued_invoice(client, world)
    admin = principal()
    request = CreditNoteRequest.model_validate({"reason": "returned"})

    # When two notes crediting all of it arrive at once
    outcomes = race(
        lambda: issue_credit_note(invoice.invoice_id, request, admin),
        lambda: issue_credit_note(invoice.invoice_id, request, admin),
    )

    # Then one note is issued and the other answers 409: never more than the invoice credited
    assert statuses(outcomes) == [200, 409], outcomes
    [refusal] = conflicts(outcomes)
    assert refusal["type"].endswith("/fully-credited"), refusal
    assert refusal["current_version"] == invoice_now(invoice.invoice_id).version
    [note] = [outcome.body for outcome in outcomes if outcome.status == 200]
    assert note.total == invoice.total
    assert invoice_now(invoice.invoice_id).status.value == "credited"
    assert _events(world, "CreditNoteIssued") == 1


def test_two_promises_at_once_leave_one_promise_standing(
    world: World, client, serializable_transactions
):
    # Given an issued invoice without a promise
    invoice = issued_invoice(client, world)
    admin = principal()
    by = (clock.now() + timedelta(days=7)).date()

    def promise(amount: str) -> object:
        request = PromiseRequest.model_validate({"promised_on": by.isoformat(), "amount": amount})
        return record_promise(invoice.invoice_id, request, admin)

    # When two promises on it arrive at once
    outcomes = race(lambda: promise("10.00"), lambda: promise("20.00"))

    # Then none fails with 5xx; each answer is the promise recorded or 409 (the loser, or a
    # second promise superseding the first when it came later), and the standing promise is one
    # that was answered
    assert set(statuses(outcomes)) <= {200, 409} and 200 in statuses(outcomes), outcomes
    recorded = [outcome.body for outcome in outcomes if outcome.status == 200]
    assert _events(world, "PromiseToPayRecorded") == len(recorded)
    standing = dunning.states([invoice.invoice_id])[invoice.invoice_id].promise
    assert standing is not None
    assert standing.promise_id in {body["promise_id"] for body in recorded}
    for refusal in conflicts(outcomes):
        assert refusal["type"].endswith("/version-mismatch"), refusal


def test_two_allocations_of_one_payment_apply_it_once(
    world: World, client, serializable_transactions, monkeypatch
):
    # Given an invoice and an unapplied payment of exactly its total
    invoice = issued_invoice(client, world)
    payment = paid_in(world, str(invoice.total), **PAYER)
    assert payment.status.value == "unapplied"
    receivables = exposure(CUSTOMER).open_receivables
    admin = principal()
    request = whole_of(invoice)

    # When two clerks allocate all of it to the invoice at once, both reading the payment
    # before either writes
    monkeypatch.setattr(allocation, "_found", after_both_read(allocation._found))
    outcomes = race(
        lambda: allocate_manually(payment.payment_id, request, admin),
        lambda: allocate_manually(payment.payment_id, request, admin),
    )

    # Then one applies it, the other answers 409 with the payment's version, and the money
    # moved once
    assert statuses(outcomes) == [200, 409], outcomes
    [refusal] = conflicts(outcomes)
    assert refusal["current_version"] == payment_now(payment.payment_id).version
    assert payment_now(payment.payment_id).applied == invoice.total
    paid = invoice_now(invoice.invoice_id)
    assert (paid.status.value, paid.amount_due) == ("paid", Decimal(0))
    assert exposure(CUSTOMER).open_receivables == receivables - invoice.total


def test_an_allocation_overtaken_between_its_reads_answers_409_as_if_it_came_second(
    world: World, client, monkeypatch
):
    # Given an invoice and an unapplied payment of exactly its total
    invoice = issued_invoice(client, world)
    payment = paid_in(world, str(invoice.total), **PAYER)
    admin = principal()
    request = whole_of(invoice)
    read = allocation._found
    overtaken: list[str] = []

    def read_then_overtaken(payment_id: str):
        found = read(payment_id)
        if not overtaken:  # the other clerk's whole allocation lands between this read and
            overtaken.append(payment_id)  # the invoice's
            allocate_manually(payment_id, request, admin)
        return found

    monkeypatch.setattr(allocation, "_found", read_then_overtaken)

    # When the clerk's allocation reads the payment, the other clerk's pays the invoice, and
    # then the first reads the invoice (now paid)
    with pytest.raises(errors.Conflict) as refused:
        allocate_manually(payment.payment_id, request, admin)

    # Then it answers what it would have answered coming second, 409 with the payment's
    # version, not a 422 judged on a payment that no longer is
    assert refused.value.kind == "not-allocatable"
    assert refused.value.extensions["current_version"] == payment_now(payment.payment_id).version
    assert payment_now(payment.payment_id).applied == invoice.total


def test_two_reversals_of_one_allocation_take_it_back_once(
    world: World, client, serializable_transactions
):
    # Given an invoice paid by an allocation
    invoice = issued_invoice(client, world)
    payment = paid_in(world, str(invoice.total), **PAYER)
    admin = principal()
    request = whole_of(invoice)
    allocate_manually(payment.payment_id, request, admin)
    [allocation] = payment_now(payment.payment_id).allocations
    receivables = exposure(CUSTOMER).open_receivables
    reversal = ReversalRequest.model_validate({"reason": "wrong invoice"})

    # When two clerks take it back at once
    outcomes = race(
        *[lambda: unapply_allocation(payment.payment_id, allocation.allocation_id, reversal, admin)]
        * 2
    )

    # Then one takes it back, the other answers 409, and the invoice is owed once more, once
    assert statuses(outcomes) == [200, 409], outcomes
    [refusal] = conflicts(outcomes)
    assert refusal["type"].endswith("/already-reversed"), refusal
    assert refusal["current_version"] == payment_now(payment.payment_id).version
    assert payment_now(payment.payment_id).applied == 0
    assert invoice_now(invoice.invoice_id).amount_due == invoice.total
    assert exposure(CUSTOMER).open_receivables == receivables + invoice.total
    assert _events(world, "PaymentUnapplied") == 1
