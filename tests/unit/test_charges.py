"""Fee and interest charges: settled and reopened within 0..amount, read from their entries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import charges, ledger, matching
from shared.domain.charges import Charge, ChargeError
from shared.domain.matching import Decision, OpenCharge, OpenInvoice, Proposal
from shared.domain.reporting import Books, IndexedBooks, InvoiceFact

AT = datetime(2026, 12, 16, 6, tzinfo=UTC)


def _fee(amount: str = "5.00") -> Charge:
    entry = ledger.for_fee("cus_1", "EUR", Decimal(amount), "inv_1:level2", AT, invoice_id="inv_1")
    return charges.from_entry(entry)


def test_a_charge_read_from_its_entry_is_wholly_due_and_has_no_record_yet():
    fee = _fee()
    assert (fee.charge_id, fee.kind, fee.invoice_id) == ("fee:inv_1:level2", "fee", "inv_1")
    assert fee.amount == fee.amount_due == Decimal("5.00")
    assert fee.charged_on == date(2026, 12, 16) and fee.version == 0
    assert not fee.settled


def test_an_entry_without_an_invoice_names_the_invoice_of_its_source_id():
    entry = ledger.for_interest("cus_1", "EUR", Decimal("0.22"), "inv_9:2026-12-16", AT)
    assert charges.from_entry(entry).invoice_id == "inv_9"


def test_only_fees_and_interest_are_charges():
    entry = ledger.for_payment("cus_1", "EUR", Decimal(10), "pay_1", AT)
    with pytest.raises(ValueError, match="no fee or interest"):
        charges.from_entry(entry)


def test_settling_and_reopening_move_the_amount_due_exactly():
    fee = charges.settle(_fee(), Decimal("3.00"))
    assert fee.amount_due == Decimal("2.00")
    fee = charges.settle(fee, Decimal("2.00"))
    assert fee.settled and fee.to_wire()["status"] == "settled"
    assert charges.reopen(fee, Decimal("5.00")).amount_due == Decimal("5.00")


@pytest.mark.parametrize(
    ("move", "amount", "match"),
    [
        (charges.settle, "5.01", "exceeds the 5.00 EUR due"),
        (charges.settle, "0", "above 0"),
        (charges.reopen, "0.01", "exceeds the 5.00 charged"),
        (charges.reopen, "-1", "above 0"),
    ],
)
def test_a_charge_never_goes_below_zero_or_above_its_amount(move, amount: str, match: str):
    with pytest.raises(ChargeError, match=match):
        move(_fee(), Decimal(amount))


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=600)), max_size=20))
def test_any_sequence_of_moves_keeps_the_amount_due_within_the_charge(moves):
    fee = _fee()
    for settle, cents in moves:
        amount = Decimal(cents) / 100
        try:
            fee = charges.settle(fee, amount) if settle else charges.reopen(fee, amount)
        except ChargeError:
            continue
        assert Decimal(0) <= fee.amount_due <= fee.amount


def test_who_may_settle_a_charge():
    fee = _fee()
    assert charges.refusal(fee, fee.charge_id, "cus_1", "EUR") is None
    assert "no charge" in str(charges.refusal(None, "fee:x", "cus_1", "EUR"))
    assert "no charge" in str(charges.refusal(fee, fee.charge_id, "cus_2", "EUR"))
    assert "not USD" in str(charges.refusal(fee, fee.charge_id, "cus_1", "USD"))
    settled = charges.settle(fee, fee.amount)
    assert "nothing due" in str(charges.refusal(settled, fee.charge_id, "cus_1", "EUR"))


def test_open_charges_are_settled_oldest_first():
    older = _fee().model_copy(update={"charged_on": date(2026, 12, 1), "charge_id": "fee:b"})
    newer = _fee().model_copy(update={"charge_id": "fee:a"})
    settled = charges.settle(_fee(), Decimal("5.00"))
    assert charges.oldest_first([newer, settled, older]) == [older, newer]


# --- the books: a charge is its own open item, moved by what names it ---------------------------


def test_cash_applied_to_a_charge_moves_the_charges_open_item_not_the_invoices():
    # Given an invoice of 100.00, a 5.00 fee on it, and 3.00 of cash applied to the fee
    issued = datetime(2026, 11, 2, 9, tzinfo=UTC)
    fee = ledger.for_fee("cus_1", "EUR", Decimal(5), "inv_1:level2", AT, invoice_id="inv_1")
    applied = ledger.for_allocation(
        "cus_1", "EUR", "inv_1", Decimal(3), Decimal(0), "alc_1", AT, charge_id=fee.entry_id
    )
    invoice = ledger.JournalEntry(
        entry_id="invoice:inv_1",
        customer_id="cus_1",
        currency="EUR",
        posted_at=issued,
        kind="invoice",
        source_id="inv_1",
        memo="Invoice INV-1",
        postings=(
            ledger.Posting(account=ledger.Account.RECEIVABLES, debit=Decimal(100)),
            ledger.Posting(account=ledger.Account.REVENUE, credit=Decimal(100)),
        ),
        invoice_id="inv_1",
    )
    facts = [
        InvoiceFact(
            invoice_id="inv_1",
            customer_id="cus_1",
            number="INV-1",
            currency="EUR",
            issued_on=issued.date(),
            due_on=date(2026, 12, 2),
            total=Decimal(100),
        )
    ]
    books = IndexedBooks(Books(entries=[invoice, fee, applied], invoices=facts))

    # Then the fee has 2.00 open, due the day it was charged, and the invoice all of its 100.00
    items = {item.item_id: (item.amount, item.due_on) for item in books.open_items(AT.date())}
    assert items == {
        "inv_1": (Decimal(100), date(2026, 12, 2)),
        fee.entry_id: (Decimal(2), date(2026, 12, 16)),
    }
    # and the entry keeps naming the invoice the fee was charged on, and reads back equal
    assert applied.invoice_id == "inv_1" and applied.memo == f"Applied to charge {fee.entry_id}"
    assert ledger.JournalEntry.from_item_data(applied.to_item_data()) == applied


# --- the matcher: a reminder's total pays the invoice and its charges ---------------------------


def _decision(unapplied: str, amount: str = "100.00") -> Decision:
    return Decision(
        basis="reference",
        customer_id="cus_1",
        allocations=(Proposal(invoice_id="inv_1", number="INV-1", amount=Decimal(amount)),),
        confidence=Decimal("0.97"),
        auto=True,
        evidence=(),
        explanation="Applied to INV-1 automatically.",
        unapplied=Decimal(unapplied),
    )


def _open_invoice(amount_due: str = "100.00") -> OpenInvoice:
    return OpenInvoice(
        invoice_id="inv_1",
        number="INV-1",
        customer_id="cus_1",
        currency="EUR",
        amount_due=Decimal(amount_due),
        issued_on=date(2026, 11, 2),
        due_on=date(2026, 12, 2),
    )


OPEN = [
    ("interest:inv_1:2026-12-16", "inv_1", "0.22", date(2026, 12, 16)),
    ("fee:inv_1:level2", "inv_1", "5.00", date(2026, 12, 16)),
    ("fee:inv_2:level2", "inv_2", "5.00", date(2026, 12, 1)),
]


def _charges() -> list[OpenCharge]:
    return [
        OpenCharge(charge_id=c, invoice_id=i, amount_due=Decimal(a), charged_on=d)
        for c, i, a, d in OPEN
    ]


def test_a_payment_of_the_invoice_and_exactly_its_charges_settles_them_oldest_first():
    decided = matching.with_charges(
        _decision("5.22"),
        {"inv_1": _open_invoice()},
        _charges(),
    )
    assert decided.unapplied == 0
    assert [(p.charge_id, p.amount, p.number) for p in decided.allocations[1:]] == [
        ("fee:inv_1:level2", Decimal("5.00"), "INV-1"),
        ("interest:inv_1:2026-12-16", Decimal("0.22"), "INV-1"),
    ]
    assert "fees and interest" in decided.explanation


@pytest.mark.parametrize(
    ("unapplied", "paid", "due"),
    [
        ("5.21", "100.00", "100.00"),  # not what the charges come to
        ("10.22", "100.00", "100.00"),  # more: an overpayment stays unapplied
        ("5.22", "90.00", "100.00"),  # the invoice is not paid in full
    ],
)
def test_anything_but_the_reminders_total_leaves_the_charges_alone(
    unapplied: str, paid: str, due: str
):
    decision = _decision(unapplied, paid)
    decided = matching.with_charges(
        decision,
        {"inv_1": _open_invoice(due)},
        _charges(),
    )
    assert decided == decision
