"""The payment reminder a customer gets: subject, plain text and HTML, one template per level.

One e-mail per customer per day lists every invoice the day's run reached, whatever its level;
the tone is that of the highest level among them (``plan.template``). Each line says the invoice
number, its due date, how many days it is overdue (or until due), the amount due and any fee and
interest charged now; the totals follow per currency, then a link to the statement of account
and, when one is given, the contact's signed link to the customer portal.
Every value is escaped in the HTML part, and the subject is one line.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from shared.domain.dunning import ReminderLine, ReminderPlan
from shared.domain.money import quantize
from shared.domain.notifications import Email, portal_invitation, subject_line


@dataclass(frozen=True)
class Template:
    subject: str
    opening: str
    closing: str


TEMPLATES: dict[str, Template] = {
    "friendly_reminder": Template(
        subject="Friendly reminder: invoices due soon",
        opening="This is a friendly reminder that the invoices below fall due soon.",
        closing="If you have already arranged payment, thank you, and please disregard this note.",
    ),
    "reminder": Template(
        subject="Payment reminder: overdue invoices",
        opening="Our records show that the invoices below are past their due date.",
        closing="Please arrange payment at your earliest convenience. If you have already "
        "paid, please disregard this reminder.",
    ),
    "second_notice": Template(
        subject="Second notice: overdue invoices",
        opening="Despite our earlier reminder, the invoices below are still unpaid.",
        closing="Please pay the amounts below within 7 days. A reminder fee and interest on "
        "late payment have been charged as shown.",
    ),
    "final_notice": Template(
        subject="Final notice: overdue invoices",
        opening="This is our final notice: the invoices below remain unpaid.",
        closing="Your account has been placed on credit hold: new orders will be held until "
        "the balance is settled. Please pay within 7 days; your statement of account is "
        "attached.",
    ),
    "escalation": Template(
        subject="Overdue invoices referred for collection",
        opening="As the invoices below remain unpaid after our final notice, your account is "
        "being referred for collection.",
        closing="To avoid further steps, please pay the full balance immediately or contact "
        "us today.",
    ),
}


def render(plan: ReminderPlan, customer_name: str, *, portal_url: str | None = None) -> Email:
    """The e-mail of ``plan``; ``portal_url`` a signed link to the customer's portal
    (``functions.portal.links``), where the contact reads its statement and pays: the only link
    a customer can open without an API key."""
    template = TEMPLATES.get(plan.template, TEMPLATES["reminder"])
    greeting = f"Hello {_one_line(customer_name) or 'customer'},"
    totals = [_total_line(currency, sums) for currency, sums in plan.totals().items()]
    invitation = [portal_invitation(portal_url)] if portal_url else []
    text = "\n\n".join(
        [
            greeting,
            template.opening,
            "\n".join(_text_line(line) for line in plan.lines),
            "\n".join(totals),
            template.closing,
            *(paragraph for paragraph, _ in invitation),
            "Kind regards,\nAccounts receivable",
        ]
    )
    links = "".join(markup for _, markup in invitation)
    return Email(
        subject=subject_line(template.subject),
        text=text + "\n",
        html=_html(greeting, template, plan.lines, totals, links),
    )


def _text_line(line: ReminderLine) -> str:
    parts = [
        f"- Invoice {line.number}",
        f"due {line.due_on.isoformat()}",
        _overdue(line.days_overdue),
        f"amount due {_chased(line)}",
    ]
    if line.fee > 0:
        parts.append(f"fee {_money(line.fee, line.currency)}")
    if line.interest > 0:
        parts.append(f"interest {_money(line.interest, line.currency)}")
    return ", ".join(parts)


def _chased(line: ReminderLine) -> str:
    """The amount chased, and the customer's own credit already set against the invoice."""
    chased = _money(line.amount_due, line.currency)
    if line.covered_by_credit <= 0:
        return chased
    return f"{chased} (after your credit of {_money(line.covered_by_credit, line.currency)})"


def _overdue(days: int) -> str:
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} overdue"
    if days == 0:
        return "due today"
    return f"due in {-days} day{'s' if days != -1 else ''}"


def _total_line(currency: str, sums: dict[str, Decimal]) -> str:
    figures = [f"amount due {_money(sums['amount_due'], currency)}"]
    if sums["fees"] > 0:
        figures.append(f"fees {_money(sums['fees'], currency)}")
    if sums["interest"] > 0:
        figures.append(f"interest {_money(sums['interest'], currency)}")
    return f"Total {currency}: {_money(sums['total'], currency)} ({', '.join(figures)})"


def _html(
    greeting: str,
    template: Template,
    lines: tuple[ReminderLine, ...],
    totals: list[str],
    links: str,
) -> str:
    """The HTML part; ``links`` is the markup of its links (statement, portal), escaped."""
    head = "".join(
        f"<th>{name}</th>"
        for name in ("Invoice", "Due date", "Days overdue", "Amount due", "Fee", "Interest")
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                line.number,
                line.due_on.isoformat(),
                str(line.days_overdue),
                _chased(line),
                _money(line.fee, line.currency),
                _money(line.interest, line.currency),
            )
        )
        + "</tr>"
        for line in lines
    )
    body = (
        f"<p>{html.escape(greeting)}</p><p>{html.escape(template.opening)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        + "".join(f"<p>{html.escape(total)}</p>" for total in totals)
        + f"<p>{html.escape(template.closing)}</p>"
        + links
        + "<p>Kind regards,<br>Accounts receivable</p>"
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>' + body + "</body></html>"
    )


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency):,f} {currency}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
