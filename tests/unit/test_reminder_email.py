"""The reminder e-mail: one per customer and day, in the tone of its highest level."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from functions.dunning import reminder_email
from shared.domain.dunning import ReminderLine, ReminderPlan
from shared.domain.notifications import PORTAL_TEXT

AS_OF = date(2026, 12, 16)


def _line(number: str, *, due: date, level: int, name: str, **amounts: str) -> ReminderLine:
    return ReminderLine(
        invoice_id=f"inv_{number}",
        number=number,
        currency="EUR",
        due_on=due,
        days_overdue=(AS_OF - due).days,
        level=level,
        level_name=name,
        amount_due=Decimal(amounts.get("amount_due", "100.00")),
        fee=Decimal(amounts.get("fee", "0.00")),
        interest=Decimal(amounts.get("interest", "0.00")),
        interest_through=AS_OF if due < AS_OF else None,
    )


def _plan(template: str, *lines: ReminderLine) -> ReminderPlan:
    return ReminderPlan(
        customer_id="cus_acme",
        as_of=AS_OF,
        policy="default",
        lines=lines,
        skipped=(),
        promises=(),
        credit_hold=template == "final_notice",
        attach_statement=template == "final_notice",
        template=template,
    )


def test_every_line_is_listed_with_its_figures_and_the_totals_follow():
    # Given a second notice with one invoice at its fee and one at a lower level
    plan = _plan(
        "second_notice",
        _line(
            "INV-1",
            due=date(2026, 12, 2),
            level=2,
            name="second_notice",
            fee="5.00",
            interest="0.31",
        ),
        _line(
            "INV-2",
            due=date(2026, 12, 13),
            level=1,
            name="reminder",
            amount_due="1234.50",
            interest="0.81",
        ),
    )

    # When it is rendered
    email = reminder_email.render(plan, "ACME Retail GmbH")

    # Then the subject is the highest level's, and each line and the totals are in both parts
    assert email.subject == "Second notice: overdue invoices"
    assert (
        "- Invoice INV-1, due 2026-12-02, 14 days overdue, amount due 100.00 EUR, "
        "fee 5.00 EUR, interest 0.31 EUR" in email.text
    )
    assert (
        "- Invoice INV-2, due 2026-12-13, 3 days overdue, amount due 1,234.50 EUR, "
        "interest 0.81 EUR" in email.text
    )
    assert (
        "Total EUR: 1,340.62 EUR (amount due 1,334.50 EUR, fees 5.00 EUR, interest 1.12 EUR)"
        in email.text
    )
    assert (
        "<td>INV-1</td><td>2026-12-02</td><td>14</td><td>100.00 EUR</td><td>5.00 EUR</td>"
        in email.html
    )
    assert "Hello ACME Retail GmbH," in email.text


def test_the_only_link_is_one_the_customer_can_open():
    plan = _plan("reminder", _line("INV-1", due=date(2026, 12, 13), level=1, name="reminder"))
    url = "https://api.otc.example/v1/portal/cus_acme?token=1.2.abc.def"

    email = reminder_email.render(plan, "ACME", portal_url=url)

    # the statement is in the portal; the API's statement route wants a staff or partner key
    assert "/customers/cus_acme/statement" not in email.text + email.html
    assert [line for line in email.text.splitlines() if "https://" in line] == [
        f"{PORTAL_TEXT}: {url}"
    ]
    assert email.html.count("<a href=") == 1


def test_a_friendly_reminder_counts_the_days_until_due():
    plan = _plan(
        "friendly_reminder",
        _line("INV-9", due=date(2026, 12, 21), level=0, name="friendly_reminder"),
    )

    email = reminder_email.render(plan, "ACME")

    assert email.subject == "Friendly reminder: invoices due soon"
    assert "due 2026-12-21, due in 5 days, amount due 100.00 EUR" in email.text
    assert "fee" not in email.text.split("Total")[0]


@pytest.mark.parametrize("template", sorted(reminder_email.TEMPLATES))
def test_every_level_has_its_own_subject_and_words(template: str):
    plan = _plan(template, _line("INV-1", due=date(2026, 12, 2), level=1, name=template))

    email = reminder_email.render(plan, "ACME")

    assert email.subject == reminder_email.TEMPLATES[template].subject
    assert reminder_email.TEMPLATES[template].opening in email.text
    assert "\n" not in email.subject


def test_values_from_the_account_are_escaped_and_kept_to_one_line():
    plan = _plan("reminder", _line("INV-<1>", due=date(2026, 12, 2), level=1, name="reminder"))

    email = reminder_email.render(plan, "Evil <script>\nCorp")

    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<td>INV-&lt;1&gt;</td>" in email.html
    assert "Hello Evil <script> Corp," in email.text


def test_a_portal_link_is_offered_in_both_parts_escaped_in_html():
    plan = _plan("reminder", _line("INV-2", due=date(2026, 12, 2), level=1, name="reminder"))
    url = 'https://api.example/portal/cus_acme?token=1.2.a"b<c>.d&x=1'

    email = reminder_email.render(plan, "ACME", portal_url=url)

    assert f"{PORTAL_TEXT}: {url}\n" in email.text
    assert 'href="https://api.example/portal/cus_acme?token=1.2.a&quot;b&lt;c&gt;.d&amp;x=1"' in (
        email.html
    )
    assert url not in email.html
    assert PORTAL_TEXT not in reminder_email.render(plan, "ACME").text
