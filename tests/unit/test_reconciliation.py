"""The identities between the views of a customer's money find every kind of disagreement."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.reconciliation import CustomerViews, books_differences, customer_differences

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def statement(closing: str = "80.00", **aging: Any) -> dict[str, Any]:
    """Owes 100.00 on one invoice (current) and 12.00 of fees (1-30), holds 32.00 for it."""
    figures = {
        "buckets": {name: money("0.00") for name in BUCKETS}
        | {"current": money("100.00"), "1-30": money("12.00")},
        "total": money("112.00"),
        "unapplied": money("32.00"),
        "balance": money("80.00"),
        "open_invoices": [
            {"invoice_id": "inv_1", "amount_due": money("100.00"), "kind": "invoice"},
            {"invoice_id": "fee:inv_1:2", "amount_due": money("12.00"), "kind": "fee"},
        ],
    } | aging
    return {"closing_balance": money(closing), "aging": figures}


def row(**changes: Any) -> dict[str, Any]:
    figures = {
        "customer_id": "cus_1",
        "buckets": {name: "0.00" for name in BUCKETS} | {"current": "100.00", "1-30": "12.00"},
        "total": "112.00",
        "unapplied": "32.00",
        "balance": "80.00",
    }
    return figures | changes


def credit(**changes: str) -> dict[str, str]:
    return {"open_receivables": "112.00", "unapplied_cash": "32.00"} | changes


def invoice(amount_due: str = "100.00") -> dict[str, Any]:
    return {"id": "inv_1", "number": "INV-1", "kind": "invoice", "amount_due": money(amount_due)}


def views(**changes: Any) -> CustomerViews:
    given = {
        "customer_id": "cus_1",
        "statement": statement(),
        "aging_row": row(),
        "credit": credit(),
        "invoices": [invoice(), {"id": "cn_1", "kind": "credit_note", "amount_due": money("0")}],
    }
    return CustomerViews(**(given | changes))


def test_views_that_agree_have_no_difference():
    assert customer_differences(views()) == []


def test_a_customer_with_nothing_open_and_no_row_in_the_report_agrees():
    # Given nothing open, nothing held: the aging report lists no row for the customer
    empty = statement(
        "0.00",
        buckets={name: money("0.00") for name in BUCKETS},
        total=money("0.00"),
        unapplied=money("0.00"),
        balance=money("0.00"),
        open_invoices=[],
    )

    # Then
    found = customer_differences(
        views(
            statement=empty,
            aging_row=None,
            credit=credit(open_receivables="0", unapplied_cash="0"),
            invoices=[],
        )
    )
    assert found == []


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        # the statement's balance leaves out the fees its aging counts (the first audit's bug)
        ({"statement": statement("68.00")}, "statement aging balance is 80.00, expected 68.00"),
        # the aging report has the fees in another bucket
        (
            {"aging_row": row(buckets={n: "0.00" for n in BUCKETS} | {"current": "112.00"})},
            "aging report bucket 1-30 is 0.00, expected 12.00",
        ),
        # the report does not know the money held for the customer
        ({"aging_row": row(unapplied="0.00", balance="112.00")}, "aging report unapplied"),
        # a customer missing from the report although it owes
        ({"aging_row": None}, "aging report total is 0, expected 112.00"),
        # credit exposure leaves out fees and interest
        ({"credit": credit(open_receivables="100.00")}, "credit figures"),
        # the credit figures do not hold a credit note's credit
        ({"credit": credit(unapplied_cash="0.00")}, "credit figures"),
        # the figures hold more cash, and owe as much more, than the books (collections would
        # set that credit against the invoices)
        (
            {"credit": credit(open_receivables="122.00", unapplied_cash="42.00")},
            "credit figures' unapplied cash is 42.00, expected 32.00",
        ),
        # an invoice reopened whole by a partial refund
        ({"invoices": [invoice("147.58")]}, "amount due of invoice INV-1 is 147.58"),
    ],
)
def test_each_disagreement_is_named_with_both_amounts(changes: dict[str, Any], named: str):
    # When
    found = customer_differences(views(**changes))

    # Then
    assert any(named in difference for difference in found), found
    assert all(difference.startswith("cus_1: ") for difference in found)


def test_buckets_that_do_not_sum_to_the_total_are_a_difference():
    # Given a statement whose total disagrees with its buckets and items
    wrong = statement(total=money("120.00"), balance=money("88.00"))

    # Then
    found = customer_differences(views(statement=wrong, aging_row=row(total="120.00")))
    assert any("sum of statement aging buckets is 112.00, expected 120.00" in f for f in found)
    assert any("sum of statement open items is 112.00, expected 120.00" in f for f in found)


def test_the_trial_balance_must_hold_the_aging_reports_totals():
    # Given an aging report: 112.00 open, 32.00 held, in EUR
    report = {"currencies": [{"currency": "EUR", "totals": row()}]}

    def trial_balance(*lines: tuple[str, str], credits: str = "500.00") -> dict[str, Any]:
        accounts = [{"account": account, "balance": balance} for account, balance in lines]
        totals = {"debits": "500.00", "credits": credits}
        return {"currencies": [{"currency": "EUR", "accounts": accounts, "totals": totals}]}

    # receivables on two codes (per tax group, say), the money held on one
    agreeing = trial_balance(
        ("receivables", "100.00"), ("receivables", "12.00"), ("unapplied_cash", "-32.00")
    )
    short = trial_balance(("receivables", "100.00"), credits="499.99")

    # Then
    assert books_differences(report, agreeing) == []
    assert books_differences(report, short) == [
        "EUR: trial balance receivables is 100.00, aging 112.00",
        "EUR: trial balance unapplied_cash is 0, aging -32.00",
        "EUR: trial balance debits 500.00 != credits 499.99",
    ]


def _charge(charge_id: str, amount_due: str) -> dict[str, Any]:
    return {"id": charge_id, "kind": "fee", "amount_due": money(amount_due)}


def test_a_charge_whose_amount_due_is_its_open_item_agrees():
    # Given the fee the statement has open, and one settled that it has no item for
    charges = [_charge("fee:inv_1:2", "12.00"), _charge("fee:inv_1:1", "0.00")]

    # Then the views agree
    assert customer_differences(views(charges=charges)) == []


def test_a_charge_whose_amount_due_differs_from_its_open_item_is_named():
    # Given a fee settled by its record while the statement still has it open
    found = customer_differences(views(charges=[_charge("fee:inv_1:2", "0.00")]))

    # Then the difference names the charge and both amounts
    assert found == ["cus_1: amount due of fee fee:inv_1:2 is 0.00, expected 12.00"]
