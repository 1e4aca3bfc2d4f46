"""The worklist: payments a clerk must place, manual allocations that teach, and reversals."""

from __future__ import annotations

import uuid
from decimal import Decimal

from shared.domain.ledger import Account
from shared.store import aliases
from tests.functional.accounts import call, new_staff
from tests.functional.cash import (
    CUSTOMER,
    account,
    allocate,
    event_data,
    invoice_now,
    issued_invoice,
    paid_in,
    payment_now,
    reverse,
)
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, exposure

PAYER = {"payer_name": "Acme Retail Payments Ltd", "payer_account": "DE89 3704 0044 0532 0130 00"}


def test_the_worklist_lists_waiting_payments_with_the_matchers_explanation(world: World, client):
    # Given an open invoice and two payments nobody could place
    invoice = issued_invoice(client, world)
    first = paid_in(world, str(invoice.total), payer_name="Unknown Payer SA")
    second = paid_in(world, "3.21", payer_name="Someone Else BV")

    # When a clerk reads the worklist a page at a time
    _, clerk_key = new_staff(client, "ar_clerk")
    page = call(client, "GET", "/payments?status=unapplied&limit=1", key=clerk_key)
    rest = call(
        client, "GET", f"/payments?limit=1&cursor={page.body['next_cursor']}", key=clerk_key
    )

    # Then each comes oldest first with its decision: the amount alone suggests the invoice
    assert page.status == rest.status == 200
    [waiting] = page.body["payments"]
    assert waiting["id"] == first.payment_id
    decision = waiting["matching"]
    assert decision["basis"] == "amount_only" and decision["auto"] is False
    assert decision["candidates"][0]["allocations"][0]["invoice_id"] == invoice.invoice_id
    assert "suggestion" in decision["explanation"]
    assert [p["id"] for p in rest.body["payments"]] == [second.payment_id]
    # and GET /payments/{id} shows the same decision
    shown = call(client, "GET", f"/payments/{first.payment_id}", key=clerk_key)
    assert shown.body["matching"] == decision


def test_partners_do_not_see_the_worklist_and_bad_queries_are_refused(world: World, client):
    # When a partner asks for the worklist, or staff ask with bad parameters
    partner = call(client, "GET", "/payments", key=PARTNER_KEY)
    bad_status = call(client, "GET", "/payments?status=lost")
    bad_cursor = call(client, "GET", "/payments?cursor=bm90LWEtY3Vyc29y")

    # Then the partner is forbidden and the others get 400
    assert partner.status == 403
    assert bad_status.status == 400 and bad_cursor.status == 400


def test_a_manual_allocation_pays_the_invoice_and_teaches_the_payer(world: World, client):
    # Given two invoices and a payment from a payer the matcher does not know, fitting neither
    first = issued_invoice(client, world)
    second = issued_invoice(
        client,
        world,
        purchase_order="PO-2",
        lines=[{"sku": "WIDGET-1", "quantity": 5, "unit_price": "19.99"}],
    )
    payment = paid_in(world, str(first.total + Decimal("1.00")), **PAYER)
    assert payment.status.value == "unapplied"
    _, clerk_key = new_staff(client, "ar_clerk", "Carla Clerk")

    # When a clerk allocates it to the first invoice for the customer
    answer = allocate(
        client,
        payment.payment_id,
        {
            "customer_id": CUSTOMER,
            "allocations": [{"invoice_id": first.invoice_id, "amount": str(first.total)}],
        },
        key=clerk_key,
    )

    # Then the invoice is paid by the clerk's allocation, the rest stays on the payment
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "partially_applied"
    [allocation] = answer.body["allocations"]
    assert allocation["applied_by"].startswith("stf_")
    assert allocation["evidence"] == [f"allocated by {allocation['applied_by']}"]
    assert invoice_now(first.invoice_id).status.value == "paid"
    assert exposure(CUSTOMER).unapplied_cash == Decimal("1.00")
    assert_ledger_balanced(CUSTOMER)
    # and the payer's account and name are now known to be the customer
    learnt = aliases.get_many(["account:DE89370400440532013000", "name:acme retail payments"])
    assert set(learnt.values()) == {CUSTOMER} and len(learnt) == 2

    # When the same payer later pays the second invoice's amount, naming nothing
    again = paid_in(world, str(second.total), **PAYER)

    # Then the matcher applies it on its own, through the learnt alias
    assert again.status.value == "applied" and again.customer_id == CUSTOMER
    assert again.allocations[0].invoice_id == second.invoice_id
    assert "alias" in str(again.allocations[0].evidence)
    assert invoice_now(second.invoice_id).status.value == "paid"


