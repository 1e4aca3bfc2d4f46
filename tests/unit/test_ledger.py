from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.domain import invoice as invoicing
from shared.domain import ledger
from shared.domain.ledger import Account, JournalEntry, Posting
from shared.domain.seller import DEMO
from tests.unit.test_invoice import make_invoice

AT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def _sides(entry: JournalEntry) -> dict[Account, Decimal]:
    """Debit-positive amount per account."""
    return {posting.account: posting.amount for posting in entry.postings}


def _note(invoice, quantities):
    return invoicing.numbered(
        invoicing.credit_note(
            invoice, credit_note_id="cn_1", quantities=quantities, reason="x", issued_at=AT
        ),
        1,
        DEMO,
    )


def test_an_invoice_debits_receivables_and_credits_revenue_and_tax():
    # Given: 100.00 + 19.00
    invoice = make_invoice(("standard", 1, "100"))

    # When
    entry = ledger.for_invoice(invoice)

    # Then
    assert _sides(entry) == {
        Account.RECEIVABLES: Decimal("119.00"),
        Account.REVENUE: Decimal("-100.00"),
        Account.TAX_PAYABLE: Decimal("-19.00"),
    }
    assert (entry.entry_id, entry.kind, entry.source_id, entry.customer_id) == (
        "invoice:inv_1",
        "invoice",
        "inv_1",
        "cus_1",
    )


def test_an_invoice_without_tax_posts_no_tax_line():
    entry = ledger.for_invoice(make_invoice(("zero", 1, "10")))

    assert set(_sides(entry)) == {Account.RECEIVABLES, Account.REVENUE}


def test_a_credit_note_within_the_open_amount_reduces_receivables():
    # Given
    invoice = make_invoice(("standard", 2, "50"))
    note = _note(invoice, {1: Decimal(1)})

    # When
    entry = ledger.for_credit_note(note, invoice.amount_due)

    # Then
    assert _sides(entry) == {
        Account.REVENUE: Decimal("50.00"),
        Account.TAX_PAYABLE: Decimal("9.50"),
        Account.RECEIVABLES: Decimal("-59.50"),
    }


def test_a_credit_note_beyond_the_open_amount_owes_the_rest_to_the_customer():
    # Given: 119.00, 100.00 already paid, then everything credited
    invoice = invoicing.record_payment(make_invoice(("standard", 2, "50")), Decimal("100"))
    note = _note(invoice, None)

    # When
    entry = ledger.for_credit_note(note, invoice.amount_due)

    # Then
    assert _sides(entry) == {
        Account.REVENUE: Decimal("100.00"),
        Account.TAX_PAYABLE: Decimal("19.00"),
        Account.RECEIVABLES: Decimal("-19.00"),
        Account.UNAPPLIED_CASH: Decimal("-100.00"),
    }


def test_a_payment_is_cash_held_unapplied():
    entry = ledger.for_payment("cus_1", "EUR", Decimal("50"), "pay_1", AT)

    assert _sides(entry) == {Account.CASH: Decimal(50), Account.UNAPPLIED_CASH: Decimal(-50)}
    assert entry.entry_id == "payment:pay_1"


def test_an_allocation_settles_receivables_with_cash_and_discount():
    # When
    entry = ledger.for_allocation(
        "cus_1", "EUR", "inv_1", Decimal("116.62"), Decimal("2.38"), "alc_1", AT
    )

    # Then
    assert _sides(entry) == {
        Account.UNAPPLIED_CASH: Decimal("116.62"),
        Account.DISCOUNTS_ALLOWED: Decimal("2.38"),
        Account.RECEIVABLES: Decimal("-119.00"),
    }


def test_an_unapplication_reverses_its_allocation():
    # Given
    args = ("cus_1", "EUR", "inv_1", Decimal("116.62"), Decimal("2.38"), "alc_1", AT)

    # When
    applied = _sides(ledger.for_allocation(*args))
    reversed_ = _sides(ledger.for_unapplication(*args))

    # Then
    assert reversed_ == {account: -amount for account, amount in applied.items()}
    assert ledger.for_unapplication(*args).entry_id == "unapplication:alc_1"


