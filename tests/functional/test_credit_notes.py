"""Credit notes: partial and full credits, the invoice's receivable, the ledger, and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from functions.invoicing import credit_notes
from infra.local.seed import demo_principal
from shared import clock
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.http.auth import Role
from shared.store import credit, invoices, ledger, outbox
from tests.functional.accounts import call, new_staff
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import assert_problem_answer, snapshot
from tests.functional.invoicing import (
    assert_ledger_balanced,
    credit_note,
    documents,
    event_data,
    exposure,
    legacy_invoice,
    placed,
    ship,
)

AUDITOR_KEY = "otc_test_auditor_key_0123456789abcdef"


@pytest.fixture
def invoice(world: World, client) -> dict[str, Any]:
    """The invoice of the demo order shipped whole: 3 widgets (19 %) and 1 gadget (7 %), 71.50."""
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 3), (2, 1)])
    [issued] = documents(world)
    assert issued["total"]["amount"] == "71.50"
    return issued


def _invoice_now(invoice_id: str) -> dict[str, Any]:
    found = invoices.get(invoice_id)
    assert found is not None
    return found.to_wire()


def test_a_partial_then_a_full_credit_note_settle_the_invoice(world: World, client, invoice):
    year = clock.now().year

    # When an AR clerk credits one damaged widget
    _, clerk_key = new_staff(client, "ar_clerk")
    partial = credit_note(
        client,
        invoice["id"],
        {"reason": "One widget arrived damaged", "lines": [{"line_no": 1, "quantity": "1"}]},
        key=clerk_key,
    )

    # Then a numbered credit note credits 19.99 net and its VAT (19.99 x 19 % = 3.80)
    assert partial.status == 201, partial.body
    note = partial.body
    assert partial.headers["Location"] == f"/invoices/{note['id']}"
    assert note["kind"] == "credit_note" and note["status"] == "issued"
    assert note["number"] == f"CN-{year}-000001"
    assert note["credited_invoice_id"] == invoice["id"]
    assert note["credited_invoice_number"] == invoice["number"]
    assert note["reason"] == "One widget arrived damaged"
    assert [(line["invoice_line_no"], line["quantity"], line["net_amount"]) for line in note[
        "lines"]] == [(1, "1", "19.99")]  # fmt: skip
    assert note["total"] == {"amount": "23.79", "currency": "EUR"}
    # and the invoice owes the rest, still open
    after = _invoice_now(invoice["id"])
    assert after["amount_credited"]["amount"] == "23.79"
    assert after["amount_due"]["amount"] == "47.71"
    assert after["status"] == "open" and after["version"] == 2
    assert exposure("cus_acme").open_receivables == Decimal("47.71")
    assert ledger.balance("cus_acme") == Decimal("47.71")

    # When an admin credits everything left
    full = credit_note(client, invoice["id"], {"reason": "Order returned"})

    # Then the second note (next number) takes exactly the rest of every line and tax group
    assert full.status == 201, full.body
    rest = full.body
    assert rest["number"] == f"CN-{year}-000002"
    assert [(line["invoice_line_no"], line["quantity"], line["net_amount"]) for line in rest[
        "lines"]] == [(1, "2", "39.98"), (2, "1", "0.13")]  # fmt: skip
    assert [(group["tax_rate"], group["tax_amount"]) for group in rest["taxes"]] == [
        ("19", "7.59"),
        ("7", "0.01"),
    ]
    assert rest["total"]["amount"] == "47.71"
    # and the invoice is credited: nothing due, out of the collections index
    after = _invoice_now(invoice["id"])
    assert after["status"] == "credited" and after["amount_due"]["amount"] == "0.00"
    item = invoices.get_item(invoice["id"])
    assert item is not None and "open_due_pk" not in item and item["gsi2pk"].endswith("credited")
    # the books balance and the customer owes nothing any more
    assert_ledger_balanced("cus_acme")
    assert ledger.balance("cus_acme") == 0
    assert exposure("cus_acme").open_receivables == 0
    # and both notes were announced with the invoice they credited
    # (one event each; notes are named by their request, so their ids do not sort by time)
    assert sorted(data["number"] for data in event_data(world, "CreditNoteIssued")) == [
        note["number"],
        rest["number"],
    ]
    credited = sorted(event_data(world, "InvoiceCredited"), key=lambda data: data["version"])
    assert [(data["credit_note_id"], data["status"]) for data in credited] == [
        (note["id"], "open"),
        (rest["id"], "credited"),
    ]
    assert credited[0]["credited_by"] != credited[1]["credited_by"]
    # the credit notes read back like any invoice
    assert call(client, "GET", f"/invoices/{note['id']}").body == note


def test_crediting_a_partly_paid_invoice_leaves_the_paid_part_owed_to_the_customer(
    world: World, client, invoice
):
    # Given 50.00 paid on the invoice (its payment and allocation posted, 21.50 still due)
    before = invoices.get(invoice["id"])
    assert before is not None
    paid = invoice_domain.record_payment(before, Decimal("50.00"))
    now = clock.now()
    outbox.commit(
        [
            invoices.replacing(paid, before),
            credit.settle_receivables("cus_acme", Decimal("50.00")),
            *ledger.post(ledger_domain.for_payment("cus_acme", "EUR", Decimal(50), "pay_1", now)),
            *ledger.post(
                ledger_domain.for_allocation(
                    "cus_acme", "EUR", invoice["id"], Decimal(50), Decimal(0), "alc_1", now
                )
            ),
        ],
        [],
    )

    # When the whole invoice is credited
    answer = credit_note(client, invoice["id"], {"reason": "Wrong goods shipped"})

    # Then the note credits 71.50: 21.50 off the receivable, 50.00 owed back to the customer
    assert answer.status == 201, answer.body
    assert answer.body["total"]["amount"] == "71.50"
    after = _invoice_now(invoice["id"])
    assert after["status"] == "credited" and after["amount_due"]["amount"] == "0.00"
    [entry] = [e for e in ledger.entries_for("cus_acme") if e.kind == "credit_note"]
    credits = {p.account.value: p.credit for p in entry.postings if p.credit}
    assert credits == {"receivables": Decimal("21.50"), "unapplied_cash": Decimal("50.00")}
    assert_ledger_balanced("cus_acme")
    assert ledger.balance("cus_acme") == Decimal("-50.00")
    assert exposure("cus_acme").open_receivables == 0


def test_a_retried_request_issues_one_credit_note(world: World, client, invoice):
    # Given a credit note request sent twice with one Idempotency-Key
    body = {"reason": "Price correction", "lines": [{"line_no": 2, "quantity": "1"}]}
    first = credit_note(client, invoice["id"], body, idempotency_key="cn-1")
    again = credit_note(client, invoice["id"], body, idempotency_key="cn-1")

    # Then both answer the same note, and only one exists
    assert first.status == again.status == 201
    assert first.body == again.body
    assert len(documents(world, "credit_note")) == 1


def test_a_concurrent_write_to_the_invoice_is_read_again_once(
    world: World, client, invoice, monkeypatch
):
    # Given a credit note computed from a read the invoice has moved past (another note landed)
    stale = invoices.get(invoice["id"])
    assert credit_note(client, invoice["id"], {"reason": "first"}).status == 201
    reads: list[str] = []
    fresh = credit_notes.readable_invoice

    def first_stale(invoice_id: str, principal: Any) -> Any:
        reads.append(invoice_id)
        return stale if len(reads) == 1 else fresh(invoice_id, principal)

    monkeypatch.setattr(credit_notes, "readable_invoice", first_stale)

    # When another note is requested for the same invoice
    answer = credit_note(
        client, invoice["id"], {"reason": "late", "lines": [{"line_no": 1, "quantity": "1"}]}
    )

    # Then the version guard refuses the stale write, the fresh read finds it fully credited,
    # and the failed attempt used no number
    assert len(reads) == 2
    assert_problem_answer(answer, 409, "fully-credited")
    assert [note["number"][-6:] for note in documents(world, "credit_note")] == ["000001"]


@pytest.mark.parametrize(
    ("lines", "pointer"),
    [
        ([{"line_no": 1, "quantity": "4"}], "#/lines/0/quantity"),
        (
            [{"line_no": 2, "quantity": "1"}, {"line_no": 1, "quantity": "3.5"}],
            "#/lines/1/quantity",
        ),
        ([{"line_no": 9, "quantity": "1"}], "#/lines/0/line_no"),
    ],
    ids=["more-than-invoiced", "more-than-left", "no-such-line"],
)
def test_crediting_beyond_the_invoice_is_refused_and_writes_nothing(
    world: World, client, invoice, lines, pointer
):
    # Given the table as it stands
    before = snapshot(world)

    # When a note asks for more than the invoice billed
    answer = credit_note(client, invoice["id"], {"reason": "too much", "lines": lines})

    # Then 422 points at the line, and nothing was written
    assert_problem_answer(answer, 422, "credit-error")
    assert [error["pointer"] for error in answer.body["errors"]] == [pointer]
    assert snapshot(world) == before


def test_a_credit_note_or_a_fully_credited_invoice_cannot_be_credited(
    world: World, client, invoice
):
    # Given an invoice credited in full
    note = credit_note(client, invoice["id"], {"reason": "returned"}).body

    # When either is credited again
    again = credit_note(client, invoice["id"], {"reason": "twice"})
    of_note = credit_note(client, note["id"], {"reason": "note"})

    # Then both are conflicts
    assert_problem_answer(again, 409, "fully-credited")
    assert_problem_answer(of_note, 409, "not-creditable")
    assert len(documents(world, "credit_note")) == 1


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        {"lines": [{"line_no": 1, "quantity": "1"}]},
        {"reason": "   "},
        {"reason": "x" * 501},
        {"reason": "r", "lines": []},
        {"reason": "r", "lines": [{"line_no": 1, "quantity": 1}]},
        {"reason": "r", "lines": [{"line_no": 1, "quantity": "0"}]},
        {"reason": "r", "lines": [{"line_no": 1, "quantity": "-1"}]},
        {"reason": "r", "lines": [{"line_no": 0, "quantity": "1"}]},
        {"reason": "r", "lines": [{"line_no": 1, "quantity": "1"}] * 2},
        {"reason": "r", "amount": "10.00"},
    ],
    ids=[
        "malformed",
        "no-reason",
        "blank-reason",
        "long-reason",
        "no-lines",
        "number-quantity",
        "zero",
        "negative",
        "line-zero",
        "line-twice",
        "unknown-field",
    ],
)
def test_bad_bodies_are_refused_and_write_nothing(world: World, client, invoice, body):
    before = snapshot(world)

    answer = credit_note(client, invoice["id"], body)

    assert answer.status in (400, 422), answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    if isinstance(body, dict):
        assert answer.status == 422 and answer.body["errors"]
    assert snapshot(world) == before


def test_only_ar_clerks_and_admins_issue_credit_notes(world: World, client, invoice):
    # Given a partner bound to the customer, an auditor and a credit manager
    demo_principal("stf_audit", "staff", "Auditor", Role.AUDITOR, AUDITOR_KEY)
    _, credit_key = new_staff(client, "credit_manager")
    before = snapshot(world)

    # When each asks for a credit note
    answers = [
        credit_note(client, invoice["id"], {"reason": "please"}, key=key)
        for key in (PARTNER_KEY, AUDITOR_KEY, credit_key)
    ]

    # Then each is forbidden, and nothing is written
    for answer in answers:
        assert_problem_answer(answer, 403, "forbidden")
    assert snapshot(world) == before
    assert credit_note(client, invoice["id"], {"reason": "x"}, key=None).status == 401


def test_an_unknown_invoice_answers_404(world: World, client):
    answer = credit_note(client, "inv_nope", {"reason": "no such invoice"})
    assert_problem_answer(answer, 404, "not-found")


def test_a_legacy_invoice_cannot_be_credited(world: World, client):
    # Given an open invoice imported from the legacy system
    legacy = legacy_invoice("cus_acme", "2025-0042")

    # When it is credited
    answer = credit_note(client, legacy, {"reason": "no lines to credit"})

    # Then it is a conflict (it has no lines of ours to credit)
    assert_problem_answer(answer, 409, "not-creditable")
