"""Write-offs over the API: small differences in cash application, bad debt, VAT, reversal."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import Any

import pytest

from functions.invoicing import write_offs
from shared.config import seller, settings
from shared.domain.ledger import Account
from shared.domain.seller import DEMO
from shared.domain.write_off import SmallDifferenceTolerance
from shared.store import invoices
from tests.functional import races
from tests.functional.accounts import Answer, call, new_staff
from tests.functional.cash import (
    CUSTOMER,
    account,
    event_data,
    invoice_now,
    issued_invoice,
    ledger_entries,
    paid_in,
)
from tests.functional.cash import reverse as take_back
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import assert_ledger_balanced, exposure

# The demo order's invoice: 3 widgets at 19.99 (19 %) and a gadget at 0.13 (7 %).
TOTAL, NET, TAX = Decimal("71.50"), Decimal("60.10"), Decimal("11.40")


def seller_profile(**changes: Any) -> None:
    """Run the rest of the test with the demo seller's profile changed (as SELLER_PROFILE)."""
    os.environ["SELLER_PROFILE"] = DEMO.model_copy(update=changes).model_dump_json()
    settings.cache_clear()
    seller.cache_clear()


@pytest.fixture
def credit_manager(client) -> str:
    _, key = new_staff(client, "credit_manager")
    return key


@pytest.fixture
def invoice(world: World, client):
    issued = issued_invoice(client, world)
    assert (issued.total, issued.net_total, issued.tax_total) == (TOTAL, NET, TAX)
    return issued


def write_off(
    client, invoice_id: str, amount: str, key: str, *, idempotency_key: str | None = None
) -> Answer:
    body = {"amount": amount, "reason": "Customer insolvent; no dividend expected"}
    return call(
        client,
        "POST",
        f"/invoices/{invoice_id}/write-offs",
        key=key,
        body=body,
        idempotency_key=idempotency_key,
    )


def reverse(
    client, invoice_id: str, write_off_id: str, key: str, *, idempotency_key: str | None = None
) -> Answer:
    return call(
        client,
        "POST",
        f"/invoices/{invoice_id}/write-offs/{write_off_id}/reversal",
        key=key,
        body={"reason": "The administrator paid a dividend after all"},
        idempotency_key=idempotency_key,
    )


def entry(kind: str) -> list[tuple[str, Decimal, Decimal]]:
    [found] = [e for e in ledger_entries(CUSTOMER) if e.kind == kind]
    return sorted((p.account.value, p.debit, p.credit) for p in found.postings)


def assert_refused(answer: Answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/" + kind), answer.body


# --- small differences at cash application -------------------------------------------------------


def test_a_payment_short_by_0_40_pays_the_invoice_and_writes_the_difference_off(
    world: World, client, invoice
):
    # Given an issued invoice of 71.50 and the customer's credit figures
    before = exposure(CUSTOMER)

    # When the customer pays 71.10 naming it (the bank kept 0.40)
    payment = paid_in(
        world, "71.10", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number}
    )

    # Then the invoice is paid: 71.10 paid, 0.40 written off as a small difference
    paid = invoice_now(invoice.invoice_id)
    assert (paid.status.value, paid.amount_due) == ("paid", 0)
    assert (paid.amount_paid, paid.amount_written_off) == (Decimal("71.10"), Decimal("0.40"))
    [small] = paid.write_offs
    assert (small.kind.value, small.amount, small.vat) == ("small_difference", Decimal("0.40"), 0)
    assert payment.status.value == "applied" and payment.unapplied == 0
    # the 0.40 went to its own account, in an entry of its own on the invoice
    assert entry("write_off") == [
        ("receivables", Decimal(0), Decimal("0.40")),
        ("small_differences", Decimal("0.40"), Decimal(0)),
    ]
    [posted] = [e for e in ledger_entries(CUSTOMER) if e.kind == "write_off"]
    assert posted.invoice_id == invoice.invoice_id
    assert account(CUSTOMER, Account.SMALL_DIFFERENCES) == Decimal("0.40")
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert_ledger_balanced(CUSTOMER)
    # the credit figures hold nothing open, and the invoice left the collections index
    after = exposure(CUSTOMER)
    assert after.open_receivables == before.open_receivables - TOTAL
    assert after.headroom == before.headroom + TOTAL
    item = invoices.get_item(invoice.invoice_id)
    assert item is not None and "open_due_pk" not in item
    # InvoicePaid says so; the decision explains the write-off
    [paid_event] = event_data(world, "InvoicePaid")
    assert paid_event["amount_written_off"] == {"amount": "0.40", "currency": "EUR"}
    [applied] = event_data(world, "PaymentApplied")
    assert "within the tolerance of 1.00 EUR" in applied["decision"]["explanation"]


