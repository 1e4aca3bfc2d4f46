"""Customer credits over the API: a credit note on a paid invoice, overpayments and unapplied
payments are one kind of thing, listed in one place, applied to open invoices and paid back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from functions.credits import apply_credit
from shared.domain import webhooks
from shared.domain.credits import CreditKind
from shared.domain.ledger import Account
from shared.store import invoices
from tests.functional.accounts import Answer, call, new_staff
from tests.functional.cash import (
    CUSTOMER,
    account,
    event_data,
    invoice_now,
    issued_invoice,
    ledger_entries,
    paid_in,
    payment_now,
)
from tests.functional.conftest import World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, credit_note, exposure
from tests.functional.payment_intake import (
    charge,
    payment_intent,
    post_stripe,
    stripe_event,
)
from tests.functional.payment_intake import payments as payment_items
from tests.functional.races import principal, race
from tests.functional.stripe_http import RecordedStripe, recorded_stripe


def credits_of(client: Any, customer_id: str = CUSTOMER, **kwargs: Any) -> Answer:
    return call(client, "GET", f"/customers/{customer_id}/credits", **kwargs)


def apply(client: Any, body: Any, *, customer_id: str = CUSTOMER, **kwargs: Any) -> Answer:
    return call(
        client, "POST", f"/customers/{customer_id}/credits/applications", body=body, **kwargs
    )


def refund(client: Any, body: Any, *, customer_id: str = CUSTOMER, **kwargs: Any) -> Answer:
    return call(client, "POST", f"/customers/{customer_id}/credits/refunds", body=body, **kwargs)


def assert_problem(answer: Answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/" + kind), answer.body


@pytest.fixture
def credited(world: World, client: Any) -> dict[str, Any]:
    """A 71.50 invoice paid in full by bank, then credited whole: 71.50 owed to the customer."""
    invoice = issued_invoice(client, world)
    assert invoice.total == Decimal("71.50")
    payment = paid_in(world, "71.50", customer_id=CUSTOMER, remittance=invoice.number)
    assert invoice_now(invoice.invoice_id).status.value == "paid", payment
    answer = credit_note(client, invoice.invoice_id, {"reason": "Goods returned"})
    assert answer.status == 201, answer.body
    world.pump.drain()
    return {"invoice": invoice, "note": answer.body, "payment": payment}


def test_a_credit_note_on_a_paid_invoice_is_a_credit_of_the_customer(
    world: World, client: Any, credited: dict[str, Any]
) -> None:
    note = credited["note"]

    # When the AR clerk reads the customer's credits
    answer = credits_of(client)

    # Then the credit note's 71.50 is one open credit, and the credit figures say so too
    assert answer.status == 200, answer.body
    [credit] = answer.body["credits"]
    assert credit["source"] == {"kind": "credit_note", "id": note["id"]}
    assert credit["reference"] == note["number"]
    assert credit["original_amount"] == {"amount": "71.50", "currency": "EUR"}
    assert credit["remaining"] == {"amount": "71.50", "currency": "EUR"}
    assert answer.body["total"] == {"amount": "71.50", "currency": "EUR"}
    assert answer.body["credit"]["unapplied_cash"] == "71.50"
    assert answer.body["credit"]["open_receivables"] == "0.00"
    # ... and agree with the ledger: 71.50 held on unapplied cash, nothing receivable
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == Decimal("-71.50")
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert exposure(CUSTOMER).unapplied_cash == Decimal("71.50")
    assert_ledger_balanced(CUSTOMER)
    # the payments listing keeps its meaning: the payment itself is fully applied
    assert call(client, "GET", "/payments?status=unapplied").body["payments"] == []


def test_the_clerk_applies_the_credit_to_the_next_invoice(
    world: World, client: Any, credited: dict[str, Any]
) -> None:
    note = credited["note"]
    next_invoice = issued_invoice(client, world)
    assert exposure(CUSTOMER).open_receivables == Decimal("71.50")

    # When an AR clerk applies 50.00 of the credit to the next invoice
    _, clerk_key = new_staff(client, "ar_clerk")
    body = {
        "source": {"kind": "credit_note", "id": note["id"]},
        "invoice_id": next_invoice.invoice_id,
        "amount": "50.00",
    }
    answer = apply(client, body, key=clerk_key, idempotency_key="apply-1")

    # Then the invoice's amount due and the credit's remainder both go down by 50.00
    assert answer.status == 201, answer.body
    assert answer.body["amount"] == {"amount": "50.00", "currency": "EUR"}
    assert answer.body["credit"]["remaining"]["amount"] == "21.50"
    assert answer.body["invoice"]["amount_due"]["amount"] == "21.50"
    assert invoice_now(next_invoice.invoice_id).amount_due == Decimal("21.50")
    [entry] = [e for e in ledger_entries(CUSTOMER) if e.kind == "credit_application"]
    assert entry.invoice_id == next_invoice.invoice_id
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.UNAPPLIED_CASH, Decimal("50.00"), Decimal(0)),
        (Account.RECEIVABLES, Decimal(0), Decimal("50.00")),
    }
    figures = exposure(CUSTOMER)
    assert (figures.open_receivables, figures.unapplied_cash) == (
        Decimal("21.50"),
        Decimal("21.50"),
    )
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("21.50")
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == Decimal("-21.50")
    assert_ledger_balanced(CUSTOMER)
    [applied] = event_data(world, "CreditApplied")
    assert (
        applied["invoice_id"] == next_invoice.invoice_id and applied["amount"]["amount"] == "50.00"
    )
    # and a partner subscribed to credit applications gets what names them (shared.domain.webhooks)
    assert webhooks.shared_data("CreditApplied", applied) == {
        "credit_id": applied["source"]["id"],
        "customer_id": CUSTOMER,
        "invoice_id": next_invoice.invoice_id,
        "invoice_number": next_invoice.number,
        "currency": "EUR",
        "amount": {"amount": "50.00", "currency": "EUR"},
    }

    # When the request is retried with the same key, nothing moves again
    before = snapshot(world)
    again = apply(client, body, key=clerk_key, idempotency_key="apply-1")
    assert (again.status, again.body) == (answer.status, answer.body)
    assert snapshot(world) == before

    # When the rest is applied, the invoice is paid and the credit is used up
    rest = apply(client, {**body, "amount": "21.50"})
    assert rest.status == 201, rest.body
    assert rest.body["invoice"]["status"] == "paid"
    assert credits_of(client).body["credits"] == []
    assert credits_of(client).body["total"]["amount"] == "0.00"
    assert len(event_data(world, "InvoicePaid")) == 2  # the first invoice by cash, this one
    assert exposure(CUSTOMER).open_receivables == 0 and exposure(CUSTOMER).unapplied_cash == 0


def test_over_application_and_foreign_invoices_are_refused_and_write_nothing(
    world: World, client: Any, credited: dict[str, Any]
) -> None:
    note = credited["note"]
    next_invoice = issued_invoice(client, world)
    source = {"kind": "credit_note", "id": note["id"]}

    # beyond the credit, beyond the invoice's amount due
    bigger = issued_invoice(
        client, world, lines=[{"sku": "WIDGET-1", "quantity": 10, "unit_price": "19.99"}]
    )
    before = snapshot(world)
    over_credit = apply(
        client, {"source": source, "invoice_id": bigger.invoice_id, "amount": "71.51"}
    )
    assert_problem(over_credit, 422, "over-application")
    over_invoice = apply(
        client, {"source": source, "invoice_id": next_invoice.invoice_id, "amount": "71.51"}
    )
    assert_problem(over_invoice, 422, "over-application")
    # a paid invoice, an unknown one, too many decimals
    paid = apply(
        client,
        {"source": source, "invoice_id": credited["invoice"].invoice_id, "amount": "1.00"},
    )
    assert_problem(paid, 422, "credit-application-refused")
    unknown = apply(client, {"source": source, "invoice_id": "inv_nope", "amount": "1.00"})
    assert_problem(unknown, 422, "credit-application-refused")
    cents = apply(
        client, {"source": source, "invoice_id": next_invoice.invoice_id, "amount": "1.001"}
    )
    assert_problem(cents, 422, "credit-application-refused")
    # an unknown credit, an unknown customer
    missing = apply(
        client,
        {
            "source": {"kind": "credit_note", "id": "cn_nope"},
            "invoice_id": next_invoice.invoice_id,
            "amount": "1.00",
        },
    )
    assert_problem(missing, 404, "not-found")
    nobody = apply(
        client,
        {"source": source, "invoice_id": next_invoice.invoice_id, "amount": "1.00"},
        customer_id="cus_nope",
    )
    assert_problem(nobody, 404, "not-found")
    # a bad body
    bad = apply(client, {"source": {"kind": "gift", "id": "x"}, "invoice_id": "i", "amount": "1"})
    assert_problem(bad, 422, "validation-error")
    assert snapshot(world) == before


def test_partners_and_read_only_staff_may_not_apply_or_list_credits(
    world: World, client: Any, credited: dict[str, Any]
) -> None:
    from tests.functional.conftest import PARTNER_KEY

    _, manager_key = new_staff(client, "credit_manager")
    body = {
        "source": {"kind": "credit_note", "id": credited["note"]["id"]},
        "invoice_id": credited["invoice"].invoice_id,
        "amount": "1.00",
    }
    assert apply(client, body, key=manager_key).status == 403
    assert apply(client, body, key=PARTNER_KEY).status == 403
    assert credits_of(client, key=PARTNER_KEY).status == 403
    assert credits_of(client, key=manager_key).status == 200


def test_two_clerks_applying_the_same_credit_at_once_move_it_once(
    world: World, client: Any, credited: dict[str, Any], serializable_transactions: None
) -> None:
    note = credited["note"]
    first, second = issued_invoice(client, world), issued_invoice(client, world)

    def applying(invoice_id: str) -> Any:
        request = apply_credit.CreditApplicationRequest(
            source=apply_credit.CreditSource(kind=CreditKind.CREDIT_NOTE, id=note["id"]),
            invoice_id=invoice_id,
            amount="71.50",
        )
        return lambda: apply_credit.apply_credit(CUSTOMER, request, principal())

    outcomes = race(applying(first.invoice_id), applying(second.invoice_id))

    # one applied, the other was told the credit changed (409) or is used up (422)
    assert sorted(outcome.status for outcome in outcomes)[0] == 200
    assert sorted(outcome.status for outcome in outcomes)[1] in (409, 422)
    dues = sorted(invoice_now(i.invoice_id).amount_due for i in (first, second))
    assert dues == [Decimal(0), Decimal("71.50")]
    assert len([e for e in ledger_entries(CUSTOMER) if e.kind == "credit_application"]) == 1
    assert exposure(CUSTOMER).unapplied_cash == 0
    assert_ledger_balanced(CUSTOMER)


def test_an_overpayment_is_a_credit_applied_through_cash_application(
    world: World, client: Any
) -> None:
    invoice = issued_invoice(client, world)
    # Given 100.00 paid for the 71.50 invoice: 28.50 left over
    payment = paid_in(world, "100.00", customer_id=CUSTOMER, remittance=invoice.number)
    assert payment_now(payment.payment_id).unapplied == Decimal("28.50")
    [credit] = credits_of(client).body["credits"]
    assert credit["source"] == {"kind": "payment", "id": payment.payment_id}
    assert credit["original_amount"]["amount"] == "100.00"
    assert credit["remaining"]["amount"] == "28.50"
    assert credits_of(client).body["credit"]["unapplied_cash"] == "28.50"

    # When the clerk applies it to the next invoice
    next_invoice = issued_invoice(client, world)
    answer = apply(
        client,
        {
            "source": {"kind": "payment", "id": payment.payment_id},
            "invoice_id": next_invoice.invoice_id,
            "amount": "28.50",
        },
    )

    # Then it is an allocation of the payment, like any cash application
    assert answer.status == 201, answer.body
    assert answer.body["invoice"]["amount_due"]["amount"] == "43.00"
    after = payment_now(payment.payment_id)
    assert after.unapplied == 0
    assert [a.invoice_id for a in after.active_allocations][-1] == next_invoice.invoice_id
    assert credits_of(client).body["credits"] == []
    assert exposure(CUSTOMER).unapplied_cash == 0
    assert exposure(CUSTOMER).open_receivables == Decimal("43.00")
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("43.00")
    assert_ledger_balanced(CUSTOMER)
    assert invoices.get(next_invoice.invoice_id) is not None


# --- refunds ---------------------------------------------------------------------------------


def test_a_credit_note_credit_is_paid_back_by_a_recorded_bank_transfer(
    world: World, client: Any, credited: dict[str, Any]
) -> None:
    note = credited["note"]
    body = {
        "source": {"kind": "credit_note", "id": note["id"]},
        "amount": "30.00",
        "method": "bank_transfer",
        "reference": "SEPA-OUT-2026-0042",
    }

    # When the clerk records the 30.00 sent back by bank transfer
    answer = refund(client, body, idempotency_key="refund-1")

    # Then the refund is complete, the credit has 41.50 left, the books say so
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "completed"
    assert answer.body["amount"] == {"amount": "30.00", "currency": "EUR"}
    assert answer.body["credit"]["remaining"]["amount"] == "41.50"
    [entry] = [e for e in ledger_entries(CUSTOMER) if e.kind == "refund"]
    assert {(p.account, p.debit, p.credit) for p in entry.postings} == {
        (Account.UNAPPLIED_CASH, Decimal("30.00"), Decimal(0)),
        (Account.CASH, Decimal(0), Decimal("30.00")),
    }
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == Decimal("-41.50")
    assert exposure(CUSTOMER).unapplied_cash == Decimal("41.50")
    assert credits_of(client).body["total"]["amount"] == "41.50"
    [refunded] = event_data(world, "CreditRefunded")
    assert (refunded["method"], refunded["reference"]) == ("bank_transfer", "SEPA-OUT-2026-0042")
    assert_ledger_balanced(CUSTOMER)

    # A retry changes nothing; more than is left, or no method, is refused
    before = snapshot(world)
    again = refund(client, body, idempotency_key="refund-1")
    assert (again.status, again.body) == (answer.status, answer.body)
    assert_problem(refund(client, {**body, "amount": "41.51"}), 422, "over-refund")
    no_method = {key: value for key, value in body.items() if key != "method"}
    assert_problem(refund(client, no_method), 422, "refund-refused")
    assert snapshot(world) == before


def test_an_overpayment_by_bank_is_paid_back_by_cheque(world: World, client: Any) -> None:
    invoice = issued_invoice(client, world)
    payment = paid_in(world, "100.00", customer_id=CUSTOMER, remittance=invoice.number)

    answer = refund(
        client,
        {
            "source": {"kind": "payment", "id": payment.payment_id},
            "amount": "28.50",
            "method": "cheque",
            "reference": "CHQ-000117",
        },
    )

    assert answer.status == 201, answer.body
    after = payment_now(payment.payment_id)
    assert (after.refunded, after.unapplied) == (Decimal("28.50"), 0)
    assert credits_of(client).body["credits"] == []
    assert exposure(CUSTOMER).unapplied_cash == 0
    assert account(CUSTOMER, Account.CASH) == Decimal("71.50")
    [refunded] = event_data(world, "PaymentRefunded")
    assert refunded["refund"]["amount"] == "28.50"
    assert_ledger_balanced(CUSTOMER)


@pytest.fixture
def stripe_http(world: World, monkeypatch: pytest.MonkeyPatch) -> RecordedStripe:
    """Stripe's API key in SSM where the stack says, and Stripe's HTTP exchange recorded."""
    return recorded_stripe(world.session, monkeypatch)


def _card_overpayment(client: Any, world: World) -> str:
    """A card payment of 100.00 for the 71.50 invoice, applied: 28.50 left over."""
    invoice = issued_invoice(client, world)
    metadata = {"invoice_number": invoice.number, "customer_id": CUSTOMER}
    body = stripe_event("payment_intent.succeeded", payment_intent(amount=10000, metadata=metadata))
    assert post_stripe(client, body).status_code == 200
    world.pump.drain()
    [payment] = payment_items(world)
    assert payment["unapplied"]["amount"] == "28.50", payment
    payment_id: str = payment["id"]
    return payment_id


def test_card_money_goes_back_through_a_stripe_refund_closed_by_its_webhook(
    world: World, client: Any, stripe_http: RecordedStripe
) -> None:
    payment_id = _card_overpayment(client, world)
    [credit] = credits_of(client).body["credits"]
    assert credit["refund_channel"] == "gateway"

    # When the clerk pays the 28.50 back
    body = {"source": {"kind": "payment", "id": payment_id}, "amount": "28.50"}
    answer = refund(client, body, idempotency_key="card-refund-1")

    # Then Stripe was asked for a 28.50 refund of the payment intent, with our key
    assert answer.status == 202, answer.body
    [sent] = stripe_http.sent
    assert (sent.method, sent.url) == ("post", "https://api.stripe.com/v1/refunds")
    assert sent.headers["Authorization"] == "Bearer sk_test_51QAcmeRecordedKey"
    assert sent.form["amount"] == "2850" and sent.form["payment_intent"] == "pi_3QAcme0001"
    assert sent.headers["Idempotency-Key"]
    refund_id = answer.body["id"]
    assert refund_id.startswith("re_") and answer.body["status"] == "pending"
    # ... the credit is held back while the refund is pending; the money has not moved yet
    assert credits_of(client).body["credits"] == []
    assert [e for e in ledger_entries(CUSTOMER) if e.kind == "refund"] == []
    assert payment_now(payment_id).metadata[f"refund_requested:{refund_id}"] == "28.50"
    assert_problem(refund(client, body), 422, "over-refund")  # nothing left to pay back

    # When Stripe's charge.refunded webhook reports it (twice)
    refunded = charge(amount=10000, amount_refunded=2850)
    event_id = "evt_3QAcmeRefund0001"
    for _ in range(2):
        webhook = post_stripe(client, stripe_event("charge.refunded", refunded, event_id=event_id))
        assert webhook.status_code == 200
        world.pump.drain()

    # Then the refund moved exactly 28.50, once
    after = payment_now(payment_id)
    assert (after.refunded, after.unapplied) == (Decimal("28.50"), 0)
    [entry] = [e for e in ledger_entries(CUSTOMER) if e.kind == "refund"]
    assert entry.total == Decimal("28.50")
    assert exposure(CUSTOMER).unapplied_cash == 0
    assert credits_of(client).body["credits"] == []
    assert_ledger_balanced(CUSTOMER)

    # A retry of the request asks Stripe again with the same key and changes nothing here
    again = refund(client, body, idempotency_key="card-refund-1")
    assert (again.status, again.body) == (answer.status, answer.body)
    assert len(stripe_http.refunds) == 1


def test_a_refund_stripe_refuses_writes_nothing(
    world: World, client: Any, stripe_http: RecordedStripe
) -> None:
    payment_id = _card_overpayment(client, world)
    stripe_http.status = 400
    before = snapshot(world)

    answer = refund(client, {"source": {"kind": "payment", "id": payment_id}, "amount": "10.00"})

    assert_problem(answer, 422, "refund-refused")
    assert snapshot(world) == before
    assert credits_of(client).body["total"]["amount"] == "28.50"


# --- the customer's policy: oldest first ------------------------------------------------------


def test_a_customer_applying_oldest_first_has_its_credits_applied_automatically(
    world: World, client: Any
) -> None:
    customer = call(client, "GET", f"/customers/{CUSTOMER}").body
    patched = call(
        client,
        "PATCH",
        f"/customers/{CUSTOMER}",
        body={"version": customer["version"], "credit_application": "oldest_first"},
    )
    assert patched.status == 200, patched.body
    assert patched.body["credit_application"] == "oldest_first"

    # Given a paid invoice and an open one
    paid = issued_invoice(client, world)
    paid_in(world, "71.50", customer_id=CUSTOMER, remittance=paid.number)
    open_one = issued_invoice(client, world)

    # When the paid invoice is credited whole (and the workers run)
    answer = credit_note(client, paid.invoice_id, {"reason": "Goods returned"})
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then the credit went to the open invoice on its own: paid, nothing left over
    assert invoice_now(open_one.invoice_id).status.value == "paid"
    assert credits_of(client).body["credits"] == []
    [applied] = event_data(world, "CreditApplied")
    assert applied["invoice_id"] == open_one.invoice_id
    assert applied["amount"] == {"amount": "71.50", "currency": "EUR"}
    assert exposure(CUSTOMER).open_receivables == 0 and exposure(CUSTOMER).unapplied_cash == 0

    # A redelivered event changes nothing
    from functions.credits.apply_by_policy import apply_for_event
    from shared.adapters.bus_events import BusEvent
    from tests.functional.cash import bus_body

    body = bus_body(world, "CreditNoteIssued", answer.body["id"])
    before = snapshot(world)
    assert apply_for_event(BusEvent.model_validate_json(body)) == 0
    assert snapshot(world) == before

    # Given an overpayment of a third invoice (nothing else open to take it)
    third = issued_invoice(client, world)
    paid_in(world, "100.00", customer_id=CUSTOMER, remittance=third.number)
    assert credits_of(client).body["total"]["amount"] == "28.50"

    # When the next invoice is issued, the 28.50 pays part of it
    fourth = issued_invoice(client, world)
    assert invoice_now(fourth.invoice_id).amount_due == Decimal("43.00")
    assert credits_of(client).body["credits"] == []
    assert exposure(CUSTOMER).open_receivables == Decimal("43.00")
    assert account(CUSTOMER, Account.RECEIVABLES) == Decimal("43.00")
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == 0
    assert_ledger_balanced(CUSTOMER)


def test_stripe_unreachable_answers_503_and_the_retry_completes(
    world: World, client: Any, stripe_http: RecordedStripe
) -> None:
    payment_id = _card_overpayment(client, world)
    stripe_http.status = 500
    before = snapshot(world)
    body = {"source": {"kind": "payment", "id": payment_id}, "amount": "10.00"}

    answer = refund(client, body, idempotency_key="card-refund-503")

    assert_problem(answer, 503, "service-unavailable")
    assert answer.headers["Retry-After"]
    assert snapshot(world) == before

    # When Stripe is back, the same request completes: one refund requested
    stripe_http.status = 200
    again = refund(client, body, idempotency_key="card-refund-503")
    assert again.status == 202, again.body
    assert len(stripe_http.refunds) == 1
    assert credits_of(client).body["total"]["amount"] == "18.50"