def test_an_allocation_without_discount_posts_no_discount():
    entry = ledger.for_allocation("cus_1", "EUR", "inv_1", Decimal(10), Decimal(0), "alc_1", AT)

    assert set(_sides(entry)) == {Account.UNAPPLIED_CASH, Account.RECEIVABLES}


def test_a_refund_pays_out_held_cash():
    entry = ledger.for_refund("cus_1", "EUR", Decimal(20), "rfd_1", AT)

    assert _sides(entry) == {Account.UNAPPLIED_CASH: Decimal(20), Account.CASH: Decimal(-20)}


def test_a_fee_is_receivable_income():
    entry = ledger.for_fee("cus_1", "EUR", Decimal(5), "rem_1", AT)

    assert _sides(entry) == {Account.RECEIVABLES: Decimal(5), Account.FEE_INCOME: Decimal(-5)}
    assert entry.entry_id == "fee:rem_1"


def test_an_unbalanced_entry_is_refused():
    with pytest.raises(ValidationError, match=r"debits 5 differ from credits 4\.99"):
        JournalEntry(
            entry_id="x",
            customer_id="cus_1",
            currency="EUR",
            posted_at=AT,
            kind="fee",
            source_id="x",
            memo="",
            postings=(
                Posting(account=Account.RECEIVABLES, debit=Decimal(5)),
                Posting(account=Account.FEE_INCOME, credit=Decimal("4.99")),
            ),
        )


def test_an_entry_that_moves_nothing_is_refused():
    with pytest.raises(ValidationError, match="above 0"):
        ledger.for_payment("cus_1", "EUR", Decimal(0), "pay_1", AT)


@pytest.mark.parametrize(
    "sides",
    [{"debit": Decimal(1), "credit": Decimal(1)}, {}, {"debit": Decimal(-1)}],
)
def test_a_posting_is_one_positive_side(sides):
    with pytest.raises(ValidationError):
        Posting(account=Account.CASH, **sides)


def test_negative_amounts_are_refused():
    with pytest.raises(ValidationError):
        ledger.for_refund("cus_1", "EUR", Decimal(-5), "rfd_1", AT)


def test_an_entry_reads_back_from_its_item_data():
    # Given
    entry = ledger.for_allocation(
        "cus_1", "EUR", "inv_1", Decimal("10.50"), Decimal("0.25"), "alc_1", AT
    )

    # When
    data = entry.to_item_data()

    # Then
    assert data["postings"][0] == {
        "account": "unapplied_cash",
        "debit": "10.50",
        "credit": "0",
    }
    assert JournalEntry.from_item_data(data) == entry


def test_balances_and_the_customer_balance():
    # Given: invoice 119, payment 150, 119 applied, a 5 fee
    invoice = make_invoice(("standard", 1, "100"))
    entries = [
        ledger.for_invoice(invoice),
        ledger.for_payment("cus_1", "EUR", Decimal(150), "pay_1", AT),
        ledger.for_allocation("cus_1", "EUR", "inv_1", Decimal(119), Decimal(0), "alc_1", AT),
        ledger.for_fee("cus_1", "EUR", Decimal(5), "rem_1", AT),
    ]

    # When
    totals = ledger.balances(entries)

    # Then
    assert totals[Account.RECEIVABLES] == Decimal(5)
    assert totals[Account.UNAPPLIED_CASH] == Decimal(-31)
    assert totals[Account.CASH] == Decimal(150)
    assert sum(totals.values()) == 0
    assert ledger.customer_balance(entries) == Decimal(-26)  # we hold 26 more than is owed


def test_an_opening_balance_books_a_migrated_receivable_against_opening_equity() -> None:
    entry = ledger.for_opening_balance(
        "cus_1", "EUR", "legacy-INV-7", "INV-7", Decimal("320.00"), date(2026, 8, 3)
    )
    assert (entry.entry_id, entry.kind, entry.invoice_id) == (
        "opening_balance:legacy-INV-7",
        "opening_balance",
        "legacy-INV-7",
    )
    assert entry.posted_at == datetime(2026, 8, 3, tzinfo=UTC)
    assert ledger.balances([entry])[Account.RECEIVABLES] == Decimal("320.00")
    assert ledger.balances([entry])[Account.OPENING_BALANCE_EQUITY] == Decimal("-320.00")
    assert ledger.customer_balance([entry]) == Decimal("320.00")