def test_taking_the_payment_back_reopens_its_small_difference_too(world: World, client, invoice):
    # Given an invoice closed by a payment 0.40 short
    before = exposure(CUSTOMER)
    payment = paid_in(
        world, "71.10", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number}
    )
    [allocation] = payment.allocations

    # When a clerk takes the allocation back
    answer = take_back(client, payment.payment_id, allocation.allocation_id)

    # Then the invoice owes all of it again, the 0.40 included, and the books say so
    assert answer.status == 200, answer.body
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_due, now.amount_written_off) == ("open", TOTAL, 0)
    [small] = now.write_offs
    assert small.reversed_at is not None and small.kind.value == "small_difference"
    assert account(CUSTOMER, Account.SMALL_DIFFERENCES) == 0
    assert account(CUSTOMER, Account.RECEIVABLES) == TOTAL
    assert_ledger_balanced(CUSTOMER)
    after = exposure(CUSTOMER)
    assert (after.open_receivables, after.unapplied_cash) == (
        before.open_receivables,
        before.unapplied_cash + Decimal("71.10"),
    )


def test_a_shortfall_beyond_the_tolerance_leaves_the_invoice_open(world: World, client, invoice):
    # When the customer pays 1.01 less than the invoice asks
    paid_in(world, "70.49", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number})

    # Then the invoice still owes 1.01 and nothing is written off
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_due) == ("partially_paid", Decimal("1.01"))
    assert now.write_offs == () and now.amount_written_off == 0
    assert account(CUSTOMER, Account.SMALL_DIFFERENCES) == 0
    assert exposure(CUSTOMER).open_receivables == Decimal("1.01")


def test_the_tolerance_is_the_sellers_to_configure(world: World, client, invoice):
    # Given a seller that tolerates 0.25 in EUR (1.00 elsewhere)
    seller_profile(
        small_differences=SmallDifferenceTolerance(per_currency={"EUR": Decimal("0.25")})
    )

    # When a payment leaves the invoice short by 0.40
    paid_in(world, "71.10", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number})

    # Then the 0.40 stays due
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_due) == ("partially_paid", Decimal("0.40"))
    assert account(CUSTOMER, Account.SMALL_DIFFERENCES) == 0


def test_an_overpayment_within_the_tolerance_stays_the_customers_credit(
    world: World, client, invoice
):
    # When the customer pays 0.40 more than the invoice asks
    payment = paid_in(
        world, "71.90", customer_id=CUSTOMER, metadata={"invoice_number": invoice.number}
    )

    # Then the invoice is paid and the 0.40 is held for the customer, not written off
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_written_off) == ("paid", 0)
    assert payment.unapplied == Decimal("0.40")
    assert exposure(CUSTOMER).unapplied_cash == Decimal("0.40")
    assert account(CUSTOMER, Account.SMALL_DIFFERENCES) == 0
    assert account(CUSTOMER, Account.UNAPPLIED_CASH) == Decimal("-0.40")


# --- bad debt -------------------------------------------------------------------------------------


