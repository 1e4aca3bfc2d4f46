"""Cash application decisions: each rule, each kind of noise, the ambiguities, and invariants."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import numbering
from shared.domain.matching import (
    DEFAULT_THRESHOLD,
    Decision,
    OpenInvoice,
    PaymentFacts,
    decide,
)
from tests.unit import invoice_samples

ON = date(2026, 5, 20)
ACCOUNT = "DE89 3704 0044 0532 0130 00"
ALIASES = {"account:DE89370400440532013000": "cus_a"}


def invoice(
    sequence: int,
    amount: str = "100.00",
    *,
    customer: str = "cus_a",
    currency: str = "EUR",
    due_in: int = 10,
    discount: str | None = None,
    discount_until: date | None = None,
    name: str | None = None,
) -> OpenInvoice:
    number = numbering.number("INV-2026", sequence)
    return OpenInvoice(
        invoice_id=f"inv_{sequence}",
        number=number,
        customer_id=customer,
        currency=currency,
        amount_due=Decimal(amount),
        payment_reference=numbering.payment_reference(number),
        issued_on=ON - timedelta(days=20),
        due_on=ON + timedelta(days=due_in),
        discount_until=discount_until,
        discount_amount=Decimal(discount or 0),
        customer_name=name,
    )


def payment(amount: str, remittance: str = "", **facts) -> PaymentFacts:
    return PaymentFacts(
        amount=Decimal(amount), currency="EUR", received_on=ON, remittance=remittance, **facts
    )


def applied(decision: Decision) -> list[tuple[str, Decimal, Decimal]]:
    return [(p.invoice_id, p.amount, p.discount) for p in decision.allocations]


def says(decision: Decision, text: str) -> bool:
    """Whether the explanation says ``text`` (sentences start with a capital)."""
    return text.casefold() in decision.explanation.casefold()


def kinds(decision: Decision) -> set[str]:
    return {item.kind for item in decision.evidence}


# --- rule 1: references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remittance", "metadata", "how"),
    [
        ("INV-2026-000123", {}, "names INV-2026-000123, open"),
        ("inv 2026 000123", {}, "normalised from 'inv 2026 000123'"),
        ("INV2026000123", {}, "normalised from 'INV2026000123'"),
        ("Inv.2026/123", {}, "normalised from 'Inv.2026/123'"),
        ("INV-2O26-000l23", {}, "OCR-corrected from 'INV-2O26-000l23'"),
        ("RF98 INV2 0260 0012 3", {}, "the payment reference of INV-2026-000123"),
        ("", {"invoice_number": "INV-2026-000123"}, "gateway metadata names INV-2026-000123"),
    ],
)
def test_a_reference_and_the_exact_amount_apply_automatically(remittance, metadata, how):
    # Given
    invoices = [invoice(123, "1190.00"), invoice(124, "1190.00")]
    facts = payment("1190.00", remittance, metadata=metadata)

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert decision.auto
    assert decision.basis == "reference"
    assert decision.customer_id == "cus_a"
    assert applied(decision) == [("inv_123", Decimal("1190.00"), Decimal(0))]
    assert decision.unapplied == 0
    assert decision.confidence >= DEFAULT_THRESHOLD
    assert any(how in item.detail for item in decision.evidence)
    assert says(decision, how)


def test_the_rf_reference_in_the_test_is_the_invoice_payment_reference():
    assert numbering.payment_reference("INV-2026-000123") == "RF98INV2026000123"


def test_several_named_invoices_are_settled_oldest_due_first():
    # Given
    invoices = [invoice(124, "50.00", due_in=20), invoice(123, "70.00", due_in=5)]
    facts = payment("120.00", "INV-2026-000124 + INV-2026-000123")

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [
        ("inv_123", Decimal("70.00"), Decimal(0)),
        ("inv_124", Decimal("50.00"), Decimal(0)),
    ]


def test_a_discount_taken_in_time_settles_the_invoice():
    # Given
    invoices = [invoice(123, "1000.00", discount="20.00", discount_until=ON)]
    facts = payment("980.00", "INV-2026-000123")

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [("inv_123", Decimal("980.00"), Decimal("20.00"))]
    assert decision.unapplied == 0
    assert "discount" in kinds(decision)


def test_a_discount_taken_too_late_is_a_partial_payment_and_says_so():
    # Given
    invoices = [invoice(123, "1000.00", discount="20.00", discount_until=ON - timedelta(days=1))]
    facts = payment("980.00", "INV-2026-000123")

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [("inv_123", Decimal("980.00"), Decimal(0))]
    assert any(
        item.kind == "discount" and "after the period ended" in item.detail
        for item in decision.evidence
    )


def test_the_full_amount_within_the_discount_period_settles_without_discount():
    # Given
    invoices = [invoice(123, "1000.00", discount="20.00", discount_until=ON)]

    # When
    decision = decide(payment("1000.00", "INV-2026-000123"), invoices, {})

    # Then
    assert applied(decision) == [("inv_123", Decimal("1000.00"), Decimal(0))]


def test_a_partial_payment_of_a_named_invoice_applies_automatically():
    # Given
    invoices = [invoice(123, "1000.00")]

    # When
    decision = decide(payment("400.00", "INV-2026-000123"), invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [("inv_123", Decimal("400.00"), Decimal(0))]
    assert decision.unapplied == 0
    assert says(decision, "partial payment")


def test_a_partial_payment_of_several_named_invoices_is_proposed_oldest_first_not_applied():
    # Given: which invoice stays open is the payer's choice, not ours
    invoices = [invoice(123, "100.00", due_in=1), invoice(124, "100.00", due_in=2)]

    # When
    decision = decide(payment("150.00", "INV-2026-000123, INV-2026-000124"), invoices, {})

    # Then
    assert not decision.auto
    assert applied(decision) == [
        ("inv_123", Decimal("100.00"), Decimal(0)),
        ("inv_124", Decimal("50.00"), Decimal(0)),
    ]


def test_an_overpayment_settles_the_named_invoices_and_leaves_the_rest_unapplied():
    # Given
    invoices = [invoice(123, "100.00"), invoice(124, "200.00")]

    # When
    decision = decide(payment("310.50", "INV-2026-000123 INV-2026-000124"), invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [
        ("inv_123", Decimal("100.00"), Decimal(0)),
        ("inv_124", Decimal("200.00"), Decimal(0)),
    ]
    assert decision.unapplied == Decimal("10.50")
    assert says(decision, "stays unapplied")


def test_references_to_two_customers_are_left_for_a_clerk():
    # Given
    invoices = [invoice(123, customer="cus_a"), invoice(124, customer="cus_b")]

    # When
    decision = decide(payment("200.00", "INV-2026-000123 INV-2026-000124"), invoices, {})

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert decision.unapplied == Decimal("200.00")
    assert {c.customer_id for c in decision.candidates} == {"cus_a", "cus_b"}
    assert says(decision, "2 customers")


def test_a_reference_to_another_customer_than_the_known_payer_is_left_for_a_clerk():
    # Given: the account is cus_a's, the remittance names cus_b's invoice
    invoices = [invoice(123, "80.00", customer="cus_a"), invoice(124, customer="cus_b")]
    facts = payment("80.00", "INV-2026-000124", payer_account=ACCOUNT)

    # When
    decision = decide(facts, invoices, ALIASES)

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert says(decision, "belong to cus_b")
    assert ("cus_a", "inv_123") in {
        (c.customer_id, c.allocations[0].invoice_id) for c in decision.candidates
    }


def test_a_known_payer_corroborates_the_customer_its_references_name():
    # Given
    invoices = [invoice(123, "1000.00")]
    facts = payment("100.00", "INV-2O26-000l23", payer_account=ACCOUNT)

    # When
    decision = decide(facts, invoices, ALIASES)

    # Then: an OCR-corrected reference and a part payment, but the payer is known
    assert decision.auto
    assert says(decision, "whose invoices are named")


def test_a_partial_payment_from_a_payer_not_billed_is_left_for_a_clerk():
    # Given
    invoices = [invoice(123, "1000.00", name="Acme Trading GmbH")]
    facts = payment("400.00", "INV-2026-000123", payer_name="J. Smith")

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert not decision.auto
    assert applied(decision) == [("inv_123", Decimal("400.00"), Decimal(0))]
    assert says(decision, "is not the billed customer")


def test_a_payer_of_the_billed_name_corroborates_a_partial_payment():
    # Given
    invoices = [invoice(123, "1000.00", name="Acme Trading GmbH")]
    facts = payment("400.00", "INV-2O26-000l23", payer_name="ACME TRADING GMBH")

    # When
    decision = decide(facts, invoices, {})

    # Then
    assert decision.auto
    assert says(decision, "is as billed to cus_a")


def test_an_amount_that_settles_an_unnamed_invoice_instead_is_left_for_a_clerk():
    # Given: a typo names 124, but the amount is exactly what 123 asks for
    invoices = [invoice(123, "250.00", customer="cus_a"), invoice(124, "900.00", customer="cus_b")]

    # When
    decision = decide(payment("250.00", "INV-2026-000124"), invoices, {})

    # Then
    assert not decision.auto
    assert says(decision, "settles INV-2026-000123 (cus_a) exactly")
    assert "inv_123" in {c.allocations[0].invoice_id for c in decision.candidates}


@pytest.mark.parametrize(
    ("remittance", "why"),
    [
        ("INV-2026-000999", "not an open invoice"),
        ("INV-2026-000125", "billed in USD where the payment is in EUR"),
        ("RF00 INV2 0260 0012 3", None),  # wrong check digits: not even read
    ],
)
def test_a_reference_that_is_not_an_open_invoice_in_the_currency_is_no_evidence(remittance, why):
    # Given: the payer is known and the amount fits one of its invoices
    invoices = [invoice(123, "300.00"), invoice(125, "300.00", currency="USD")]
    facts = payment("300.00", remittance, payer_account=ACCOUNT)

    # When
    decision = decide(facts, invoices, ALIASES)

    # Then
    assert decision.basis == "customer_amount"
    assert decision.auto
    assert applied(decision) == [("inv_123", Decimal("300.00"), Decimal(0))]
    if why:
        assert says(decision, why)


@pytest.mark.parametrize("remittance", ["INV-2025-0417", "Invoice 2025-417", "inv 2025 000417"])
def test_a_legacy_number_of_another_width_is_found_however_the_payer_writes_it(remittance):
    # Given a migrated invoice numbered INV-2025-0417 (four digits) beside one of ours
    legacy = invoice(1, "320.00").model_copy(
        update={"invoice_id": "legacy-INV-2025-0417", "number": "INV-2025-0417"}
    )
    ours = invoice(417, "320.00")
    # When a payment quotes it
    decision = decide(payment("320.00", remittance), [ours, legacy], ALIASES)
    # Then it pays the legacy invoice, not ours of the same amount
    assert applied(decision) == [("legacy-INV-2025-0417", Decimal("320.00"), Decimal(0))]
    assert decision.auto


# --- rule 2: customer and amount ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "aliases", "source"),
    [
        ({"payer_account": ACCOUNT}, ALIASES, "is a known alias of cus_a"),
        ({"payer_account": ACCOUNT.replace(" ", "").lower()}, ALIASES, "known alias"),
        ({"payer_name": "ACME Group Ltd"}, {"name:acme group": "cus_a"}, "known alias"),
        ({"customer_id": "cus_a"}, {}, "the channel maps the payer to cus_a"),
        ({"metadata": {"customer_id": "cus_a"}}, {}, "gateway metadata names cus_a"),
        ({"payer_name": "ACME TRADING GMBH"}, {}, "is as billed to cus_a"),
    ],
)
def test_a_known_customer_and_a_unique_amount_apply_automatically(facts, aliases, source):
    # Given
    invoices = [
        invoice(123, "100.00", name="Acme Trading GmbH"),
        invoice(124, "250.00", name="Acme Trading GmbH"),
        invoice(125, "250.00", customer="cus_b", name="Other Ltd"),
    ]

    # When
    decision = decide(payment("250.00", "Thank you", **facts), invoices, aliases)

    # Then
    assert decision.auto
    assert decision.basis == "customer_amount"
    assert decision.customer_id == "cus_a"
    assert applied(decision) == [("inv_124", Decimal("250.00"), Decimal(0))]
    assert says(decision, source)


def test_one_combination_of_a_customers_invoices_applies_automatically():
    # Given
    invoices = [invoice(1, "100.00"), invoice(2, "250.00"), invoice(3, "40.00", due_in=1)]

    # When
    decision = decide(payment("140.00", customer_id="cus_a"), invoices, {})

    # Then
    assert decision.auto
    assert applied(decision) == [
        ("inv_3", Decimal("40.00"), Decimal(0)),
        ("inv_1", Decimal("100.00"), Decimal(0)),
    ]


def test_a_combination_honours_discounts_in_time():
    # Given
    invoices = [
        invoice(1, "100.00", discount="2.00", discount_until=ON),
        invoice(2, "50.00", discount="1.00", discount_until=ON - timedelta(days=1)),
    ]

    # When
    decision = decide(payment("148.00", customer_id="cus_a"), invoices, {})

    # Then: the first in time, the second too late
    assert decision.auto
    assert sorted(applied(decision)) == [
        ("inv_1", Decimal("98.00"), Decimal("2.00")),
        ("inv_2", Decimal("50.00"), Decimal(0)),
    ]


def test_two_invoices_of_the_same_amount_are_ambiguous():
    # Given
    invoices = [invoice(1, "99.00"), invoice(2, "99.00")]

    # When
    decision = decide(payment("99.00", payer_account=ACCOUNT), invoices, ALIASES)

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert decision.unapplied == Decimal("99.00")
    assert says(decision, "ambiguous")
    assert [c.allocations[0].invoice_id for c in decision.candidates] == ["inv_1", "inv_2"]


def test_an_amount_fitting_one_invoice_and_a_combination_is_ambiguous():
    # Given
    invoices = [invoice(1, "300.00"), invoice(2, "100.00"), invoice(3, "200.00")]

    # When
    decision = decide(payment("300.00", customer_id="cus_a"), invoices, {})

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert len(decision.candidates) == 2


def test_an_amount_that_fits_nothing_of_the_customer_lists_its_nearest_invoices():
    # Given
    invoices = [invoice(1, "300.00"), invoice(2, "120.00")]

    # When
    decision = decide(payment("117.00", customer_id="cus_a"), invoices, {})

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert decision.customer_id == "cus_a"
    assert [c.allocations[0].invoice_id for c in decision.candidates] == ["inv_2", "inv_1"]


def test_payer_identities_that_disagree_are_left_for_a_clerk():
    # Given: the account is cus_a's, the name a clerk once confirmed for cus_b
    invoices = [invoice(1, "100.00"), invoice(2, "100.00", customer="cus_b")]
    aliases = {**ALIASES, "name:acme group": "cus_b"}
    facts = payment("100.00", payer_account=ACCOUNT, payer_name="Acme Group")

    # When
    decision = decide(facts, invoices, aliases)

    # Then
    assert not decision.auto
    assert decision.allocations == ()
    assert says(decision, "identities disagree")


def test_a_name_billed_to_two_customers_identifies_neither():
    # Given
    invoices = [
        invoice(1, "100.00", name="Müller GmbH"),
        invoice(2, "200.00", customer="cus_b", name="Müller AG"),
    ]

    # When
    decision = decide(payment("100.00", payer_name="MUELLER GMBH"), invoices, {})
    twins = decide(payment("100.00", payer_name="Müller"), invoices, {})

    # Then
    assert not decision.auto
    assert not twins.auto
    assert says(twins, "billed to 2 customers")


# --- rule 3 and 4: amount alone, nothing -------------------------------------------------------


def test_an_amount_alone_is_a_suggestion_never_applied():
    # Given
    invoices = [invoice(1, "123.45"), invoice(2, "99.00", customer="cus_b")]

    # When
    decision = decide(payment("123.45", "Thanks"), invoices, {}, threshold=Decimal("0.1"))

    # Then
    assert not decision.auto
    assert decision.basis == "amount_only"
    assert decision.confidence < DEFAULT_THRESHOLD
    assert applied(decision) == [("inv_1", Decimal("123.45"), Decimal(0))]
    assert decision.customer_id == "cus_a"
    assert says(decision, "a suggestion, not a match")


def test_an_amount_alone_fitting_two_customers_proposes_nothing():
    # Given
    invoices = [invoice(1, "99.00"), invoice(2, "99.00", customer="cus_b")]

    # When
    decision = decide(payment("99.00"), invoices, {})

    # Then
    assert decision.allocations == ()
    assert len(decision.candidates) == 2


def test_nothing_matching_leaves_all_of_it_unapplied_and_says_why():
    # Given
    invoices = [invoice(1, "99.00")]

    # When
    decision = decide(payment("42.00", "Thank you"), invoices, {})

    # Then
    assert decision.basis == "none"
    assert not decision.auto
    assert decision.allocations == ()
    assert decision.unapplied == Decimal("42.00")
    assert decision.confidence == 0
    assert says(decision, "no open invoice in EUR comes to 42.00 EUR")


def test_invoices_in_another_currency_are_never_allocated():
    # Given
    invoices = [invoice(1, "100.00", currency="USD")]

    # When
    decision = decide(payment("100.00", "INV-2026-000001", customer_id="cus_a"), invoices, {})

    # Then
    assert decision.allocations == ()
    assert not decision.auto


def test_a_higher_threshold_sends_the_same_match_to_the_worklist():
    # Given
    invoices = [invoice(123, "400.00")]
    facts = payment("100.00", "INV-2026-000123")

    # When
    default = decide(facts, invoices, {})
    strict = decide(facts, invoices, {}, threshold=Decimal("0.99"))

    # Then
    assert default.auto
    assert not strict.auto
    assert strict.allocations == default.allocations


def test_an_open_invoice_is_read_from_an_issued_one():
    # Given
    issued = invoice_samples.domestic_invoice()

    # When
    open_item = OpenInvoice.from_invoice(issued)

    # Then
    assert open_item.number == issued.number
    assert open_item.amount_due == issued.amount_due
    assert open_item.discount_amount == issued.discount_amount > 0
    assert open_item.discount_until == issued.discount_until
    assert open_item.customer_name == issued.buyer.name


# --- invariants --------------------------------------------------------------------------------

CUSTOMERS = ("cus_a", "cus_b", "cus_c")
AMOUNTS = ("10.00", "25.50", "99.00", "100.00", "250.00", "1190.00")


@st.composite
def worlds(draw):
    count = draw(st.integers(1, 8))
    invoices = []
    for sequence in range(1, count + 1):
        amount = Decimal(draw(st.sampled_from(AMOUNTS)))
        discounted = draw(st.booleans())
        invoices.append(
            invoice(
                sequence,
                str(amount),
                customer=draw(st.sampled_from(CUSTOMERS)),
                currency=draw(st.sampled_from(("EUR", "EUR", "USD"))),
                due_in=draw(st.integers(-30, 30)),
                discount=str(amount * Decimal("0.02")) if discounted else None,
                discount_until=ON + timedelta(days=draw(st.integers(-3, 3)))
                if discounted
                else None,
                name=draw(st.sampled_from(("Acme GmbH", "Beta Ltd", None))),
            )
        )
    named = draw(st.lists(st.sampled_from(invoices), max_size=3))
    noise = draw(st.sampled_from(("{}", "{} ", "ref {}")))
    remittance = " + ".join(noise.format(i.number) for i in named)
    chosen = draw(st.lists(st.sampled_from(invoices), max_size=4, unique_by=lambda i: i.number))
    amount = sum((i.amount_due for i in chosen), Decimal(0)) + draw(
        st.sampled_from((Decimal(0), Decimal(0), Decimal("-1.00"), Decimal("5.55")))
    )
    if amount <= 0:
        amount = Decimal("7.77")
    facts = PaymentFacts(
        amount=amount,
        currency="EUR",
        received_on=ON,
        payer_name=draw(st.sampled_from((None, "ACME GMBH", "Beta", "Stranger"))),
        payer_account=draw(st.sampled_from((None, ACCOUNT))),
        remittance=remittance,
        metadata=draw(st.sampled_from(({}, {"customer_id": "cus_b"}))),
        customer_id=draw(st.sampled_from((None, None, "cus_a", "cus_c"))),
    )
    aliases = draw(st.sampled_from(({}, ALIASES, {"name:beta": "cus_c"})))
    return facts, invoices, aliases


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_allocations_never_exceed_what_is_due_nor_the_payment(world):
    # Given
    facts, invoices, aliases = world
    by_id = {i.invoice_id: i for i in invoices}

    # When
    decision = decide(facts, invoices, aliases)

    # Then
    applied_total = sum((p.amount for p in decision.allocations), Decimal(0))
    assert applied_total + decision.unapplied == facts.amount
    assert 0 <= decision.unapplied <= facts.amount
    assert len({p.invoice_id for p in decision.allocations}) == len(decision.allocations)
    for proposal in decision.allocations:
        open_item = by_id[proposal.invoice_id]
        assert open_item.currency == facts.currency
        assert proposal.amount > 0
        assert proposal.discount >= 0
        assert proposal.amount + proposal.discount <= open_item.amount_due
    assert 0 <= decision.confidence <= 1
    assert decision.auto == (
        bool(decision.allocations)
        and decision.confidence >= DEFAULT_THRESHOLD
        and decision.basis != "amount_only"
    )
    assert decision.explanation


@settings(max_examples=150, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_the_same_facts_give_the_same_decision_whatever_the_order(world, rng):
    # Given
    facts, invoices, aliases = world
    shuffled = list(invoices)
    rng.shuffle(shuffled)

    # When
    first = decide(facts, invoices, aliases)
    again = decide(facts, invoices, aliases)
    reordered = decide(facts, shuffled, aliases)

    # Then
    assert first == again == reordered