def test_a_manual_allocation_that_does_not_fit_is_refused_and_writes_nothing(world: World, client):
    # Given an invoice and an unidentified payment
    invoice = issued_invoice(client, world)
    payment = paid_in(world, "10.00", payer_name="Mystery Payer")
    before = snapshot(world)

    # When a clerk asks for more than the invoice owes, more than the payment holds, an
    # invoice that does not exist, no customer at all, or a customer billed in another currency
    too_much = allocate(
        client,
        payment.payment_id,
        {
            "customer_id": CUSTOMER,
            "allocations": [{"invoice_id": invoice.invoice_id, "amount": str(invoice.total + 1)}],
        },
    )
    beyond = allocate(
        client,
        payment.payment_id,
        {
            "customer_id": CUSTOMER,
            "allocations": [{"invoice_id": invoice.invoice_id, "amount": "20.00"}],
        },
    )
    unknown = allocate(
        client,
        payment.payment_id,
        {"customer_id": CUSTOMER, "allocations": [{"invoice_id": "inv_nope", "amount": "1.00"}]},
    )
    nobody = allocate(
        client,
        payment.payment_id,
        {"allocations": [{"invoice_id": invoice.invoice_id, "amount": "1.00"}]},
    )
    pounds = allocate(
        client,
        payment.payment_id,
        {
            "customer_id": "cus_globex",
            "allocations": [{"invoice_id": invoice.invoice_id, "amount": "1.00"}],
        },
    )

    # Then each answers 422 pointing at the field, and nothing is written
    pointers = [
        answer.body["errors"][0]["pointer"]
        for answer in (too_much, beyond, unknown, nobody, pounds)
    ]
    assert all(a.status == 422 for a in (too_much, beyond, unknown, nobody, pounds))
    assert pointers == [
        "#/allocations/0/amount",
        "#/allocations",
        "#/allocations/0/invoice_id",
        "#/customer_id",
        "#/customer_id",
    ]
    assert snapshot(world) == before


def test_only_clerks_and_admins_allocate_and_unknown_payments_answer_404(world: World, client):
    # Given an auditor
    _, auditor_key = new_staff(client, "auditor")
    body = {"allocations": [{"invoice_id": "inv_x", "amount": "1.00"}]}

    # When the auditor allocates, or an admin allocates an unknown payment
    forbidden = allocate(client, "pay_x", body, key=auditor_key)
    missing = call(client, "POST", "/payments/pay_missing/allocations", body=body)

    # Then
    assert forbidden.status == 403
    assert_problem_status(missing, 404)


def test_an_allocation_is_taken_back_with_who_and_why(world: World, client):
    # Given a payment applied to its invoice
    invoice = issued_invoice(client, world)
    payment = paid_in(
        world,
        str(invoice.total),
        customer_id=CUSTOMER,
        metadata={"invoice_number": invoice.number},
    )
    [allocation] = payment.allocations
    figures = exposure(CUSTOMER)

    # When a clerk reverses the allocation
    answer = reverse(client, payment.payment_id, allocation.allocation_id, "paid the wrong one")
    again = reverse(client, payment.payment_id, allocation.allocation_id)

    # Then the payment is unapplied again, the allocation kept as reversed, the invoice reopened
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "unapplied"
    assert answer.body["allocations"][0]["reversed_at"] is not None
    reopened = invoice_now(invoice.invoice_id)
    assert (reopened.status.value, reopened.amount_due) == ("open", invoice.total)
    [unapplied] = event_data(world, "PaymentUnapplied")
    assert unapplied["reason"] == "paid the wrong one" and unapplied["unapplied_by"]
    assert [e["id"] for e in event_data(world, "InvoiceReopened")] == [invoice.invoice_id]
    assert account(CUSTOMER, Account.RECEIVABLES) == invoice.total
    assert exposure(CUSTOMER).open_receivables == figures.open_receivables + invoice.total
    assert exposure(CUSTOMER).unapplied_cash == figures.unapplied_cash + invoice.total
    assert_ledger_balanced(CUSTOMER)
    # and a second reversal of the same allocation is a conflict
    assert again.status == 409
    # and the cash can be allocated anew
    redo = allocate(
        client,
        payment.payment_id,
        {"allocations": [{"invoice_id": invoice.invoice_id, "amount": str(invoice.total)}]},
    )
    assert redo.status == 201 and payment_now(payment.payment_id).status.value == "applied"


def test_a_retried_allocation_answers_the_first_result(world: World, client):
    # Given an unidentified payment and an invoice
    invoice = issued_invoice(client, world)
    payment = paid_in(world, "5.00", payer_name="Retry Payer")
    body = {
        "customer_id": CUSTOMER,
        "allocations": [{"invoice_id": invoice.invoice_id, "amount": "5.00"}],
    }
    key = str(uuid.uuid4())

    # When the same request is sent twice with one Idempotency-Key
    first = call(
        client,
        "POST",
        f"/payments/{payment.payment_id}/allocations",
        body=body,
        idempotency_key=key,
    )
    second = call(
        client,
        "POST",
        f"/payments/{payment.payment_id}/allocations",
        body=body,
        idempotency_key=key,
    )

    # Then one allocation was made and both answers are the same
    assert first.status == second.status == 201
    assert first.body == second.body
    assert len(payment_now(payment.payment_id).allocations) == 1


def assert_problem_status(answer, status: int) -> None:
    assert answer.status == status
    assert answer.headers["Content-Type"] == "application/problem+json"
