from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.domain import invoice as invoicing
from shared.domain.invoice import CreditError, DocumentKind, InvoiceStatus, TaxCode
from shared.domain.seller import DEMO
from tests.unit.test_invoice import make_invoice

CREDITED_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def _credit(invoice, quantities, sequence=1):
    """Issue a credit note for ``quantities`` and apply it: (the note, the invoice after it)."""
    note = invoicing.numbered(
        invoicing.credit_note(
            invoice,
            credit_note_id=f"cn_{sequence}",
            quantities=quantities,
            reason="returned goods",
            issued_at=CREDITED_AT,
        ),
        sequence,
        DEMO,
    )
    return note, invoicing.apply_credit(invoice, note)


def test_a_partial_credit_note_credits_the_lines_at_the_invoice_prices():
    # Given: 3 x 19.99 standard, 2 x 4.55 reduced
    invoice = make_invoice(("standard", 3, "19.99"), ("reduced", 2, "4.55"))

    # When
    note, after = _credit(invoice, {1: Decimal(1)})

    # Then
    (line,) = note.lines
    assert (line.line_no, line.invoice_line_no, line.quantity, line.unit_price) == (
        1,
        1,
        Decimal(1),
        Decimal("19.99"),
    )
    assert (line.tax_code, line.tax_rate) == (TaxCode.STANDARD, Decimal(19))
    assert note.total == Decimal("23.79")  # 19.99 + 3.7981 -> 3.80
    assert note.kind is DocumentKind.CREDIT_NOTE
    assert note.status is InvoiceStatus.ISSUED
    assert note.number == "CN-2026-000001"
    assert (note.credited_invoice_id, note.credited_invoice_number) == ("inv_1", invoice.number)
    assert note.credited_invoice_issued_on == invoice.issued_on
    assert (note.due_on, note.terms, note.amount_due, note.payment) == (None, None, 0, None)
    assert note.buyer == invoice.buyer and note.order_id == invoice.order_id
    assert after.amount_credited == Decimal("23.79")
    assert after.amount_due == invoice.total - Decimal("23.79")
    assert after.status is InvoiceStatus.OPEN
    assert after.credited_quantities == {1: Decimal(1)}
    assert after.version == invoice.version + 1


def test_crediting_the_rest_leaves_exactly_zero():
    # Given: 0.35 lines whose per-part tax rounds up (0.0665 -> 0.07, three times 0.21 > 0.20)
    invoice = make_invoice(("standard", 3, "0.35"), ("standard", 1, "0.35"))
    assert invoice.tax_total == Decimal("0.27")  # 1.40 x 19 % = 0.266

    # When: one unit, then another, then everything else
    first, after_first = _credit(invoice, {1: Decimal(1)}, 1)
    second, after_second = _credit(after_first, {1: Decimal(1)}, 2)
    rest, after_rest = _credit(after_second, None, 3)

    # Then: the notes add up to the invoice, to the cent, per group and in total
    assert first.tax_total == Decimal("0.07")
    assert second.tax_total == Decimal("0.06")  # cumulative 0.70 x 19 % = 0.133 -> 0.13
    assert rest.net_total == Decimal("0.70")
    assert rest.tax_total == Decimal("0.14")
    assert first.total + second.total + rest.total == invoice.total
    assert after_rest.amount_credited == invoice.total
    assert after_rest.amount_due == 0
    assert after_rest.status is InvoiceStatus.CREDITED
    assert after_rest.credited_taxes == invoice.taxes


def test_fractional_parts_of_a_line_telescope_to_its_amount():
    # Given: 3 x 0.335 = 1.005 -> 1.01 on the invoice
    invoice = make_invoice(("zero", 3, "0.335"))

    # When: credited one unit at a time (each 0.335 -> 0.34 alone)
    notes = []
    current = invoice
    for sequence in (1, 2, 3):
        note, current = _credit(current, {1: Decimal(1)}, sequence)
        notes.append(note.total)

    # Then: 0.34 + 0.33 + 0.34, never 1.02
    assert notes == [Decimal("0.34"), Decimal("0.33"), Decimal("0.34")]
    assert sum(notes) == invoice.total
    assert current.status is InvoiceStatus.CREDITED


