"""Customer accounts, payment terms and principals: the pure rules, without AWS."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import customer as customer_domain
from shared.domain import principal as principal_domain
from shared.domain.customer import (
    Address,
    Customer,
    CustomerClosedError,
    CustomerPatch,
    CustomerRequest,
    CustomerStatus,
    InvalidFieldError,
)
from shared.domain.money import MINOR_UNITS, Money, minor_units
from shared.domain.principal import PartnerPatch, PartnerRequest, PrincipalTransitionError
from shared.domain.terms import NET_30, PaymentTerms, schedule
from shared.http.auth import Role

ADDRESS = {"line1": "Hauptstrasse 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def _request(**overrides) -> dict:
    body = {
        "legal_name": "ACME Retail GmbH",
        "billing_email": "ap@acme.example",
        "currency": "EUR",
        "billing_address": ADDRESS,
    }
    body.update(overrides)
    return body


def _customer(**overrides) -> Customer:
    customer, _ = customer_domain.open_account(
        CustomerRequest.model_validate(_request(**overrides)), "stf_admin"
    )
    return customer


def _errors(model, body) -> set[str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(body)
    return {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}


# --- payment terms -------------------------------------------------------------------------


def test_net_30_is_due_thirty_days_after_issue_without_a_discount():
    # When an invoice of 100.00 EUR is issued on 2026-01-15 on net 30
    plan = schedule(NET_30, date(2026, 1, 15), Money(amount=Decimal("100"), currency="EUR"))
    # Then it is due on 2026-02-14, with no early-payment offer
    assert plan.due_on == date(2026, 2, 14)
    assert plan.discount_until is None
    assert plan.discount == Money(amount=Decimal("0.00"), currency="EUR")
    assert plan.discounted_amount.amount == Decimal("100.00")


def test_2_10_net_30_offers_two_percent_for_ten_days():
    terms = PaymentTerms.net(30, discount_percent="2", discount_days=10)
    plan = schedule(terms, date(2026, 1, 15), Money(amount=Decimal("1234.56"), currency="EUR"))
    assert plan.due_on == date(2026, 2, 14)
    assert plan.discount_until == date(2026, 1, 25)
    assert plan.discount.amount == Decimal("24.69")  # 24.6912 half-up
    assert plan.discounted_amount.amount == Decimal("1209.87")
    assert terms.label() == "2/10 net 30"


def test_the_discount_rounds_half_up_to_the_minor_unit():
    terms = PaymentTerms.net(30, discount_percent="2.5", discount_days=10)
    assert schedule(
        terms, date(2026, 1, 1), Money(amount=Decimal("0.50"), currency="EUR")
    ).discount.amount == Decimal("0.01")
    assert schedule(
        terms, date(2026, 1, 1), Money(amount=Decimal("101"), currency="JPY")
    ).discount.amount == Decimal("3")


def test_due_on_receipt_is_due_on_the_issue_date():
    terms = PaymentTerms(kind="due_on_receipt")
    plan = schedule(terms, date(2026, 3, 31), Money(amount=Decimal("5"), currency="GBP"))
    assert plan.due_on == date(2026, 3, 31)
    assert terms.label() == "Due on receipt"


def test_a_negative_amount_has_no_terms():
    with pytest.raises(ValueError, match="zero or more"):
        schedule(NET_30, date(2026, 1, 1), Money(amount=Decimal("-1"), currency="EUR"))


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"kind": "net"}, ""),  # net without days
        ({"kind": "net", "net_days": 366}, "net_days"),
        ({"kind": "net", "net_days": -1}, "net_days"),
        ({"kind": "net", "net_days": "30"}, "net_days"),  # strict: no strings for numbers
        ({"kind": "net", "net_days": 30, "discount_percent": "2"}, ""),  # days missing
        ({"kind": "net", "net_days": 30, "discount_days": 10}, ""),  # percent missing
        ({"kind": "net", "net_days": 30, "discount_percent": "101", "discount_days": 10}, ""),
        (
            {"kind": "net", "net_days": 30, "discount_percent": 2, "discount_days": 10},
            "discount_percent",
        ),
        (
            {"kind": "net", "net_days": 30, "discount_percent": "-2", "discount_days": 10},
            "discount_percent",
        ),
        ({"kind": "net", "net_days": 10, "discount_percent": "2", "discount_days": 30}, ""),
        ({"kind": "due_on_receipt", "net_days": 30}, ""),
        ({"kind": "due_on_receipt", "discount_percent": "2", "discount_days": 0}, ""),
        ({"kind": "eom"}, "kind"),
        ({"kind": "net", "net_days": 30, "surprise": 1}, "surprise"),
    ],
)
def test_inconsistent_terms_are_refused(terms, field):
    assert field in _errors(PaymentTerms, terms)


def test_terms_read_back_from_the_table_accept_decimal_numbers():
    stored = {
        "kind": "net",
        "net_days": Decimal(30),
        "discount_percent": "2",
        "discount_days": Decimal(10),
    }
    assert PaymentTerms.from_stored(stored) == PaymentTerms.net(
        30, discount_percent="2", discount_days=10
    )


@st.composite
def _terms(draw) -> PaymentTerms:
    if draw(st.booleans()):
        return PaymentTerms(kind="due_on_receipt")
    net_days = draw(st.integers(min_value=0, max_value=365))
    if not draw(st.booleans()):
        return PaymentTerms.net(net_days)
    percent = draw(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False))
    discount_days = draw(st.integers(min_value=0, max_value=net_days))
    return PaymentTerms.net(net_days, discount_percent=str(percent), discount_days=discount_days)


@given(
    terms=_terms(),
    issued_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    amount=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_schedule_properties(terms, issued_on, amount, currency):
    plan = schedule(terms, issued_on, Money(amount=amount, currency=currency))
    unit = Decimal(1).scaleb(-minor_units(currency))
    # due exactly net_days after issue; the discount window never outlasts it
    assert plan.due_on - issued_on == timedelta(days=terms.net_days or 0)
    if plan.discount_until is None:
        assert plan.discount.amount == 0
    else:
        assert issued_on <= plan.discount_until <= plan.due_on
    # the discount is the rate of the (rounded) amount, half-up to the minor unit, never more
    total = plan.amount.amount
    assert abs(total - amount) <= unit / 2
    assert 0 <= plan.discount.amount <= total
    if plan.discount_until is not None:
        assert abs(plan.discount.amount - total * terms.discount_rate) <= unit / 2
    assert plan.discount.amount + plan.discounted_amount.amount == total
    for money in (plan.amount, plan.discount, plan.discounted_amount):
        assert money.currency == currency
        assert money.amount.as_tuple().exponent == -minor_units(currency)


@given(
    net_days=st.integers(min_value=0, max_value=365),
    amount=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
)
def test_a_bigger_discount_never_costs_the_payer_more(net_days, amount):
    money = Money(amount=amount, currency="EUR")
    small = schedule(
        PaymentTerms.net(net_days, discount_percent="1", discount_days=0), date(2026, 1, 1), money
    )
    large = schedule(
        PaymentTerms.net(net_days, discount_percent="3", discount_days=0), date(2026, 1, 1), money
    )
    assert large.discounted_amount.amount <= small.discounted_amount.amount


# --- opening an account --------------------------------------------------------------------


def test_an_account_opens_active_at_version_1_with_its_event():
    request = CustomerRequest.model_validate(
        _request(credit_limit="50000.00", tax_id="DE123456788")
    )
    customer, event = customer_domain.open_account(request, "stf_admin")
    assert customer.customer_id.startswith("cus_")
    assert customer.status is CustomerStatus.ACTIVE and customer.version == 1
    assert customer.payment_terms == NET_30 and customer.dunning_policy == "default"
    assert customer.credit_limit == Decimal("50000.00")
    assert (event.detail_type, event.source, event.aggregate_id) == (
        "CustomerCreated",
        "otc.accounts",
        customer.customer_id,
    )
    assert event.data == {**customer.to_wire(), "actor": "stf_admin"}
    assert event.data["credit_limit"] == "50000.00"


def test_notifications_go_to_the_contact_email_else_the_billing_email():
    assert _customer().notification_email == "ap@acme.example"
    assert _customer(contact_email="ops@acme.example").notification_email == "ops@acme.example"


def test_an_account_built_the_old_way_still_works():
    customer = Customer(
        customer_id="cus_x", legal_name="X", billing_email="x@x.example", currency="EUR"
    )
    assert customer.status is CustomerStatus.ACTIVE
    assert customer.credit_limit == 0 and customer.updated_at == customer.created_at


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"credit_limit": "-1"}, "credit_limit"),
        ({"credit_limit": 100}, "credit_limit"),
        ({"credit_limit": "10.001"}, "credit_limit"),  # finer than the cent
        ({"billing_email": "not-an-email"}, "billing_email"),
        ({"billing_address": {**ADDRESS, "country": "XX"}}, "billing_address.country"),
        ({"billing_address": {**ADDRESS, "country": "de"}}, "billing_address.country"),
        ({"billing_address": {**ADDRESS, "city": ""}}, "billing_address.city"),
        ({"billing_address": {**ADDRESS, "planet": "Earth"}}, "billing_address.planet"),
        ({"legal_name": "   "}, "legal_name"),
        ({"tax_id": "<script>"}, "tax_id"),
        ({"dunning_policy": "Not A Slug"}, "dunning_policy"),
        ({"dunning_policy": "platinum"}, "dunning_policy"),  # no such policy
        ({"status": "closed"}, "status"),  # an account always opens active
        ({"customer_id": "cus_mine"}, "customer_id"),  # ids are the server's
        ({"pdf_format": "xrechnung"}, "pdf_format"),  # no such format
        ({"pdf_format": None}, "pdf_format"),
    ],
)
def test_bad_account_requests_are_refused_at_the_field(overrides, field):
    assert field in _errors(CustomerRequest, _request(**overrides))


def test_a_zero_decimal_currency_takes_no_cents_in_the_limit():
    assert "credit_limit" in _errors(CustomerRequest, _request(currency="JPY", credit_limit="1.50"))
    assert CustomerRequest.model_validate(_request(currency="JPY", credit_limit="150"))


# --- amending an account -------------------------------------------------------------------


def test_an_amendment_bumps_the_version_and_records_before_and_after():
    customer = _customer(credit_limit="1000.00")
    patch = CustomerPatch.model_validate(
        {"version": 1, "credit_limit": "2500", "legal_name": "ACME AG"}
    )
    amendment = customer_domain.amend(customer, patch, "stf_cm")
    assert amendment.changed == {"credit_limit", "legal_name"}
    assert amendment.customer.version == 2
    assert amendment.customer.credit_limit == Decimal("2500")
    assert amendment.event is not None
    assert amendment.event.detail_type == "CustomerUpdated"
    assert amendment.event.data["changes"] == {
        "credit_limit": {"before": "1000.00", "after": "2500.00"},
        "legal_name": {"before": "ACME Retail GmbH", "after": "ACME AG"},
    }
    assert amendment.event.data["version"] == 2 and amendment.event.data["actor"] == "stf_cm"


def test_an_account_asks_for_plain_pdfs_unless_it_wants_factur_x():
    # Given an account opened without a PDF format, and one asking for Factur-X
    plain, _ = customer_domain.open_account(CustomerRequest.model_validate(_request()), "s")
    hybrid_request = CustomerRequest.model_validate(_request(pdf_format="factur-x"))
    hybrid, _ = customer_domain.open_account(hybrid_request, "s")

    # Then the first gets plain PDFs, the second Factur-X, and either can change its mind
    assert (plain.pdf_format, hybrid.pdf_format) == ("pdf", "factur-x")
    assert hybrid.to_wire()["pdf_format"] == "factur-x"
    patch = CustomerPatch.model_validate({"version": 1, "pdf_format": "factur-x"})
    amendment = customer_domain.amend(plain, patch, "s")
    assert amendment.customer.pdf_format == "factur-x"
    assert amendment.changed == {"pdf_format"}
    assert amendment.event is not None
    assert amendment.event.data["changes"] == {"pdf_format": {"before": "pdf", "after": "factur-x"}}


def test_sending_the_current_values_changes_nothing():
    customer = _customer()
    patch = CustomerPatch.model_validate(
        {"version": 1, "legal_name": customer.legal_name, "status": "active"}
    )
    amendment = customer_domain.amend(customer, patch, "stf_admin")
    assert amendment.changed == frozenset() and amendment.event is None
    assert amendment.customer is customer


def test_null_clears_an_optional_field_and_is_refused_for_a_required_one():
    customer = _customer(contact_email="ops@acme.example")
    cleared = customer_domain.amend(
        customer, CustomerPatch.model_validate({"version": 1, "contact_email": None}), "s"
    )
    assert cleared.customer.contact_email is None
    assert "legal_name" in _errors(CustomerPatch, {"version": 1, "legal_name": None})
    assert "version" in _errors(CustomerPatch, {"legal_name": "X"})
    assert "currency" in _errors(CustomerPatch, {"version": 1, "currency": "GBP"})  # fixed


def test_a_limit_finer_than_the_currency_is_refused_with_its_field():
    patch = CustomerPatch.model_validate({"version": 1, "credit_limit": "1.005"})
    with pytest.raises(InvalidFieldError) as raised:
        customer_domain.amend(_customer(), patch, "s")
    assert raised.value.field == "credit_limit"


def test_a_closed_account_accepts_only_being_reopened():
    closed = customer_domain.amend(
        _customer(), CustomerPatch.model_validate({"version": 1, "status": "closed"}), "s"
    ).customer
    with pytest.raises(CustomerClosedError):
        customer_domain.amend(
            closed, CustomerPatch.model_validate({"version": 2, "legal_name": "Y"}), "s"
        )
    reopened = customer_domain.amend(
        closed,
        CustomerPatch.model_validate({"version": 2, "status": "active", "legal_name": "Y"}),
        "s",
    )
    assert reopened.reopens and reopened.customer.status is CustomerStatus.ACTIVE
    assert reopened.customer.legal_name == "Y"


def test_an_address_comes_back_from_the_table():
    stored = {**ADDRESS, "line2": None, "region": None}
    assert Address.from_stored(stored) == Address.model_validate(ADDRESS)


# --- principals ----------------------------------------------------------------------------


def test_a_partner_starts_at_version_1_and_its_event_holds_no_key():
    partner, event = principal_domain.new_partner(
        PartnerRequest.model_validate({"name": "ERP", "customer_ids": ["cus_b", "cus_a"]}), "stf"
    )
    assert partner.principal_id.startswith("prt_") and partner.role is Role.PARTNER
    assert partner.customer_ids == ("cus_a", "cus_b")
    assert event.detail_type == "PartnerCreated" and "active_keys" in event.data
    key, issued = principal_domain.issue_key(partner, "ERP prod", "stf")
    assert key.key_id.startswith("key_") and issued.detail_type == "ApiKeyIssued"
    assert set(issued.data) == {
        "key_id",
        "principal_id",
        "role",
        "label",
        "status",
        "created_at",
        "revoked_at",
        "gateway_key_id",
        "actor",
    }


def test_partner_requests_refuse_duplicates_nulls_and_extras():
    assert "customer_ids" in _errors(PartnerRequest, {"name": "P", "customer_ids": ["a", "a"]})
    assert "customer_ids" in _errors(PartnerPatch, {"version": 1, "customer_ids": None})
    assert "role" in _errors(PartnerRequest, {"name": "P", "customer_ids": [], "role": "admin"})


def test_rebinding_records_the_change_and_a_principal_holds_a_bounded_number_of_keys():
    partner, _ = principal_domain.new_partner(
        PartnerRequest.model_validate({"name": "ERP", "customer_ids": ["cus_a"]}), "stf"
    )
    rebound, event = principal_domain.amend_partner(
        partner, PartnerPatch.model_validate({"version": 1, "customer_ids": ["cus_b"]}), "stf"
    )
    assert rebound.customer_ids == ("cus_b",) and rebound.version == 2
    assert event is not None
    assert event.data["changes"] == {"customer_ids": {"before": ["cus_a"], "after": ["cus_b"]}}
    full = partner.model_copy(update={"active_keys": {f"key_{n}": f"APIKEY#{n}" for n in range(5)}})
    with pytest.raises(PrincipalTransitionError):
        principal_domain.issue_key(full, None, "stf")


def test_a_revoked_key_cannot_be_revoked_again():
    partner, _ = principal_domain.new_partner(
        PartnerRequest.model_validate({"name": "ERP", "customer_ids": []}), "stf"
    )
    key, _ = principal_domain.issue_key(partner, None, "stf")
    revoked, event = principal_domain.revoke_key(key, "stf")
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert event.detail_type == "ApiKeyRevoked"
    with pytest.raises(PrincipalTransitionError):
        principal_domain.revoke_key(revoked, "stf")
