"""Write-offs in the domain: the tolerance, the VAT share, the invoice, the entries, matching."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import invoice as invoice_domain
from shared.domain import kpis, ledger, matching, reporting
from shared.domain.invoice import InvoiceStatus
from shared.domain.ledger import Account
from shared.domain.matching import OpenInvoice, PaymentFacts
from shared.domain.write_off import (
    SmallDifferenceTolerance,
    WriteOff,
    WriteOffKind,
    small_difference,
    vat_share,
)
from tests.unit.invoice_samples import domestic_invoice

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def bad_debt(amount: str, vat: str = "0", write_off_id: str = "wo_1") -> WriteOff:
    return WriteOff(
        write_off_id=write_off_id,
        kind=WriteOffKind.BAD_DEBT,
        amount=Decimal(amount),
        vat=Decimal(vat),
        reason="insolvent",
        written_off_at=AT,
        written_off_by="stf_1",
    )


# --- the tolerance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tolerance", "currency", "total", "expected"),
    [
        (SmallDifferenceTolerance(), "EUR", Decimal("71.50"), Decimal("1.00")),
        (SmallDifferenceTolerance(per_currency={"JPY": Decimal(100)}), "JPY", Decimal(9000), 100),
        (SmallDifferenceTolerance(per_currency={"JPY": Decimal(100)}), "EUR", Decimal(50), 1),
        # a percent caps it, rounded down to the minor unit: 1 % of 71.50 is 0.715 -> 0.71
        (SmallDifferenceTolerance(percent=Decimal(1)), "EUR", Decimal("71.50"), Decimal("0.71")),
        (SmallDifferenceTolerance(percent=Decimal(5)), "EUR", Decimal("71.50"), Decimal("1.00")),
        (SmallDifferenceTolerance(amount=Decimal(0)), "EUR", Decimal("71.50"), Decimal(0)),
    ],
)
def test_the_tolerance_of_an_invoice(tolerance, currency, total, expected):
    assert tolerance.for_invoice(currency, total) == expected


def test_only_a_shortfall_within_the_tolerance_is_written_off():
    one = Decimal("1.00")
    assert small_difference(Decimal("0.40"), one) == Decimal("0.40")
    assert small_difference(one, one) == one
    assert small_difference(Decimal("1.01"), one) == 0
    assert small_difference(Decimal("-0.40"), one) == 0  # an overpayment: the customer's money
    assert small_difference(Decimal(0), one) == 0


def test_a_tolerance_in_an_unknown_currency_is_refused():
    with pytest.raises(ValueError, match="XXY"):
        SmallDifferenceTolerance(per_currency={"XXY": Decimal(1)})


# --- the VAT share --------------------------------------------------------------------------------


def test_the_vat_share_is_pro_rata_of_the_invoices_tax():
    def share(amount: str, before: str = "0") -> Decimal:
        return vat_share(
            Decimal(amount),
            written_off_before=Decimal(before),
            tax_total=Decimal("11.40"),
            total=Decimal("71.50"),
            currency="EUR",
        )

    assert share("71.50") == Decimal("11.40")
    assert share("50.00") == Decimal("7.97")
    assert share("21.50", before="50.00") == Decimal("3.43")
    assert vat_share(Decimal(10), written_off_before=Decimal(0), tax_total=Decimal(0),
                     total=Decimal(10), currency="EUR") == 0  # fmt: skip


@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=6))
def test_writing_off_in_parts_gives_back_exactly_the_vat_of_writing_off_at_once(cents):
    tax_total, total = Decimal("11.40"), Decimal("71.50")
    parts = [Decimal(c) / 100 for c in cents]
    written, shares = Decimal(0), Decimal(0)
    for part in parts:
        shares += vat_share(
            part, written_off_before=written, tax_total=tax_total, total=total, currency="EUR"
        )
        written += part
    at_once = vat_share(
        written, written_off_before=Decimal(0), tax_total=tax_total, total=total, currency="EUR"
    )
    assert shares == at_once


# --- the invoice ----------------------------------------------------------------------------------


def test_a_full_bad_debt_closes_the_invoice_and_its_reversal_reopens_it():
    invoice = domestic_invoice()
    paid = invoice_domain.record_payment(invoice, Decimal("10.00"))

    written = invoice_domain.write_off(paid, bad_debt(str(paid.amount_due)))
    assert (written.status, written.amount_due) == (InvoiceStatus.WRITTEN_OFF, 0)
    assert written.amount_written_off == invoice.total - Decimal("10.00")

    reopened, reversed_ = invoice_domain.reverse_write_off(
        written, "wo_1", at=AT, by="stf_1", reason="paid after all"
    )
    assert (reopened.status, reopened.amount_due) == (
        InvoiceStatus.PARTIALLY_PAID,
        invoice.total - Decimal("10.00"),
    )
    assert reopened.amount_written_off == 0 and not reversed_.active
    assert reopened.write_offs == (reversed_,)
    # and it reads back as written
    assert invoice_domain.from_wire(reopened.to_wire()) == reopened
    with pytest.raises(ValueError, match="reversed already"):
        invoice_domain.reverse_write_off(reopened, "wo_1", at=AT, by="stf_1", reason="again")


def test_a_write_off_never_exceeds_the_amount_due():
    invoice = domestic_invoice()
    with pytest.raises(ValueError, match="exceeds"):
        invoice_domain.write_off(invoice, bad_debt(str(invoice.total + Decimal("0.01"))))


def test_a_small_difference_leaves_the_invoice_paid():
    invoice = domestic_invoice()
    paid = invoice_domain.record_payment(invoice, invoice.total - Decimal("0.40"))
    small = bad_debt("0.40").model_copy(update={"kind": WriteOffKind.SMALL_DIFFERENCE})
    assert invoice_domain.write_off(paid, small).status is InvoiceStatus.PAID


# --- the entries ----------------------------------------------------------------------------------


def test_a_bad_debt_with_vat_relief_and_its_mirror():
    written = bad_debt("50.00", vat="7.97")
    entry = ledger.for_write_off("cus_1", "EUR", "inv_1", written)
    assert (entry.entry_id, entry.invoice_id) == ("write_off:wo_1", "inv_1")
    assert ledger.balances([entry])[Account.TAX_PAYABLE] == Decimal("7.97")
    assert ledger.balances([entry])[Account.BAD_DEBT_EXPENSE] == Decimal("42.03")
    assert ledger.balances([entry])[Account.RECEIVABLES] == Decimal("-50.00")

    reversed_ = written.model_copy(update={"reversed_at": AT})
    mirror = ledger.for_write_off_reversal("cus_1", "EUR", "inv_1", reversed_)
    assert mirror.entry_id == "write_off_reversal:wo_1"
    assert set(ledger.balances([entry, mirror]).values()) == {0}
    with pytest.raises(ValueError, match="not reversed"):
        ledger.for_write_off_reversal("cus_1", "EUR", "inv_1", written)


# --- matching -------------------------------------------------------------------------------------


def _open_invoice() -> OpenInvoice:
    return OpenInvoice(
        invoice_id="inv_1",
        number="INV-2026-000001",
        customer_id="cus_1",
        currency="EUR",
        amount_due=Decimal("71.50"),
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
    )


def _decide(amount: str) -> matching.Decision:
    invoice = _open_invoice()
    decision = matching.decide(
        PaymentFacts(
            amount=Decimal(amount),
            currency="EUR",
            received_on=date(2026, 3, 2),
            customer_id="cus_1",
            metadata={"invoice_number": invoice.number},
        ),
        [invoice],
        {},
    )
    return matching.with_small_differences(
        decision, {invoice.invoice_id: invoice}, lambda _: Decimal("1.00")
    )


def test_matching_closes_an_invoice_short_by_no_more_than_the_tolerance():
    decision = _decide("71.10")
    [proposal] = decision.allocations
    assert (proposal.amount, proposal.written_off) == (Decimal("71.10"), Decimal("0.40"))
    assert "within the tolerance of 1.00 EUR" in decision.explanation


@pytest.mark.parametrize("amount", ["70.49", "71.50", "71.90"])
def test_matching_writes_nothing_off_beyond_the_tolerance_nor_on_an_overpayment(amount):
    assert all(proposal.written_off == 0 for proposal in _decide(amount).allocations)


# --- KPIs -----------------------------------------------------------------------------------------


def test_an_invoice_closed_by_a_payment_and_its_small_difference_is_paid_a_bad_debt_is_not():
    def entries(invoice_id: str, kind: WriteOffKind) -> list[ledger.JournalEntry]:
        issued = datetime(2026, 3, 1, 9, tzinfo=UTC)
        paid = datetime(2026, 3, 11, 9, tzinfo=UTC)
        written = bad_debt("0.40", write_off_id=f"wo_{invoice_id}").model_copy(
            update={"kind": kind, "written_off_at": paid}
        )
        return [
            ledger.JournalEntry(
                entry_id=ledger.entry_id("invoice", invoice_id),
                customer_id="cus_1",
                currency="EUR",
                posted_at=issued,
                kind="invoice",
                source_id=invoice_id,
                memo=f"Invoice {invoice_id}",
                postings=(
                    ledger.Posting(account=Account.RECEIVABLES, debit=Decimal("100.00")),
                    ledger.Posting(account=Account.REVENUE, credit=Decimal("100.00")),
                ),
                invoice_id=invoice_id,
            ),
            ledger.for_payment("cus_1", "EUR", Decimal("99.60"), f"P{invoice_id}", paid),
            ledger.for_allocation(
                "cus_1", "EUR", invoice_id, Decimal("99.60"), Decimal(0), f"A{invoice_id}", paid
            ),
            ledger.for_write_off("cus_1", "EUR", invoice_id, written),
        ]

    books = reporting.Books(
        entries=[
            *entries("I1", WriteOffKind.SMALL_DIFFERENCE),
            *entries("I2", WriteOffKind.BAD_DEBT),
        ],
        invoices=[
            reporting.InvoiceFact.model_validate(
                {
                    "invoice_id": invoice_id,
                    "customer_id": "cus_1",
                    "number": invoice_id,
                    "currency": "EUR",
                    "issued_on": "2026-03-01",
                    "due_on": "2026-03-31",
                    "total": "100.00",
                }
            )
            for invoice_id in ("I1", "I2")
        ],
        customer_names={"cus_1": "One"},
    )

    [eur] = kpis.kpis(books, date(2026, 3, 1), date(2026, 3, 31)).to_wire()["currencies"]

    # I1 was paid in 10 days; I2 was given up on, not paid
    assert (eur["average_days_to_pay"], eur["invoices_paid"]) == ("10.00", 1)