def test_a_full_credit_voids_an_unpaid_invoice():
    # Given
    invoice = make_invoice(("standard", 2, "10"), ("exempt", 1, "3"))

    # When
    note, after = _credit(invoice, None)

    # Then
    assert note.total == invoice.total
    assert note.taxes == invoice.taxes
    assert [line.quantity for line in note.lines] == [Decimal(2), Decimal(1)]
    assert (after.status, after.amount_due) == (InvoiceStatus.CREDITED, Decimal(0))


def test_crediting_a_paid_invoice_keeps_it_credited_and_nothing_due():
    # Given
    invoice = invoicing.record_payment(make_invoice(("standard", 1, "100")), Decimal("119.00"))

    # When
    _, after = _credit(invoice, None)

    # Then
    assert (after.status, after.amount_due, after.amount_paid) == (
        InvoiceStatus.CREDITED,
        Decimal(0),
        Decimal("119.00"),
    )


def test_a_partial_credit_after_a_partial_payment_floors_the_due_at_zero():
    # Given: 119.00, 100.00 paid
    invoice = invoicing.record_payment(make_invoice(("standard", 2, "50")), Decimal("100.00"))

    # When: half credited (59.50)
    _, after = _credit(invoice, {1: Decimal(1)})

    # Then
    assert after.amount_due == Decimal(0)
    assert after.status is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("quantities", "field", "message"),
    [
        ({1: Decimal(0)}, "quantity", "above 0"),
        ({1: Decimal(-1)}, "quantity", "above 0"),
        ({7: Decimal(1)}, "line_no", "no line 7"),
        ({1: Decimal(3)}, "quantity", "exceeds the 2 not yet credited"),
        ({}, "lines", "at least one line"),
    ],
)
def test_bad_credits_are_refused_naming_the_field(quantities, field, message):
    # Given
    invoice = make_invoice(("standard", 2, "10"))

    # When / Then
    with pytest.raises(CreditError, match=message) as refused:
        invoicing.credit_note(
            invoice, credit_note_id="cn_1", quantities=quantities, reason="x", issued_at=CREDITED_AT
        )
    assert refused.value.field == field


def test_more_than_what_remains_is_refused_after_a_partial_credit():
    # Given
    _, invoice = _credit(make_invoice(("standard", 2, "10")), {1: Decimal("1.5")})

    # When / Then
    with pytest.raises(CreditError, match=r"exceeds the 0.5 not yet credited"):
        invoicing.credit_note(
            invoice,
            credit_note_id="cn_2",
            quantities={1: Decimal(1)},
            reason="x",
            issued_at=CREDITED_AT,
        )


def test_a_fully_credited_invoice_takes_no_more_credit():
    # Given
    _, invoice = _credit(make_invoice(("standard", 2, "10")), None)

    # When / Then
    with pytest.raises(CreditError, match="fully credited"):
        invoicing.credit_note(
            invoice, credit_note_id="cn_2", quantities=None, reason="x", issued_at=CREDITED_AT
        )


def test_a_draft_and_a_credit_note_are_not_credited():
    # Given
    invoice = make_invoice(("standard", 2, "10"))
    note, _ = _credit(invoice, {1: Decimal(1)})
    draft = invoice.model_copy(update={"number": ""})

    # When / Then
    for document in (draft, note):
        with pytest.raises(CreditError):
            invoicing.credit_note(
                document, credit_note_id="cn_9", quantities=None, reason="x", issued_at=CREDITED_AT
            )


def test_a_note_applies_only_to_the_invoice_it_credits():
    # Given
    note, _ = _credit(make_invoice(("standard", 2, "10")), {1: Decimal(1)})
    other = make_invoice(("standard", 2, "10"), invoice_id="inv_2")

    # When / Then
    with pytest.raises(CreditError, match="does not credit"):
        invoicing.apply_credit(other, note)


def test_the_credit_is_announced_on_the_invoice_and_the_note():
    # Given
    invoice = make_invoice(("standard", 2, "10"))
    note, after = _credit(invoice, {1: Decimal(1)})

    # When
    issued = invoicing.issued_event(note)
    credited = invoicing.credited_event(after, note)

    # Then
    assert (issued.detail_type, issued.aggregate_id) == ("CreditNoteIssued", "cn_1")
    assert (credited.detail_type, credited.aggregate_id) == ("InvoiceCredited", "inv_1")
    assert credited.data["credit_note_id"] == "cn_1"
    assert credited.data["credit_note_number"] == "CN-2026-000001"
    assert credited.data["amount"] == {"amount": "11.90", "currency": "EUR"}
    assert credited.data["amount_due"] == {"amount": "11.90", "currency": "EUR"}
