"""Dunning levels, fees, promises to pay and late-payment interest (shared.domain.dunning)."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain import dunning, ledger
from shared.domain.charges import Charge
from shared.domain.dunning import (
    POLICIES,
    AllocationSpan,
    DueInvoice,
    Fee,
    InvoiceDunning,
    Promise,
    PromiseChange,
    PromiseStatus,
    ReminderLine,
    ReminderPlan,
    accrued_interest,
    plan,
)
from shared.domain.ledger import Account

DEFAULT = POLICIES["default"]
DUE = date(2026, 1, 31)
AT = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def due_invoice(
    invoice_id: str = "inv_1",
    *,
    number: str | None = None,
    currency: str = "EUR",
    due_on: date = DUE,
    total: str = "1000.00",
    credited: str = "0",
    amount_due: str | None = None,
    status: str = "open",
    allocations: tuple[AllocationSpan, ...] = (),
) -> DueInvoice:
    settled = sum((span.amount for span in allocations if span.reversed_on is None), Decimal(0))
    left = Decimal(total) - Decimal(credited) - settled
    return DueInvoice(
        invoice_id=invoice_id,
        number=number or f"INV-{invoice_id}",
        customer_id="cus_1",
        currency=currency,
        issued_on=due_on - timedelta(days=30),
        due_on=due_on,
        total=Decimal(total),
        amount_credited=Decimal(credited),
        amount_due=Decimal(amount_due) if amount_due is not None else left,
        status=status,
        allocations=allocations,
    )


def promise(
    *, promised_on: date, amount: str = "1000.00", due_when_made: str = "1000.00"
) -> Promise:
    return Promise(
        promise_id="prm_1",
        invoice_id="inv_1",
        customer_id="cus_1",
        promised_on=promised_on,
        amount=Decimal(amount),
        due_when_made=Decimal(due_when_made),
        recorded_by="usr_clerk",
        recorded_at=AT,
    )


def run(
    invoices: list[DueInvoice],
    as_of: date,
    states: Mapping[str, InvoiceDunning] | None = None,
    policy: dunning.Policy = DEFAULT,
) -> ReminderPlan:
    return plan("cus_1", policy, invoices, states or {}, as_of)


def walk(
    invoice: DueInvoice, days: list[date], policy: dunning.Policy = DEFAULT
) -> dict[date, ReminderLine]:
    """Run on each of ``days`` in turn, keeping the state each run leaves: the lines sent."""
    states: dict[str, InvoiceDunning] = {}
    sent: dict[date, ReminderLine] = {}
    for day in days:
        reminder = run([invoice], day, states, policy)
        states.update(reminder.states_after(states))
        for line in reminder.lines:  # one invoice: one line at most
            sent[day] = line
    return sent


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- levels -------------------------------------------------------------------------------------


def test_the_default_policy_walks_an_invoice_through_every_level_once():
    # Given 1000.00 due on 31 Jan, nothing paid
    invoice = due_invoice()

    # When the run goes every day from 20 Jan to 30 Apr
    sent = walk(invoice, every_day(date(2026, 1, 20), date(2026, 4, 30)))

    # Then each level goes out once, on its day, with its fee and the interest accrued since
    assert [
        (day, line.level, line.level_name, line.days_overdue, line.fee, line.interest)
        for day, line in sent.items()
    ] == [
        (date(2026, 1, 26), 0, "friendly_reminder", -5, Decimal("0.00"), Decimal("0.00")),
        (date(2026, 2, 3), 1, "reminder", 3, Decimal("0.00"), Decimal("0.66")),  # 3 days
        (date(2026, 2, 14), 2, "second_notice", 14, Decimal("5.00"), Decimal("2.41")),  # 3.07
        (date(2026, 3, 2), 3, "final_notice", 30, Decimal("10.00"), Decimal("3.51")),  # 6.58
        (date(2026, 3, 17), 4, "escalation", 45, Decimal("10.00"), Decimal("3.28")),  # 9.86
    ]
    assert sent[date(2026, 1, 26)].interest_through is None
    assert sent[date(2026, 3, 17)].interest_through == date(2026, 3, 17)


def test_each_level_carries_its_template_hold_and_statement():
    # Given
    invoice = due_invoice()

    # When
    final = run([invoice], date(2026, 3, 2), {"inv_1": InvoiceDunning(invoice_id="inv_1")})
    reminder = run([invoice], date(2026, 2, 3))

    # Then
    assert (final.template, final.credit_hold, final.attach_statement) == (
        "final_notice",
        True,
        True,
    )
    assert (reminder.template, reminder.credit_hold, reminder.attach_statement) == (
        "reminder",
        False,
        False,
    )


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 1, 25), None),  # six days before due: too early
        (date(2026, 1, 26), 0),
        (date(2026, 1, 31), 0),  # the due date itself is still before the money is late
        (date(2026, 2, 1), None),  # a day late: too late to be friendly, too early to remind
        (date(2026, 2, 2), None),
        (date(2026, 2, 3), 1),
    ],
)
def test_the_friendly_reminder_goes_only_before_the_due_date(as_of, expected):
    # When a first run sees the invoice
    reminder = run([due_invoice()], as_of)

    # Then
    assert [line.level for line in reminder.lines] == ([expected] if expected is not None else [])
    if expected is None:
        assert [skip.reason for skip in reminder.skipped] == ["not_due"]
        assert reminder.template == ""


def test_a_level_is_never_sent_twice_nor_a_lower_one():
    # Given the second notice went out
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=2, version=3)}

    # When the run sees the invoice again at the level it had, and after a restored lower level
    same_day = run([due_invoice()], date(2026, 2, 14), states)
    later = run([due_invoice()], date(2026, 2, 20), states)

    # Then
    assert same_day.lines == later.lines == ()
    assert [skip.reason for skip in same_day.skipped] == ["level_recorded"]
    assert same_day.states_after(states) == {}


def test_a_missed_run_sends_the_highest_level_reached_not_each_one():
    # Given the reminder (level 1) went out, then the runs stopped for three weeks
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, version=1)}

    # When the run comes back 32 days after due
    sent = run([due_invoice()], date(2026, 3, 4), states)

    # Then the final notice goes out, with its fee and hold; the second notice is skipped over
    assert [(line.level, line.level_name, line.fee) for line in sent.lines] == [
        (3, "final_notice", Decimal("10.00"))
    ]
    assert sent.credit_hold
    # and the following days stay at that level until the escalation's day
    walked = walk(due_invoice(), every_day(date(2026, 3, 4), date(2026, 3, 31)))
    assert [line.level for line in walked.values()] == [3, 4]


def test_a_disputed_invoice_is_left_alone():
    # When
    reminder = run([due_invoice(status="disputed")], date(2026, 3, 20))

    # Then no level, fee or interest
    assert reminder.lines == ()
    assert [skip.reason for skip in reminder.skipped] == ["disputed"]
    assert reminder.totals() == {}


@pytest.mark.parametrize(
    "invoice",
    [
        due_invoice(status="paid", amount_due="0"),
        due_invoice(status="credited", credited="1000.00"),
        due_invoice(status="partially_paid", amount_due="0.00"),
    ],
)
def test_a_settled_invoice_is_left_alone(invoice):
    reminder = run([invoice], date(2026, 3, 20))

    assert reminder.lines == ()
    assert [skip.reason for skip in reminder.skipped] == ["settled"]


def test_a_settled_invoice_loses_its_broken_promise_flag():
    # Given a promise broke earlier, then the invoice was paid
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", broken_promise=True, version=4)}

    # When
    reminder = run([due_invoice(status="paid", amount_due="0")], date(2026, 3, 20), states)

    # Then
    assert reminder.states_after(states) == {
        "inv_1": InvoiceDunning(invoice_id="inv_1", broken_promise=False, version=5)
    }


def test_paying_in_full_keeps_the_promise():
    # Given
    made = promise(promised_on=date(2026, 2, 20))
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, promise=made, version=2)}

    # When
    reminder = run([due_invoice(status="paid", amount_due="0")], date(2026, 2, 18), states)

    # Then
    assert [skip.reason for skip in reminder.skipped] == ["settled"]
    assert [change.status for change in reminder.promises] == [PromiseStatus.KEPT]
    assert reminder.states_after(states) == {
        "inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, version=3)
    }


# --- promises to pay ----------------------------------------------------------------------------


def test_an_open_promise_holds_the_reminders_back():
    # Given the customer promised on 10 Feb to pay everything by 20 Feb
    made = promise(promised_on=date(2026, 2, 20))
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, promise=made, version=2)}

    # When the second notice's day comes, and on the promised day itself
    reminders = [run([due_invoice()], day, states) for day in (date(2026, 2, 14), made.promised_on)]

    # Then nothing goes out
    for reminder in reminders:
        assert reminder.lines == ()
        assert [skip.reason for skip in reminder.skipped] == ["promised"]
        assert reminder.promises == ()


def test_a_kept_promise_lets_dunning_go_on_for_what_is_still_due():
    # Given the customer promised 600.00 of 1000.00 by 12 Feb and paid it on 11 Feb
    made = promise(promised_on=date(2026, 2, 12), amount="600.00")
    states = {
        "inv_1": InvoiceDunning(
            invoice_id="inv_1",
            last_level=1,
            interest_charged=Decimal("0.66"),
            promise=made,
            version=2,
        )
    }
    paid = due_invoice(
        status="partially_paid",
        allocations=(AllocationSpan(applied_on=date(2026, 2, 11), amount=Decimal("600.00")),),
    )

    # When the second notice's day comes
    reminder = run([paid], date(2026, 2, 14), states)

    # Then the promise is kept and the 400.00 left is reminded at the next level
    assert reminder.promises == (
        PromiseChange(invoice_id="inv_1", promise_id="prm_1", status=PromiseStatus.KEPT),
    )
    (line,) = reminder.lines
    assert (line.level_name, line.amount_due, line.fee) == (
        "second_notice",
        Decimal("400.00"),
        Decimal("5.00"),
    )
    # 1000.00 for 1-10 Feb, 400.00 for 11-14 Feb: 11 600 x 8 / 36 500 = 2.54, 0.66 charged
    assert line.interest == Decimal("1.88")
    assert reminder.states_after(states) == {
        "inv_1": InvoiceDunning(
            invoice_id="inv_1", last_level=2, interest_charged=Decimal("2.54"), version=3
        )
    }


def test_a_kept_promise_before_the_next_level_only_clears_the_promise():
    # Given
    made = promise(promised_on=date(2026, 2, 12), amount="600.00")
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, promise=made, version=2)}

    # When
    reminder = run([due_invoice(amount_due="400.00")], date(2026, 2, 12), states)

    # Then
    assert [change.status for change in reminder.promises] == [PromiseStatus.KEPT]
    assert [skip.reason for skip in reminder.skipped] == ["level_recorded"]
    assert reminder.states_after(states) == {
        "inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, version=3)
    }


def test_a_broken_promise_resumes_at_the_next_level_at_once_and_is_flagged():
    # Given the reminder went out and the customer promised to pay by 8 Feb, then paid only 300.00
    made = promise(promised_on=date(2026, 2, 8))
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, promise=made, version=2)}
    invoice = due_invoice(amount_due="700.00", status="partially_paid")

    # When the run comes the day after, five days before the second notice's day
    reminder = run([invoice], date(2026, 2, 9), states)

    # Then the second notice goes out now, and the invoice is flagged
    assert reminder.promises == (
        PromiseChange(invoice_id="inv_1", promise_id="prm_1", status=PromiseStatus.BROKEN),
    )
    assert [(line.level_name, line.days_overdue, line.fee) for line in reminder.lines] == [
        ("second_notice", 9, Decimal("5.00"))
    ]
    after = reminder.states_after(states)["inv_1"]
    assert (after.last_level, after.promise, after.broken_promise, after.version) == (
        2,
        None,
        True,
        3,
    )
    # and the second notice's own day sends nothing again
    assert run([invoice], date(2026, 2, 14), {"inv_1": after}).lines == ()


def test_a_broken_promise_after_a_missed_run_sends_the_level_reached():
    # Given the reminder went out, a promise broke long ago and the runs stopped
    made = promise(promised_on=date(2026, 2, 8))
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=1, promise=made)}

    # When the run comes back 32 days after due
    reminder = run([due_invoice()], date(2026, 3, 4), states)

    # Then the final notice it reached goes out, not the second notice that follows level 1
    assert [line.level_name for line in reminder.lines] == ["final_notice"]


def test_a_broken_promise_before_any_reminder_starts_with_the_first_overdue_level():
    made = promise(promised_on=date(2026, 2, 1))

    reminder = run(
        [due_invoice()],
        date(2026, 2, 2),
        {"inv_1": InvoiceDunning(invoice_id="inv_1", promise=made)},
    )

    assert [line.level_name for line in reminder.lines] == ["reminder"]


def test_a_broken_promise_after_the_last_level_is_only_flagged():
    # Given
    made = promise(promised_on=date(2026, 3, 20))
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=4, promise=made, version=6)}

    # When
    reminder = run([due_invoice()], date(2026, 3, 21), states)

    # Then
    assert reminder.lines == ()
    assert [skip.reason for skip in reminder.skipped] == ["last_level"]
    assert [change.status for change in reminder.promises] == [PromiseStatus.BROKEN]
    assert reminder.states_after(states) == {
        "inv_1": InvoiceDunning(invoice_id="inv_1", last_level=4, broken_promise=True, version=7)
    }


@pytest.mark.parametrize(
    ("today", "amount_due", "status"),
    [
        (date(2026, 2, 20), "1000.00", PromiseStatus.OPEN),  # the promised day is included
        (date(2026, 2, 21), "1000.00", PromiseStatus.BROKEN),
        (date(2026, 2, 21), "400.01", PromiseStatus.BROKEN),  # a cent short
        (date(2026, 2, 21), "400.00", PromiseStatus.KEPT),
        (date(2026, 2, 10), "0", PromiseStatus.KEPT),
    ],
)
def test_a_promise_is_kept_once_the_promised_amount_was_paid(today, amount_due, status):
    made = promise(promised_on=date(2026, 2, 20), amount="600.00")

    assert made.status_on(today, Decimal(amount_due)) is status


def test_a_promise_is_for_an_amount_and_reads_back_from_the_wire():
    with pytest.raises(ValidationError, match="above 0"):
        promise(promised_on=DUE, amount="0")

    made = promise(promised_on=date(2026, 2, 20), amount="600.00")
    wire = made.to_wire()

    assert wire["amount"] == "600.00"
    assert wire["promised_on"] == "2026-02-20"
    assert wire["recorded_at"] == "2026-02-01T09:00:00.000Z"
    assert Promise.from_wire(wire) == made


# --- the plan -----------------------------------------------------------------------------------


def test_a_plan_totals_per_currency_and_tells_each_invoice_its_new_state():
    # Given two euro invoices and a dollar one, first seen on 14 Feb
    invoices = [
        due_invoice("inv_2", total="200.00", due_on=date(2026, 2, 10)),
        due_invoice("inv_1"),
        due_invoice("inv_3", currency="USD", total="500.00", due_on=date(2026, 1, 20)),
    ]

    # When
    reminder = run(invoices, date(2026, 2, 14))

    # Then the lines are in due date order
    assert [(line.invoice_id, line.level, line.fee, line.interest) for line in reminder.lines] == [
        ("inv_3", 2, Decimal("5.00"), Decimal("2.74")),  # 500 x 8 % x 25 / 365
        ("inv_1", 2, Decimal("5.00"), Decimal("3.07")),  # 1000 x 8 % x 14 / 365
        ("inv_2", 1, Decimal("0.00"), Decimal("0.18")),  # 200 x 8 % x 4 / 365
    ]
    assert reminder.totals() == {
        "EUR": {
            "amount_due": Decimal("1200.00"),
            "fees": Decimal("5.00"),
            "interest": Decimal("3.25"),
            "total": Decimal("1208.25"),
        },
        "USD": {
            "amount_due": Decimal("500.00"),
            "fees": Decimal("5.00"),
            "interest": Decimal("2.74"),
            "total": Decimal("507.74"),
        },
    }
    assert reminder.template == "second_notice"
    assert not reminder.credit_hold
    assert reminder.states_after({}) == {
        "inv_3": InvoiceDunning(
            invoice_id="inv_3", last_level=2, interest_charged=Decimal("2.74"), version=1
        ),
        "inv_1": InvoiceDunning(
            invoice_id="inv_1", last_level=2, interest_charged=Decimal("3.07"), version=1
        ),
        "inv_2": InvoiceDunning(
            invoice_id="inv_2", last_level=1, interest_charged=Decimal("0.18"), version=1
        ),
    }


def test_a_plan_goes_on_the_wire_with_amounts_as_strings():
    # Given
    reminder = run([due_invoice(), due_invoice("inv_2", status="disputed")], date(2026, 2, 14))

    # When
    wire = reminder.to_wire()

    # Then
    assert wire["as_of"] == "2026-02-14"
    assert wire["policy"] == "default"
    assert wire["lines"][0]["fee"] == "5.00"
    assert wire["lines"][0]["interest_through"] == "2026-02-14"
    assert wire["skipped"] == [{"invoice_id": "inv_2", "number": "INV-inv_2", "reason": "disputed"}]
    assert wire["totals"]["EUR"]["total"] == "1008.07"
    assert ReminderLine.from_wire(wire["lines"][0]) == reminder.lines[0]


def test_the_gentle_policy_charges_neither_fees_nor_interest():
    sent = walk(due_invoice(), every_day(date(2026, 1, 20), date(2026, 5, 31)), POLICIES["gentle"])

    assert [line.level for line in sent.values()] == [0, 1, 2, 3, 4]
    assert {(line.fee, line.interest, line.interest_through) for line in sent.values()} == {
        (Decimal("0.00"), Decimal("0.00"), None)
    }


def test_policies_by_name_and_the_lead_time_of_the_run():
    assert dunning.policy_named("strict") is POLICIES["strict"]
    assert dunning.policy_named("no such policy") is DEFAULT
    assert dunning.MAX_LEAD_DAYS == 7  # the gentle policy's friendly reminder
    assert [level.name for level in DEFAULT.levels] == [
        "friendly_reminder",
        "reminder",
        "second_notice",
        "final_notice",
        "escalation",
    ]


def test_levels_ascend():
    low, high = DEFAULT.levels[1], DEFAULT.levels[2]

    with pytest.raises(ValidationError, match="ascend"):
        dunning.Policy(name="muddled", levels=(high, low))


def test_a_fee_is_fixed_plus_a_share_of_what_is_due_rounded_half_up():
    fee = Fee(fixed=Decimal("2.50"), percent=Decimal(1))

    assert fee.amount_for(Decimal("1234.50"), "EUR") == Decimal("14.85")  # 2.50 + 12.345
    assert Fee(fixed=Decimal("5.00")).amount_for(Decimal(100), "JPY") == Decimal(5)


# --- interest -----------------------------------------------------------------------------------


def test_interest_is_charged_day_by_day_on_what_was_still_due():
    # Given 1000.00 due on 31 Jan at 8 % a year, 400.00 applied on 10 Feb
    paid = (AllocationSpan(applied_on=date(2026, 2, 10), amount=Decimal("400.00")),)

    # When interest runs through 2 Mar
    interest = accrued_interest(Decimal(1000), paid, DUE, date(2026, 3, 2), Decimal(8), "EUR")

    # Then 1000.00 bears interest 1-9 Feb (9 days), 600.00 from the day it was paid, 10 Feb
    # through 2 Mar (21 days): (9 x 1000 + 21 x 600) x 0.08 / 365 = 1.97260 + 2.76164 = 4.73
    assert interest == Decimal("4.73")


def test_interest_starts_again_on_what_an_unapplication_put_back():
    # Given the 400.00 applied on 10 Feb was taken back on 20 Feb
    spans = (
        AllocationSpan(
            applied_on=date(2026, 2, 10), amount=Decimal("400.00"), reversed_on=date(2026, 2, 20)
        ),
    )

    # When
    interest = accrued_interest(Decimal(1000), spans, DUE, date(2026, 3, 2), Decimal(8), "EUR")

    # Then 1000.00 for 9 days, 600.00 for 10 (10-19 Feb), 1000.00 again for 11 (20 Feb-2 Mar):
    # 26 000 x 0.08 / 365 = 5.6986
    assert interest == Decimal("5.70")


@pytest.mark.parametrize(
    ("start", "spans", "through", "currency", "expected"),
    [
        ("1000.00", (), DUE, "EUR", "0.00"),  # nothing on the due date itself
        ("1000.00", (), DUE - timedelta(days=3), "EUR", "0.00"),
        ("1000.00", (), DUE + timedelta(days=1), "EUR", "0.22"),  # 0.2192
        ("800.00", (), date(2026, 3, 2), "EUR", "5.26"),  # 200.00 credited: 800 x 30 days
        # money applied before due counts from the start; more than due leaves nothing to bear
        ("1000.00", ((DUE - timedelta(days=5), "1000.00"),), date(2026, 3, 2), "EUR", "0.00"),
        ("1000.00", ((date(2026, 2, 1), "1200.00"),), date(2026, 3, 2), "EUR", "0.00"),
        ("100000", (), date(2026, 3, 2), "JPY", "658"),  # 657.53
        ("1000.000", (), date(2026, 3, 2), "KWD", "6.575"),  # 6.5753
    ],
)
def test_interest_edges(start, spans, through, currency, expected):
    allocations = tuple(
        AllocationSpan(applied_on=day, amount=Decimal(amount)) for day, amount in spans
    )

    interest = accrued_interest(Decimal(start), allocations, DUE, through, Decimal(8), currency)

    assert interest == Decimal(expected)
    assert str(interest) == expected


def test_interest_charged_run_by_run_adds_up_to_the_interest_of_the_whole_time():
    # Given 1000.00 with 250.00 paid on 5 Feb, 250.00 more on 1 Mar that is taken back on 9 Mar
    spans = (
        AllocationSpan(applied_on=date(2026, 2, 5), amount=Decimal("250.00")),
        AllocationSpan(
            applied_on=date(2026, 3, 1), amount=Decimal("250.00"), reversed_on=date(2026, 3, 9)
        ),
    )
    invoice = due_invoice(status="partially_paid", amount_due="750.00", allocations=spans)

    # When the run goes every day, and charges interest with each level it sends
    sent = walk(invoice, every_day(date(2026, 1, 20), date(2026, 4, 30)))
    last = max(sent)

    # Then the charges add up to the interest of the whole time, rounded once
    whole = accrued_interest(Decimal(1000), spans, DUE, last, Decimal(8), "EUR")
    assert sum(line.interest for line in sent.values()) == whole
    # and charging on other days (every week) comes to the same
    weekly = [day for day in every_day(DUE, last) if day.weekday() == 0]
    charged = Decimal(0)
    for day in [*weekly, last]:
        charged += max(
            accrued_interest(Decimal(1000), spans, DUE, day, Decimal(8), "EUR") - charged,
            Decimal(0),
        )
    assert charged == whole


def test_interest_posts_as_receivable_interest_income():
    # When
    entry = ledger.for_interest("cus_1", "EUR", Decimal("4.73"), "inv_1:2026-03-02", AT)

    # Then
    assert {posting.account: posting.amount for posting in entry.postings} == {
        Account.RECEIVABLES: Decimal("4.73"),
        Account.INTEREST_INCOME: Decimal("-4.73"),
    }
    assert (entry.entry_id, entry.kind) == ("interest:inv_1:2026-03-02", "interest")
    assert ledger.JournalEntry.from_item_data(entry.to_item_data()) == entry
    assert ledger.balances([entry])[Account.INTEREST_INCOME] == Decimal("-4.73")


# --- properties ---------------------------------------------------------------------------------

cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
offsets = st.integers(min_value=-20, max_value=120)  # days from the due date
spans = st.builds(
    lambda applied, amount, reversed_after: AllocationSpan(
        applied_on=DUE + timedelta(days=applied),
        amount=amount,
        reversed_on=None
        if reversed_after is None
        else DUE + timedelta(days=applied + reversed_after),
    ),
    offsets,
    cents,
    st.none() | st.integers(min_value=0, max_value=60),
)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(25), places=2)


@given(start=cents, allocations=st.lists(spans, max_size=5), through=offsets, rate=rates)
def test_interest_is_never_negative(start, allocations, through, rate):
    interest = accrued_interest(start, allocations, DUE, DUE + timedelta(days=through), rate, "EUR")

    assert interest >= 0
    assert interest <= dunning.accrued_interest(
        start, [], DUE, DUE + timedelta(days=through), rate, "EUR"
    )


@given(
    start=cents,
    allocations=st.lists(spans, max_size=5),
    extra=spans,
    through=offsets,
    rate=rates,
)
def test_more_money_applied_never_raises_the_interest(start, allocations, extra, through, rate):
    end = DUE + timedelta(days=through)

    before = accrued_interest(start, allocations, DUE, end, rate, "EUR")
    after = accrued_interest(start, [*allocations, extra], DUE, end, rate, "EUR")

    assert after <= before


@given(
    start=cents,
    allocations=st.lists(spans, max_size=5),
    charge_days=st.lists(offsets, min_size=1, max_size=8),
    rate=rates,
)
def test_interest_charged_in_parts_is_the_interest_of_the_whole_time(
    start, allocations, charge_days, rate
):
    charged = Decimal(0)
    days = sorted(DUE + timedelta(days=offset) for offset in charge_days)
    for day in days:
        accrued = accrued_interest(start, allocations, DUE, day, rate, "EUR")
        charged += max(accrued - charged, Decimal(0))

    assert charged == accrued_interest(start, allocations, DUE, days[-1], rate, "EUR")


@given(run_days=st.sets(st.integers(min_value=-10, max_value=70), min_size=1))
def test_whichever_days_the_run_goes_levels_only_rise(run_days):
    days = sorted(DUE + timedelta(days=offset) for offset in run_days)

    sent = walk(due_invoice(), days)

    levels = [line.level for line in sent.values()]
    assert levels == sorted(set(levels))
    assert all(line.days_overdue >= DEFAULT.level(line.level).days for line in sent.values())


def test_every_policy_an_account_may_name_exists():
    from typing import get_args

    from shared.domain.customer import PolicyName

    assert set(get_args(PolicyName)) == set(POLICIES)


# --- skipped levels and the customer's own credit ---------------------------------------------


@pytest.mark.parametrize("last_level", [None, 0, 1, 2])
def test_an_invoice_jumping_to_escalation_brings_the_final_notices_hold_and_statement(
    last_level: int | None,
):
    # Given an invoice whose final notice no run sent (a data migration, missed runs)
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=last_level, version=1)}

    # When the first run comes 50 days after due (the escalation's day is +45)
    reminder = run([due_invoice()], DUE + timedelta(days=50), states)

    # Then the escalation is sent, with the hold and the statement of the level it passed
    assert [(line.level_name, line.fee) for line in reminder.lines] == [
        ("escalation", Decimal("10.00"))
    ]
    assert (reminder.template, reminder.credit_hold, reminder.attach_statement) == (
        "escalation",
        True,
        True,
    )


def test_an_escalation_after_the_final_notice_was_sent_holds_nothing_again():
    # Given the final notice went out (and a credit manager may have lifted the hold since)
    states = {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=3, version=1)}

    # When the escalation's day comes
    reminder = run([due_invoice()], DUE + timedelta(days=45), states)

    # Then only the escalation's own consequences apply
    assert [line.level_name for line in reminder.lines] == ["escalation"]
    assert not reminder.credit_hold and not reminder.attach_statement


def test_the_customers_credit_covers_the_oldest_invoices_first():
    # Given three overdue invoices and 1500.00 the customer holds
    oldest = due_invoice("inv_a", due_on=DUE - timedelta(days=2))
    middle = due_invoice("inv_b", due_on=DUE - timedelta(days=1))
    newest = due_invoice("inv_c")
    credit = {"EUR": Decimal("1500.00")}

    # When the second notices' day comes
    reminder = plan(
        "cus_1", DEFAULT, [newest, middle, oldest], {}, DUE + timedelta(days=14), credit=credit
    )

    # Then the oldest is not dunned at all, the middle one for the 500.00 the credit leaves, and
    # the newest in full
    assert [(s.invoice_id, s.reason) for s in reminder.skipped] == [("inv_a", "covered")]
    assert [
        (line.invoice_id, line.amount_due, line.covered_by_credit) for line in reminder.lines
    ] == [
        ("inv_b", Decimal("500.00"), Decimal("500.00")),
        ("inv_c", Decimal("1000.00"), Decimal("0.00")),
    ]
    assert reminder.totals()["EUR"]["amount_due"] == Decimal("1500.00")


def test_a_credit_covers_only_invoices_of_its_currency_and_disputed_ones_are_left_to_the_dispute():
    # Given a disputed EUR invoice, a USD and a EUR one, and 1000.00 EUR held
    disputed = due_invoice("inv_a", due_on=DUE - timedelta(days=1), status="disputed")
    dollars = due_invoice("inv_b", currency="USD")
    euros = due_invoice("inv_c")

    # When the run comes
    reminder = plan(
        "cus_1",
        DEFAULT,
        [disputed, dollars, euros],
        {},
        DUE + timedelta(days=3),
        credit={"EUR": Decimal("1000.00")},
    )

    # Then the EUR invoice is covered, the dollars are chased, the disputed one stays disputed
    assert {(s.invoice_id, s.reason) for s in reminder.skipped} == {
        ("inv_a", "disputed"),
        ("inv_c", "covered"),
    }
    assert [line.invoice_id for line in reminder.lines] == ["inv_b"]


def test_a_percentage_fee_is_on_what_the_credit_leaves_to_chase():
    # Given 400.00 held against a 1000.00 invoice at its escalation (1 % fee)
    reminder = plan(
        "cus_1",
        DEFAULT,
        [due_invoice()],
        {"inv_1": InvoiceDunning(invoice_id="inv_1", last_level=3, version=1)},
        DUE + timedelta(days=45),
        credit={"EUR": Decimal("400.00")},
    )

    # Then the fee is 1 % of 600.00, the interest still on the invoice's principal
    [line] = reminder.lines
    assert (line.amount_due, line.fee) == (Decimal("600.00"), Decimal("6.00"))
    assert line.interest == accrued_interest(
        Decimal("1000.00"), (), DUE, DUE + timedelta(days=45), Decimal(8), "EUR"
    )
    assert ReminderLine.from_wire(line.to_wire()) == line


def _charge(charge_id: str, amount: str, charged_on: date, due: str | None = None) -> Charge:
    return Charge(
        charge_id=charge_id,
        customer_id="cus_1",
        currency="EUR",
        kind="fee",
        invoice_id="inv_a",
        amount=Decimal(amount),
        amount_due=Decimal(due if due is not None else amount),
        charged_on=charged_on,
    )


def test_the_customers_credit_covers_open_charges_due_before_an_invoice_and_not_settled_ones():
    # Given 1100.00 held, an invoice due earlier whose 60.00 fee was charged before the next
    # invoice fell due, a settled fee, and a fee charged after the last invoice's due date
    earlier = due_invoice("inv_a", total="1000.00", due_on=DUE - timedelta(days=20))
    fee = _charge("fee:inv_a:level2", "60.00", DUE - timedelta(days=6))
    settled = _charge("fee:inv_a:level1", "5.00", DUE - timedelta(days=10), due="0")
    later = _charge("fee:inv_a:level3", "500.00", DUE + timedelta(days=1))
    credit = {"EUR": Decimal("1100.00")}

    # When the run of the reminder's day plans the invoice due on DUE
    reminder = plan(
        "cus_1",
        DEFAULT,
        [due_invoice("inv_b"), earlier],
        {"inv_a": InvoiceDunning(invoice_id="inv_a", last_level=4, version=1)},
        DUE + timedelta(days=3),
        credit=credit,
        charges=[later, settled, fee],
    )

    # Then the credit covered the earlier invoice and its open fee first: 40.00 is left for it
    [line] = reminder.lines
    assert (line.invoice_id, line.covered_by_credit) == ("inv_b", Decimal("40.00"))
    assert line.amount_due == Decimal("960.00")


# --- a reminder recorded in parts -------------------------------------------------------------

MIXED = [
    due_invoice("inv_1", due_on=DUE),  # +30 on the run's day: the final notice (hold, statement)
    due_invoice("inv_2", due_on=DUE + timedelta(days=16)),  # +14: the second notice
    due_invoice("inv_3", due_on=DUE + timedelta(days=27)),  # +3: the reminder
]


def _calls_for(reminder: ReminderPlan) -> tuple[str, bool, bool]:
    return reminder.template, reminder.credit_hold, reminder.attach_statement


def test_a_part_of_a_plan_calls_for_what_its_own_levels_do():
    # Given a plan whose lines reach the final notice, the second notice and the reminder
    whole = run(MIXED, DUE + timedelta(days=30))
    assert _calls_for(whole) == ("final_notice", True, True)

    # When it is cut into the part without the final notice and the part with it
    rest = dunning.part_of(whole, {"inv_2", "inv_3"}, {})
    final = dunning.part_of(whole, {"inv_1"}, {})

    # Then each part has its lines, template, hold and statement; joined they are the plan
    assert [line.invoice_id for line in rest.lines] == ["inv_2", "inv_3"]
    assert _calls_for(rest) == ("second_notice", False, False)
    assert _calls_for(final) == ("final_notice", True, True)
    assert dunning.joined([rest, final]) == whole.model_copy(update={"skipped": ()})


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=3, max_size=3))
def test_a_plan_joined_from_parts_of_any_cut_lists_every_line_once(cut: list[int]):
    # Given the plan cut into parts in any way (a part may be empty), then planned again with
    # the states the parts left (nothing left to send)
    whole = run(MIXED, DUE + timedelta(days=30))
    parts = [
        dunning.part_of(whole, {f"inv_{i + 1}" for i, p in enumerate(cut) if p == part}, {})
        for part in range(4)
    ]
    again = run(MIXED, DUE + timedelta(days=30), whole.states_after({}))

    # When the reminder is joined from the parts and the last plan
    joined = dunning.joined([*parts, again])

    # Then it is the plan: every line once in order, its template, hold and statement
    assert again.lines == ()
    assert joined.model_copy(update={"skipped": ()}) == whole.model_copy(update={"skipped": ()})
