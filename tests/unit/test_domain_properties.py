"""Properties of domain pieces that examples alone do not pin down: statements, aging, references.

- A statement's lines add up: each running balance is the one before plus the line's debit less
  its credit, the closing balance is the opening plus all movements, and two statements of
  adjacent periods chain (the first's closing is the second's opening), whatever the entries,
  their order and the split day.
- The aging sorts each open invoice into exactly one bucket, the buckets add up to what is due,
  and as time passes an invoice only ever moves to an older bucket.
- An RF creditor reference (ISO 11649) built from any document number validates, and a single
  mistyped character of the same kind, or two neighbours swapped, makes it fail.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from shared.domain import ledger, numbering, statement
from shared.domain.ledger import JournalEntry
from shared.domain.statement import BUCKETS, OpenInvoice

CUSTOMER = "cus_props"
FIRST_DAY = date(2026, 1, 1)

cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
days = st.integers(min_value=0, max_value=120)
kinds = st.sampled_from(["payment", "fee", "interest", "refund", "allocation"])


def _entry(kind: str, amount: Decimal, day: int, serial: int) -> JournalEntry:
    """One entry of ``kind`` posted at noon of FIRST_DAY + ``day``."""
    at = datetime.combine(FIRST_DAY + timedelta(days=day), time(12), UTC)
    source = f"src_{serial}"
    if kind == "payment":
        return ledger.for_payment(CUSTOMER, "EUR", amount, source, at)
    if kind == "fee":
        return ledger.for_fee(CUSTOMER, "EUR", amount, f"inv_{serial}:1", at)
    if kind == "interest":
        return ledger.for_interest(CUSTOMER, "EUR", amount, f"inv_{serial}:{day}", at)
    if kind == "refund":
        return ledger.for_refund(CUSTOMER, "EUR", amount, f"{source}:{amount}", at)
    discount = (amount / 50).quantize(Decimal("0.01"))  # an early payment discount taken
    return ledger.for_allocation(CUSTOMER, "EUR", f"inv_{serial}", amount, discount, source, at)


entries = st.lists(st.tuples(kinds, cents, days), max_size=25).map(
    lambda drawn: [_entry(kind, amount, day, n) for n, (kind, amount, day) in enumerate(drawn)]
)


def _statement(found: list[JournalEntry], start: date, end: date) -> statement.Statement:
    return statement.build(
        customer_id=CUSTOMER,
        customer_name="Props Ltd",
        currency="EUR",
        start=start,
        end=end,
        entries=found,
        open_invoices=[],
    )


@given(found=entries, start=days, length=days, shuffled=st.randoms(use_true_random=False))
def test_a_statement_adds_up_line_by_line(found, start, length, shuffled):
    # Given: the entries in any order
    shuffled.shuffle(found)
    first = FIRST_DAY + timedelta(days=start)

    # When
    built = _statement(found, first, first + timedelta(days=length))

    # Then: every running balance follows from the one before it
    balance = built.opening_balance
    for line in built.lines:
        assert (line.debit == 0) != (line.credit == 0)  # a line moves one way, never by zero
        balance += line.debit - line.credit
        assert line.balance == balance
    assert built.closing_balance == balance
    # and the closing balance is what every entry up to the end adds to what is owed
    upto_end = [e for e in found if statement.posted_on(e) <= built.end]
    assert built.closing_balance == sum((statement.effect(e) for e in upto_end), Decimal(0))


@given(found=entries, start=days, split=days, length=days)
def test_statements_of_adjacent_periods_chain(found, start, split, length):
    # Given: one period cut in two at any day
    first = FIRST_DAY + timedelta(days=start)
    middle = first + timedelta(days=split)
    last = middle + timedelta(days=length + 1)

    # When
    whole = _statement(found, first, last)
    before = _statement(found, first, middle)
    after = _statement(found, middle + timedelta(days=1), last)

    # Then: the halves chain and hold the whole's lines, in order
    assert before.opening_balance == whole.opening_balance
    assert before.closing_balance == after.opening_balance
    assert after.closing_balance == whole.closing_balance
    assert [line.entry_id for line in before.lines + after.lines] == [
        line.entry_id for line in whole.lines
    ]


open_invoices = st.lists(
    st.builds(
        OpenInvoice,
        invoice_id=st.uuids().map(str),
        number=st.integers(1, 999_999).map(lambda n: f"INV-2026-{n:06d}"),
        issued_on=st.just(FIRST_DAY),
        due_on=st.integers(0, 200).map(lambda d: FIRST_DAY + timedelta(days=d)),
        amount_due=st.decimals(min_value=Decimal(-100), max_value=Decimal(5000), places=2),
        legacy=st.booleans(),
    ),
    max_size=20,
)


@given(invoices=open_invoices, as_of=st.integers(0, 400), later=st.integers(0, 400))
def test_the_aging_puts_what_is_due_in_exactly_one_bucket_and_only_older_with_time(
    invoices, as_of, later
):
    # Given
    today = FIRST_DAY + timedelta(days=as_of)

    # When
    aged = statement.aging(invoices, today)
    aged_later = statement.aging(invoices, today + timedelta(days=later))

    # Then: every item with an amount open (as the aging report counts them: negative ones too),
    # once; the buckets add up to what is open
    due = [invoice for invoice in invoices if invoice.amount_due != 0]
    assert sorted(a.invoice.invoice_id for a in aged.invoices) == sorted(i.invoice_id for i in due)
    assert list(aged.buckets) == list(BUCKETS)
    assert sum(aged.buckets.values(), Decimal(0)) == sum((i.amount_due for i in due), Decimal(0))
    for one in aged.invoices:
        assert one.bucket == statement.bucket_for((today - one.invoice.due_on).days)
    # and time only ages an invoice
    rank = {name: n for n, name in enumerate(BUCKETS)}
    now = {a.invoice.invoice_id: rank[a.bucket] for a in aged.invoices}
    for one in aged_later.invoices:
        assert rank[one.bucket] >= now[one.invoice.invoice_id]


document_numbers = st.text(
    alphabet=string.ascii_letters + string.digits + "-/ .", min_size=1, max_size=30
).filter(lambda text: 0 < sum(c.isalnum() for c in text) <= numbering.MAX_REFERENCE_BODY)


@given(number=document_numbers)
def test_a_reference_of_any_document_number_validates(number):
    # When
    reference = numbering.payment_reference(number)

    # Then: valid as printed, in groups of four, and in lowercase
    assert numbering.is_valid_reference(reference)
    grouped = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    assert numbering.is_valid_reference(grouped.lower())


@given(number=document_numbers, data=st.data())
def test_a_mistyped_character_of_the_same_kind_is_caught(number, data):
    # Given: a valid reference with one letter or digit replaced by another of its kind
    reference = numbering.payment_reference(number)
    position = data.draw(st.integers(4, len(reference) - 1))  # the creditor's part
    original = reference[position]
    pool = string.digits if original.isdigit() else string.ascii_uppercase
    typo = data.draw(st.sampled_from(pool).filter(lambda c: c != original))
    mistyped = reference[:position] + typo + reference[position + 1 :]

    # Then
    assert not numbering.is_valid_reference(mistyped)


@given(number=document_numbers, data=st.data())
def test_two_neighbours_swapped_are_caught(number, data):
    # Given: two neighbouring characters of the same kind, and different, swapped
    reference = numbering.payment_reference(number)
    assume(len(reference) > 5)
    position = data.draw(st.integers(4, len(reference) - 2))
    left, right = reference[position], reference[position + 1]
    assume(left != right and left.isdigit() == right.isdigit())
    swapped = reference[:position] + right + left + reference[position + 2 :]

    # Then
    assert not numbering.is_valid_reference(swapped)