def test_a_credit_manager_writes_bad_debt_off_in_parts(
    world: World, client, invoice, credit_manager
):
    # Given the customer's credit figures with the invoice open
    before = exposure(CUSTOMER)

    # When a credit manager writes 50.00 of it off
    answer = write_off(client, invoice.invoice_id, "50.00", credit_manager)

    # Then the write-off is recorded and the invoice owes exactly 50.00 less
    assert answer.status == 201, answer.body
    written = answer.body["write_off"]
    assert answer.headers["Location"] == (
        f"/invoices/{invoice.invoice_id}/write-offs/{written['id']}"
    )
    assert (written["kind"], written["amount"]["amount"], written["vat"]["amount"]) == (
        "bad_debt",
        "50.00",
        "0.00",
    )
    assert written["reason"] == "Customer insolvent; no dividend expected"
    now = invoice_now(invoice.invoice_id)
    assert answer.body["invoice"] == now.to_wire()
    assert (now.status.value, now.amount_due) == ("open", Decimal("21.50"))
    # without VAT relief the whole amount is an expense; the VAT stays payable
    assert entry("write_off") == [
        ("bad_debt_expense", Decimal("50.00"), Decimal(0)),
        ("receivables", Decimal(0), Decimal("50.00")),
    ]
    assert account(CUSTOMER, Account.TAX_PAYABLE) == -TAX
    assert exposure(CUSTOMER).open_receivables == before.open_receivables - Decimal("50.00")
    [posted] = event_data(world, "WriteOffPosted")
    assert posted["write_off"] == written and posted["amount_due"]["amount"] == "21.50"
    # the customer's statement shows the write-off on the invoice, and agrees with its aging
    statement = call(client, "GET", f"/customers/{CUSTOMER}/statement").body
    [line] = [line for line in statement["lines"] if line["kind"] == "write_off"]
    assert (line["reference"], line["description"], line["credit"]["amount"]) == (
        invoice.number,
        f"Written off, invoice {invoice.number}",
        "50.00",
    )
    assert statement["closing_balance"]["amount"] == "21.50"
    assert statement["aging"]["total"]["amount"] == "21.50"

    # When the rest is written off too
    rest = write_off(client, invoice.invoice_id, "21.50", credit_manager)

    # Then nothing is due: the invoice is written off and collections no longer see it
    assert rest.status == 201, rest.body
    now = invoice_now(invoice.invoice_id)
    assert (now.status.value, now.amount_due, now.amount_written_off) == ("written_off", 0, TOTAL)
    item = invoices.get_item(invoice.invoice_id)
    assert item is not None and "open_due_pk" not in item
    assert account(CUSTOMER, Account.BAD_DEBT_EXPENSE) == TOTAL
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert exposure(CUSTOMER).open_receivables == before.open_receivables - TOTAL
    assert_ledger_balanced(CUSTOMER)


def test_with_vat_relief_the_vat_share_goes_back_against_tax_payable(
    world: World, client, invoice, credit_manager
):
    # Given a seller whose profile claims VAT bad-debt relief
    seller_profile(bad_debt_vat_relief=True)

    # When a credit manager writes 50.00 off, then the rest
    first = write_off(client, invoice.invoice_id, "50.00", credit_manager)
    rest = write_off(client, invoice.invoice_id, "21.50", credit_manager)

    # Then each entry takes its VAT share (11.40 / 71.50 of it) off tax payable, the net is
    # the expense: 50.00 -> 7.97 VAT + 42.03; the rest -> 3.43 VAT + 18.07 (together 11.40)
    assert first.status == 201 and rest.status == 201, (first.body, rest.body)
    assert first.body["write_off"]["vat"]["amount"] == "7.97"
    assert rest.body["write_off"]["vat"]["amount"] == "3.43"
    entries = sorted(
        (e for e in ledger_entries(CUSTOMER) if e.kind == "write_off"), key=lambda e: e.total
    )
    assert [sorted((p.account.value, p.debit, p.credit) for p in e.postings) for e in entries] == [
        [
            ("bad_debt_expense", Decimal("18.07"), Decimal(0)),
            ("receivables", Decimal(0), Decimal("21.50")),
            ("tax_payable", Decimal("3.43"), Decimal(0)),
        ],
        [
            ("bad_debt_expense", Decimal("42.03"), Decimal(0)),
            ("receivables", Decimal(0), Decimal("50.00")),
            ("tax_payable", Decimal("7.97"), Decimal(0)),
        ],
    ]
    # all the invoice's VAT came back, its net is the expense, and nothing is receivable
    assert account(CUSTOMER, Account.TAX_PAYABLE) == 0
    assert account(CUSTOMER, Account.BAD_DEBT_EXPENSE) == NET
    assert account(CUSTOMER, Account.RECEIVABLES) == 0
    assert invoice_now(invoice.invoice_id).status.value == "written_off"
    assert_ledger_balanced(CUSTOMER)


