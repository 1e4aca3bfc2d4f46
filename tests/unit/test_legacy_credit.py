"""Credit notes of migrated invoices: amounts taxed as today, bounded by the opening balance,
and documents the official e-invoice rules accept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from functions.invoicing.ubl import render_ubl
from shared.domain import invoice as invoicing
from shared.domain import legacy_credit
from shared.domain.invoice import CreditError, InvoiceStatus, TaxCode
from shared.domain.legacy_credit import CreditAmount
from shared.domain.seller import DEMO
from shared.store.invoices import legacy_receivable
from tests.unit.test_invoice import make_customer
from tests.unit.validation import validator

ISSUED_AT = datetime(2026, 11, 5, 9, tzinfo=UTC)


def migrated(opening: str = "320.00", still_open: str = "320.00") -> invoicing.Invoice:
    """A migrated invoice as cash application reads it (from the imported item)."""
    return legacy_receivable(
        {
            "invoice_id": "legacy-INV-2025-0417",
            "invoice_number": "INV-2025-0417",
            "customer_id": "cus_1",
            "currency": "EUR",
            "issue_date": "2026-08-03",
            "due_date": "2026-09-02",
            "original_amount": Decimal("1200.00"),
            "opening_amount": Decimal(opening),
            "open_amount": Decimal(still_open),
            "status": "open",
            "version": 1,
        }
    )


def note_for(*amounts: CreditAmount, country: str = "DE", tax_id: str | None = "DE811907980"):
    draft = legacy_credit.credit_note(
        migrated(),
        customer=make_customer(country=country, tax_id=tax_id),
        seller=DEMO,
        amounts=amounts,
        credit_note_id="cn_1",
        reason="Agreed reduction",
        issued_at=ISSUED_AT,
    )
    return invoicing.numbered(draft, 1, DEMO)


def test_amounts_are_taxed_per_group_at_the_sellers_rates():
    # When 100.00 at the standard rate and 50.00 at the reduced rate are credited
    note = note_for(
        CreditAmount("Price reduction", Decimal("100.00"), "standard"),
        CreditAmount("Handbooks", Decimal("50.00"), "reduced"),
    )

    # Then the groups carry 19 % and 7 % and the note names the migrated invoice
    assert [(g.tax_code, g.tax_rate, g.tax_amount) for g in note.taxes] == [
        (TaxCode.STANDARD, Decimal(19), Decimal("19.00")),
        (TaxCode.STANDARD, Decimal(7), Decimal("3.50")),
    ]
    assert note.total == Decimal("172.50")
    assert (note.credited_invoice_number, note.credited_invoice_issued_on) == (
        "INV-2025-0417",
        date(2026, 8, 3),
    )
    assert note.buyer.name == "Buyer Handels GmbH"


def test_goods_for_a_business_in_another_member_state_are_k_with_where_they_went():
    # When a French business's migrated invoice is credited for goods and a service
    note = note_for(
        CreditAmount("Pallets returned", Decimal("100.00"), "standard"),
        CreditAmount("Installation", Decimal("40.00"), "standard", supply="services"),
        country="FR",
        tax_id="FR40303265045",
    )

    # Then the goods are K and the service AE, no VAT, and the document passes every rule
    assert [line.tax_code for line in note.lines] == [
        TaxCode.INTRA_COMMUNITY,
        TaxCode.REVERSE_CHARGE,
    ]
    assert note.tax_total == 0
    assert note.delivered_on == date(2026, 8, 3)
    assert note.delivered_to is not None and note.delivered_to.country == "FR"
    assert validator().fatal(render_ubl(note), peppol=True) == []


def test_a_domestic_credit_note_of_a_migrated_invoice_passes_every_rule():
    note = note_for(
        CreditAmount("Price reduction", Decimal("100.00"), "standard"),
        CreditAmount("Exempt training", Decimal("60.00"), "exempt"),
    )

    assert validator().fatal(render_ubl(note), peppol=True) == []


def test_the_notes_credit_at_most_the_opening_balance():
    # 268.92 + 19 % = 320.01: a cent beyond the 320.00 taken over
    with pytest.raises(CreditError, match=r"320\.00 EUR left to credit") as refused:
        note_for(CreditAmount("Return", Decimal("268.92"), "standard"))
    assert refused.value.field == "amounts"


@pytest.mark.parametrize("net", ["0", "0.00", "1.001", "-5.00"])
def test_a_net_amount_is_above_zero_in_minor_units(net):
    with pytest.raises(CreditError) as refused:
        note_for(
            CreditAmount("Ok", Decimal("10.00"), "standard"),
            CreditAmount("Bad", Decimal(net), "standard"),
        )
    assert (refused.value.line_no, refused.value.field) == (2, "net_amount")


def test_the_receivable_is_credited_and_reads_back_as_it_was_written():
    # Given a note for all 320.00 of the migrated invoice
    invoice = migrated()
    note = note_for(CreditAmount("Return", Decimal("268.91"), "standard"))

    # When it is applied to the receivable
    after = legacy_credit.credited(invoice, note)

    # Then nothing is due and the invoice is credited
    assert (after.amount_credited, after.amount_due, after.status) == (
        Decimal("320.00"),
        Decimal(0),
        InvoiceStatus.CREDITED,
    )
    assert after.version == invoice.version + 1