def test_a_reversal_reopens_the_amount_and_posts_the_mirror(
    world: World, client, invoice, credit_manager
):
    # Given the invoice written off in full, with VAT relief
    seller_profile(bad_debt_vat_relief=True)
    before = exposure(CUSTOMER)
    written = write_off(client, invoice.invoice_id, "71.50", credit_manager).body["write_off"]

    # When the credit manager reverses the write-off (and the request is retried)
    retry = str(uuid.uuid4())
    answer, replayed = (
        reverse(client, invoice.invoice_id, written["id"], credit_manager, idempotency_key=retry)
        for _ in range(2)
    )

    # Then the invoice owes all of it again and is collected as before
    assert answer.status == 200, answer.body
    assert (replayed.status, replayed.body) == (answer.status, answer.body)
    assert answer.body["write_off"]["reversed_at"] is not None
    now = invoice_now(invoice.invoice_id)
    assert answer.body["invoice"] == now.to_wire()
    assert (now.status.value, now.amount_due, now.amount_written_off) == ("open", TOTAL, 0)
    item = invoices.get_item(invoice.invoice_id)
    assert item is not None and "open_due_pk" in item
    # the mirror entry puts receivables, VAT and expense back where they were
    assert entry("write_off_reversal") == [
        ("bad_debt_expense", Decimal(0), NET),
        ("receivables", TOTAL, Decimal(0)),
        ("tax_payable", Decimal(0), TAX),
    ]
    assert account(CUSTOMER, Account.RECEIVABLES) == TOTAL
    assert account(CUSTOMER, Account.BAD_DEBT_EXPENSE) == 0
    assert account(CUSTOMER, Account.TAX_PAYABLE) == -TAX
    assert exposure(CUSTOMER) == before
    assert_ledger_balanced(CUSTOMER)
    [reversed_event] = event_data(world, "WriteOffReversed")
    assert reversed_event["write_off"]["id"] == written["id"]
    assert reversed_event["status"] == "open"

    # When it is reversed again (another request)
    again = reverse(client, invoice.invoice_id, written["id"], credit_manager)

    # Then that is a conflict, and an unknown write-off is not found
    assert_refused(again, 409, "write-off-reversed")
    unknown = reverse(client, invoice.invoice_id, "wo_unknown", credit_manager)
    assert_refused(unknown, 404, "not-found")


# --- refusals and retries -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["ar_clerk", "auditor", "partner"])
def test_only_credit_managers_and_admins_write_off(world: World, client, invoice, role):
    # Given a principal of a role that may not write off
    key = PARTNER_KEY if role == "partner" else new_staff(client, role)[1]
    before = snapshot(world)

    # When it tries
    answer = write_off(client, invoice.invoice_id, "10.00", key)

    # Then it is forbidden and nothing is written
    assert_refused(answer, 403, "forbidden")
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("amount", "detail"),
    [
        ("71.51", "must not exceed the amount due, 71.50 EUR"),
        ("0.00", "must be above 0"),
        ("10.001", "too many decimals for EUR"),
    ],
)
def test_an_amount_beyond_what_is_due_is_refused(
    world: World, client, invoice, credit_manager, amount, detail
):
    before = snapshot(world)

    answer = write_off(client, invoice.invoice_id, amount, credit_manager)

    assert_refused(answer, 422, "invalid-write-off")
    assert answer.body["errors"] == [{"pointer": "#/amount", "detail": detail}]
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 10, "reason": "x"},  # a number, not a decimal string
        {"amount": "10.00"},
        {"amount": "10.00", "reason": "   "},
        {"amount": "10.00", "reason": "x", "vat": "1.00"},
        {"amount": "-1.00", "reason": "x"},
    ],
)
def test_a_malformed_write_off_is_a_422_that_writes_nothing(
    world: World, client, invoice, credit_manager, body
):
    before = snapshot(world)

    answer = call(
        client, "POST", f"/invoices/{invoice.invoice_id}/write-offs", key=credit_manager, body=body
    )

    assert_refused(answer, 422, "validation-error")
    assert snapshot(world) == before


def test_a_credit_note_or_an_unknown_invoice_cannot_be_written_off(
    world: World, client, invoice, credit_manager
):
    note = call(
        client, "POST", f"/invoices/{invoice.invoice_id}/credit-notes", body={"reason": "Void"}
    )
    assert note.status == 201, note.body

    on_note = write_off(client, note.body["id"], "1.00", credit_manager)
    assert_refused(on_note, 409, "not-writable-off")
    assert_refused(write_off(client, "inv_nope", "1.00", credit_manager), 404, "not-found")
    # a fully credited invoice has nothing due to write off
    assert_refused(
        write_off(client, invoice.invoice_id, "1.00", credit_manager), 422, "invalid-write-off"
    )


def test_a_retry_with_the_same_key_gets_the_same_answer_and_writes_once(
    world: World, client, invoice, credit_manager
):
    key = str(uuid.uuid4())

    # When the same request is sent twice with one Idempotency-Key
    first = write_off(client, invoice.invoice_id, "30.00", credit_manager, idempotency_key=key)
    second = write_off(client, invoice.invoice_id, "30.00", credit_manager, idempotency_key=key)

    # Then the second answer is the first, and 30.00 was written off once
    assert first.status == 201, first.body
    assert (second.status, second.body) == (first.status, first.body)
    now = invoice_now(invoice.invoice_id)
    assert (now.amount_due, len(now.write_offs)) == (Decimal("41.50"), 1)
    assert len([e for e in ledger_entries(CUSTOMER) if e.kind == "write_off"]) == 1
    assert len(event_data(world, "WriteOffPosted")) == 1

    # and the same key with another amount is refused
    other = write_off(client, invoice.invoice_id, "31.00", credit_manager, idempotency_key=key)
    assert_refused(other, 422, "idempotency-key-reused")


# --- races ---------------------------------------------------------------------------------------


def test_two_write_offs_racing_for_one_amount_due_write_it_off_once(
    world: World, client, invoice, credit_manager, serializable_transactions
):
    # Given two credit managers each writing 50.00 of the 71.50 off at the same moment
    request = write_offs.WriteOffRequest(amount="50.00", reason="insolvent")
    manager = races.principal(credit_manager)
    before = exposure(CUSTOMER)

    outcomes = races.race(
        lambda: write_offs.write_off(invoice.invoice_id, request, manager),
        lambda: write_offs.write_off(invoice.invoice_id, request, manager),
    )

    # Then one wins; the other read again and found only 21.50 due (422), or lost twice (409)
    statuses = races.statuses(outcomes)
    assert statuses[0] == 200 and statuses[1] in (409, 422), outcomes
    now = invoice_now(invoice.invoice_id)
    assert (now.amount_due, len(now.write_offs)) == (Decimal("21.50"), 1)
    assert len([e for e in ledger_entries(CUSTOMER) if e.kind == "write_off"]) == 1
    assert exposure(CUSTOMER).open_receivables == before.open_receivables - Decimal("50.00")


def test_an_invoice_that_keeps_changing_meanwhile_answers_409_and_writes_nothing(
    world: World, client, invoice, credit_manager, monkeypatch
):
    # Given every read of the invoice is one version behind what is stored (someone else keeps
    # writing it between the read and the write)
    real = write_offs.readable_invoice

    def stale(invoice_id: str, principal: Any) -> Any:
        found = real(invoice_id, principal)
        assert found is not None
        return found.model_copy(update={"version": found.version - 1})

    monkeypatch.setattr(write_offs, "readable_invoice", stale)
    before = snapshot(world)

    # When a credit manager writes part of it off
    answer = write_off(client, invoice.invoice_id, "10.00", credit_manager)

    # Then it is a conflict, and nothing was written
    assert_refused(answer, 409, "concurrent-modification")
    assert "current_version" in answer.body
    assert snapshot(world) == before


def test_credit_figures_that_do_not_hold_the_amount_refuse_the_write_off_with_409(
    world: World, client, invoice, credit_manager
):
    # Given credit figures that (wrongly) hold less open than the invoice owes
    world.session.client("dynamodb").update_item(
        TableName=world.outputs["TableName"],
        Key={"pk": {"S": f"CUSTOMER#{CUSTOMER}"}, "sk": {"S": "CREDIT"}},
        UpdateExpression="SET open_receivables = :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )
    before = snapshot(world)

    # When a credit manager writes part of the invoice off
    answer = write_off(client, invoice.invoice_id, "10.00", credit_manager)

    # Then the books refuse it: a conflict, never a 500, and nothing is written
    assert_refused(answer, 409, "books-disagree")
    assert snapshot(world) == before
