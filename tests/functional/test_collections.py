"""Collections: the daily run walks open invoices through the customer's dunning policy.

The clock is set to each run day (06:00 UTC, when the schedule fires). Every run is the real
path: ``start_run`` queries the open-by-due index and fans one message per customer out to the
collection-reminders queue; the pump hands them to the reminder worker, which records levels,
fees, interest and the reminder (in one transaction here; test_collections_many_invoices.py
records a larger day in several) and e-mails the reminder through SES (moto).
cus_acme (the seed) pays "2/10 net 30" and dunns by the default policy: a friendly reminder 5
days before due, a reminder at +3, a second notice at +14 (fee 5.00), a final notice at +30 (fee
10.00, credit hold, the statement attached), an escalation at +45 (fee 1 %), interest 8 % p.a.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

import app as app_module
from functions.dunning.run import start_run
from infra.local.pump import LambdaContext
from shared import clock
from shared.config import settings
from shared.domain import invoice as invoice_domain
from shared.domain.invoice import Invoice
from shared.store import customers, invoices, table
from shared.store import dunning as dunning_store
from tests.functional.accounts import call
from tests.functional.cash import (
    CUSTOMER,
    allocate,
    invoice_now,
    issued_invoice,
    received,
    reverse,
)
from tests.functional.collections import (
    QUEUE,
    charges,
    day,
    deliver,
    fan_out,
    history,
    interest,
    on,
    pay,
    promise,
    reminders,
    run_on,
)
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, order_body, post_order
from tests.functional.helpers import assert_problem, snapshot
from tests.functional.invoicing import assert_ledger_balanced

ISSUED = date(2026, 11, 2)
BILLING_EMAIL = "ap@acme.example"


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture
def serialized_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let in-process moto take one DynamoDB request at a time, for tests that race threads.

    moto copies a table to roll a failed transaction back, and a read or write from another
    thread meanwhile breaks the copy (moto's race, not the code's). Each request stays whole;
    the threads still interleave between requests, which is where the races under test are.
    """
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    from shared.adapters import aws

    one_at_a_time = threading.RLock()
    for name in (
        "get_item",
        "put_item",
        "update_item",
        "delete_item",
        "query",
        "batch_get_item",
        "transact_write_items",
    ):
        operation = getattr(DynamoDBBackend, name)

        @functools.wraps(operation)
        def serialized(*args: object, __operation=operation, **kwargs: object) -> object:
            with one_at_a_time:
                return __operation(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialized)
    aws.client("dynamodb")  # create the client before any thread: creation is not thread-safe


def _invoice(client, world: World, issued: date = ISSUED) -> Invoice:
    on(issued)
    invoice = issued_invoice(client, world)
    assert invoice.due_on == day(issued, 30)
    return invoice


def _templates() -> list[str]:
    return [reminder.template for reminder in reminders()]


# --- the ladder --------------------------------------------------------------------------------


def test_an_unpaid_invoice_walks_every_level_of_the_default_policy(client, world: World):
    # Given an invoice due in 30 days, nobody paying it
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    total = invoice.total

    # When the run finds it six days before due, Then nothing is sent
    run_on(world, day(due, -6))
    assert reminders() == []

    # When five days before due: a friendly reminder, no fee, no interest
    run_on(world, day(due, -5))
    [friendly] = reminders()
    assert (friendly.recipient, friendly.template) == (BILLING_EMAIL, "friendly_reminder")
    assert invoice.number in friendly.body and "-5" in friendly.body
    assert charges() == []

    # When three days overdue: the reminder, with three days' interest
    run_on(world, day(due, 3))
    assert _templates() == ["friendly_reminder", "reminder"]
    three_days = interest((total, 3))
    assert charges() == [("interest", f"{invoice.invoice_id}:{day(due, 3)}", three_days)]

    # When the next day's run comes: nothing new (the level was sent)
    run_on(world, day(due, 4))
    assert len(reminders()) == 2

    # When fourteen days overdue: the second notice, its 5.00 fee and the interest since
    run_on(world, day(due, 14))
    second = reminders()[-1]
    assert second.template == "second_notice" and "5.00 EUR" in second.body
    fourteen_days = interest((total, 14))
    assert charges()[1:] == [
        ("fee", f"{invoice.invoice_id}:level2", Decimal("5.00")),
        ("interest", f"{invoice.invoice_id}:{day(due, 14)}", fourteen_days - three_days),
    ]

    # When thirty days overdue: the final notice, 10.00, the statement attached, credit hold
    run_on(world, day(due, 30))
    final = reminders()[-1]
    assert final.template == "final_notice"
    [(name, (content_type, pdf))] = final.attachments.items()
    assert name.startswith(f"statement-{CUSTOMER}-") and content_type == "application/pdf"
    assert invoice.number in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages
    )
    thirty_days = interest((total, 30))
    assert charges()[3:] == [
        ("fee", f"{invoice.invoice_id}:level3", Decimal("10.00")),
        ("interest", f"{invoice.invoice_id}:{day(due, 30)}", thirty_days - fourteen_days),
    ]
    account = customers.get(CUSTOMER)
    assert account is not None and account.status.value == "credit_hold"

    # When forty-five days overdue: the escalation, a fee of 1 % of the amount due
    run_on(world, day(due, 45))
    assert _templates() == [
        "friendly_reminder",
        "reminder",
        "second_notice",
        "final_notice",
        "escalation",
    ]
    one_percent = (total / 100).quantize(Decimal("0.01"))
    assert charges()[5:] == [
        ("fee", f"{invoice.invoice_id}:level4", one_percent),
        ("interest", f"{invoice.invoice_id}:{day(due, 45)}", interest((total, 45)) - thirty_days),
    ]

    # Then the audit trail tells each level, and the customer's each reminder recorded and sent
    dunned = [data for kind, data in history(invoice.invoice_id) if kind == "InvoiceDunned"]
    assert [(d["level_name"], d["fee"], d["as_of"]) for d in dunned] == [
        ("friendly_reminder", "0.00", day(due, -5).isoformat()),
        ("reminder", "0.00", day(due, 3).isoformat()),
        ("second_notice", "5.00", day(due, 14).isoformat()),
        ("final_notice", "10.00", day(due, 30).isoformat()),
        ("escalation", str(one_percent), day(due, 45).isoformat()),
    ]
    kinds = sorted(kind for kind, _ in history(CUSTOMER))  # a frozen clock: same instants
    assert kinds == ["ReminderRecorded"] * 5 + ["ReminderSent"] * 5
    assert_ledger_balanced(CUSTOMER)

    # And a new order of the customer is held for a credit manager
    response = post_order(client, order_body(), key=ADMIN_KEY)
    assert response.status_code == 201, response.body
    world.pump.drain()
    order = call(client, "GET", f"/orders/{json.loads(response.body)['id']}").body
    assert order["status"] == "on_hold"


# --- payments, disputes, promises --------------------------------------------------------------


def test_a_payment_in_full_stops_dunning_for_the_invoice(client, world: World):
    # Given an invoice reminded three days after due, then paid in full
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))
    on(day(due, 10))
    pay(client, invoice, str(invoice.total))
    world.pump.drain()

    # When the second notice's day comes
    answer = run_on(world, day(due, 14))

    # Then the run does not even read the invoice, and nothing more is sent or charged
    assert (answer["customers"], answer["invoices"], answer["index_items_read"]) == (0, 0, 0)
    assert _templates() == ["reminder"]
    assert [kind for kind, _, _ in charges()] == ["interest"]


def test_a_partial_payment_leaves_interest_on_the_rest_only(client, world: World):
    # Given an invoice reminded at +3 (three days' interest), then 30.00 paid on day +10
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))
    on(day(due, 10))
    pay(client, invoice, "30.00")
    world.pump.drain()

    # When the second notice goes out at +14
    run_on(world, day(due, 14))

    # Then its interest runs on the full total for days 1-9 and on the rest for days 10-14
    total = invoice.total
    charged_before = interest((total, 3))
    expected = interest((total, 9), (total - 30, 5)) - charged_before
    assert charges()[1:] == [
        ("fee", f"{invoice.invoice_id}:level2", Decimal("5.00")),
        ("interest", f"{invoice.invoice_id}:{day(due, 14)}", expected),
    ]
    second = reminders()[-1]
    assert second.template == "second_notice"
    assert f"{total - 30:,.2f} EUR" in second.body
    assert f"{expected:,.2f} EUR" in second.body
    assert invoice_now(invoice.invoice_id).status.value == "partially_paid"


def test_cash_taken_back_lowers_the_interest_only_while_it_was_applied(client, world: World):
    # Given an invoice reminded at +3, 30.00 applied to it on day +10 and taken back on day +12
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))
    on(day(due, 10))
    payment = received("30.00", customer_id=CUSTOMER)
    body = {"allocations": [{"invoice_id": invoice.invoice_id, "amount": "30.00"}]}
    applied = allocate(client, payment.payment_id, body)
    assert applied.status == 201, applied.body
    [allocation] = applied.body["allocations"]
    on(day(due, 12))
    assert reverse(client, payment.payment_id, allocation["id"]).status == 200
    world.pump.drain()
    # (the invoice item keeps the allocation's cash, taken back: the worker reads it there)
    [cash] = invoice_now(invoice.invoice_id).cash_applied or ()
    assert (cash.amount, cash.reversed_at is not None) == (Decimal("30.00"), True)

    # When the second notice goes out at +14
    run_on(world, day(due, 14))

    # Then its interest ran on the rest for days 10 and 11 only, on the full total otherwise
    total = invoice.total
    expected = interest((total, 9), (total - 30, 2), (total, 3)) - interest((total, 3))
    assert charges()[1:] == [
        ("fee", f"{invoice.invoice_id}:level2", Decimal("5.00")),
        ("interest", f"{invoice.invoice_id}:{day(due, 14)}", expected),
    ]


def test_an_invoice_item_from_before_it_kept_its_cash_is_served_from_the_payments(
    client, world: World
):
    # Given an invoice reminded at +3, then 30.00 paid on day +10, its item then stripped of the
    # cash applied to it (as items written before cash application kept it there)
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))
    on(day(due, 10))
    pay(client, invoice, "30.00")
    world.pump.drain()
    pk, sk = invoices.invoice_key(invoice.invoice_id)
    world.session.client("dynamodb").update_item(
        TableName=world.outputs["TableName"],
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="REMOVE cash_applied",
    )
    assert invoice_now(invoice.invoice_id).cash_applied is None

    # When the second notice goes out at +14
    run_on(world, day(due, 14))

    # Then the worker read the payment instead: interest on the rest from day 10, as ever
    total = invoice.total
    expected = interest((total, 9), (total - 30, 5)) - interest((total, 3))
    assert charges()[1:] == [
        ("fee", f"{invoice.invoice_id}:level2", Decimal("5.00")),
        ("interest", f"{invoice.invoice_id}:{day(due, 14)}", expected),
    ]


def test_a_disputed_invoice_is_left_alone(client, world: World):
    # Given an invoice whose payment the customer disputes (as cash application writes it)
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    current = invoice_now(invoice.invoice_id)
    table.transact([invoices.replacing(invoice_domain.dispute(current, True), current)])

    # When the runs of +3 and +14 come
    run_on(world, day(due, 3))
    planned = start_run(day(due, 14), dry_run=True)
    run_on(world, day(due, 14))

    # Then no reminder, fee or interest; the plan says why
    assert reminders() == [] and charges() == []
    [plan] = planned["plans"]
    assert plan["lines"] == []
    assert plan["skipped"] == [
        {"invoice_id": invoice.invoice_id, "number": invoice.number, "reason": "disputed"}
    ]


def test_a_kept_promise_lets_dunning_go_on_and_a_broken_one_resumes_at_the_next_level(
    client, world: World
):
    # Given two invoices of the customer, reminded together three days after due
    kept, broken = _invoice(client, world), _invoice(client, world)
    due = kept.due_on
    assert due is not None and broken.due_on == due
    run_on(world, day(due, 3))
    [first] = reminders()
    assert kept.number in first.body and broken.number in first.body

    # ... and a promise of 30.00 by day +12 on each; the customer pays it on one of them
    on(day(due, 5))
    promise(client, kept, day(due, 12), "30.00")
    promise(client, broken, day(due, 12), "30.00")
    run_on(world, day(due, 8))
    on(day(due, 10))
    pay(client, kept, "30.00")
    world.pump.drain()

    # When the run of day +13 finds the promises kept and broken
    run_on(world, day(due, 13))

    # Then the broken one moves on to the second notice at once (flagged), the kept one waits
    assert len(reminders()) == 2  # nothing while the promises were open (day +8)
    thirteenth = reminders()[-1]
    assert thirteenth.template == "second_notice"
    assert broken.number in thirteenth.body and kept.number not in thirteenth.body
    assert "PromiseBroken" in [kind for kind, _ in history(broken.invoice_id)]
    assert "PromiseKept" in [kind for kind, _ in history(kept.invoice_id)]
    states = dunning_store.states([kept.invoice_id, broken.invoice_id])
    assert states[broken.invoice_id].broken_promise and states[broken.invoice_id].promise is None
    assert not states[kept.invoice_id].broken_promise and states[kept.invoice_id].promise is None

    # When day +14 comes, Then the kept one gets its second notice in the normal course
    run_on(world, day(due, 14))
    fourteenth = reminders()[-1]
    assert fourteenth.template == "second_notice"
    assert kept.number in fourteenth.body and broken.number not in fourteenth.body
    fees = [source for kind, source, _ in charges() if kind == "fee"]
    assert fees == [f"{broken.invoice_id}:level2", f"{kept.invoice_id}:level2"]


# --- exactly once ------------------------------------------------------------------------------


def test_a_run_repeated_and_every_message_delivered_twice_sends_and_charges_once(
    client, world: World
):
    # Given an invoice fourteen days overdue (its reminder of +3 sent)
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))

    # When the day's run is started twice, and every message it sent is delivered twice
    on(day(due, 14))
    start_run(day(due, 14))
    start_run(day(due, 14))
    bodies = fan_out(world)
    assert len(bodies) == 2  # one per run for the one customer
    first = deliver(bodies)
    again = deliver(bodies)
    world.pump.drain()

    # Then one second notice went out, and its fee and interest were posted once
    assert first["batchItemFailures"] == [] and again["batchItemFailures"] == []
    assert _templates() == ["reminder", "second_notice"]
    assert [kind for kind, _, _ in charges()] == ["interest", "fee", "interest"]
    assert [kind for kind, _ in history(invoice.invoice_id)].count("InvoiceDunned") == 2
    reminder = dunning_store.get_reminder(dunning_store.reminder_id_for(CUSTOMER, day(due, 14)))
    assert reminder is not None and reminder["status"] == "sent"


def test_two_overlapping_workers_record_and_send_the_reminder_once(
    client, world: World, serialized_dynamodb: None, monkeypatch: pytest.MonkeyPatch
):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from functions.dunning import remind_customer

    # Given an invoice at its second notice, and two workers that both read before either writes
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    run_on(world, day(due, 3))
    on(day(due, 14))
    both_read = threading.Barrier(2, timeout=30)
    planned = remind_customer.Situation.plan
    first_plan: set[int] = set()

    def plan_after_both_read(self: remind_customer.Situation, as_of: date):
        if threading.get_ident() not in first_plan:
            first_plan.add(threading.get_ident())
            both_read.wait()
        return planned(self, as_of)

    monkeypatch.setattr(remind_customer.Situation, "plan", plan_after_both_read)

    # When both handle the same customer and day at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(
            pool.map(
                lambda _: remind_customer.remind_customer(
                    CUSTOMER, day(due, 14), [invoice.invoice_id]
                ),
                range(2),
            )
        )

    # Then one recorded and sent it; the other lost the race, planned again and found it done
    assert sorted(outcome.value for outcome in outcomes) == ["already_sent", "sent"]
    assert _templates() == ["reminder", "second_notice"]
    assert [kind for kind, _, _ in charges()] == ["interest", "fee", "interest"]


def test_a_crash_between_the_commit_and_the_email_is_finished_by_the_retry(
    client, world: World, monkeypatch: pytest.MonkeyPatch
):
    from functions.dunning import remind_customer

    # Given the day's message, and a worker that dies right after recording the reminder
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    on(day(due, 3))
    start_run(day(due, 3))
    bodies = fan_out(world)
    send = remind_customer.send_reminder

    def crash(reminder_id: str, **_: object) -> remind_customer.Outcome:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(remind_customer, "send_reminder", crash)
    failed = deliver(bodies)
    reminder_id = dunning_store.reminder_id_for(CUSTOMER, day(due, 3))
    recorded = dunning_store.get_reminder(reminder_id)

    # When SQS delivers the message again, after the queue's visibility timeout (the e-mail's
    # claim, recorded with the reminder, is the crashed attempt's until its lease has passed)
    later = clock.now() + timedelta(seconds=361)  # the fan-out queue's visibility timeout: 360 s
    clock.set_clock(lambda: later)
    monkeypatch.setattr(remind_customer, "send_reminder", send)
    retried = deliver(bodies)

    # Then the first attempt failed with the reminder recorded and unsent; the retry sent it once
    assert len(failed["batchItemFailures"]) == 1 and retried["batchItemFailures"] == []
    assert recorded is not None and recorded["status"] == "recorded"
    assert _templates() == ["reminder"]
    sent = dunning_store.get_reminder(reminder_id)
    assert sent is not None and sent["status"] == "sent" and sent["message_id"]
    assert len(charges()) == 1


def test_a_failed_email_releases_its_claim_and_the_retry_sends_it(
    client, world: World, monkeypatch: pytest.MonkeyPatch
):
    from shared.adapters import mail

    # Given the day's message, and SES failing once
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    on(day(due, 3))
    start_run(day(due, 3))
    bodies = fan_out(world)
    send = mail.send

    def unavailable(**_: object) -> str:
        raise RuntimeError("SES throttled")

    monkeypatch.setattr(mail, "send", unavailable)
    failed = deliver(bodies)
    markers = [item for item in world.table_items() if item["pk"].startswith("NOTIFIED#rem_")]

    # When the message comes back
    monkeypatch.setattr(mail, "send", send)
    retried = deliver(bodies)

    # Then the failure left no claim behind, and the retry sent the reminder once
    assert len(failed["batchItemFailures"]) == 1 and markers == []
    assert retried["batchItemFailures"] == []
    assert _templates() == ["reminder"]


# --- dry runs, the API, the schedule, the run's reads ---------------------------------------


def test_a_dry_run_shows_what_would_be_sent_and_writes_and_sends_nothing(client, world: World):
    # Given an invoice at its final notice's day
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    on(day(due, 30))
    world.pump.drain()
    before = snapshot(world)

    # When a dry run is started, in process and through the API
    planned = start_run(day(due, 30), dry_run=True)
    response = call(
        client,
        "POST",
        "/collection-runs",
        body={"as_of": day(due, 30).isoformat(), "dry_run": True},
    )

    # Then both show the final notice with its fee and interest, the credit hold and the e-mail
    assert response.status == 200, response.body
    for answer in (planned, response.body):
        assert answer["dry_run"] is True and answer["customers"] == 1
        [plan] = answer["plans"]
        [line] = plan["lines"]
        assert (line["invoice_id"], line["level_name"], line["fee"]) == (
            invoice.invoice_id,
            "final_notice",
            "10.00",
        )
        assert line["interest"] == str(interest((invoice.total, 30)))
        assert plan["puts_on_credit_hold"] and plan["attach_statement"]
        assert (plan["recipient"], plan["subject"]) == (
            BILLING_EMAIL,
            "Final notice: overdue invoices",
        )

    # And nothing was written, enqueued or sent
    assert snapshot(world) == before
    assert world.queue_depth(QUEUE) == 0
    assert reminders() == []


def test_the_api_starts_a_run_and_refuses_bad_input(client, world: World):
    # Given an invoice three days overdue
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None
    on(day(due, 3))

    # When the run is asked for with a bad date, an unknown field, a broken body, by a partner
    bad_date = client.http.post(
        "/collection-runs",
        headers={"Content-Type": "application/json", "X-Api-Key": ADMIN_KEY},
        body=json.dumps({"as_of": "2026-13-01"}),
    )
    unknown = call(client, "POST", "/collection-runs", body={"as_off": "2026-12-05"})
    broken = call(client, "POST", "/collection-runs", body="{")
    partner = call(client, "POST", "/collection-runs", key=PARTNER_KEY, body={})

    # Then each is refused, and nothing is enqueued
    problem = assert_problem(bad_date, 422, "validation-error")
    assert problem["errors"][0]["pointer"] == "#/as_of"
    assert unknown.status == 422 and unknown.body["errors"][0]["pointer"] == "#/as_off"
    assert broken.status == 400 and partner.status == 403
    assert world.queue_depth(QUEUE) == 0

    # When an admin starts today's run with no body at all
    started = client.http.post("/collection-runs", headers={"X-Api-Key": ADMIN_KEY})

    # Then it is accepted for today, one customer is queued, and the worker reminds it
    assert started.status_code == 202, started.body
    body = json.loads(started.body)
    assert (body["as_of"], body["customers"], body["invoices"]) == (day(due, 3).isoformat(), 1, 1)
    assert body["run_id"].startswith("run_") and body["index_items_read"] == 1
    assert world.queue_depth(QUEUE) == 1
    world.pump.drain()
    assert _templates() == ["reminder"]


def test_the_scheduled_run_reads_only_what_is_due_with_a_query(
    client, world: World, monkeypatch: pytest.MonkeyPatch
):
    from shared.adapters import aws

    # Given an overdue invoice, one due next month and one paid
    overdue = _invoice(client, world)
    due = overdue.due_on
    assert due is not None
    _invoice(client, world, issued=date(2026, 12, 1))
    paid = _invoice(client, world, issued=date(2026, 11, 3))
    on(date(2026, 11, 4))
    pay(client, paid, str(paid.total))
    world.pump.drain()

    def no_scans(**_: object) -> None:
        raise AssertionError("the run never scans the table")

    monkeypatch.setattr(aws.client("dynamodb"), "scan", no_scans)

    # When the schedule fires at 06:00 UTC three days after the first due date
    on(day(due, 3))
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.combine(day(due, 3), datetime.min.time(), UTC)
        .replace(hour=6)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    answer = app_module.run_collections(event, LambdaContext("run_collections"))
    world.pump.drain()

    # Then it read the one index item due by then, and reminded only that invoice
    assert (answer["as_of"], answer["index_items_read"], answer["invoices"]) == (
        day(due, 3).isoformat(),
        1,
        1,
    )
    [reminder] = reminders()
    assert overdue.number in reminder.body and paid.number not in reminder.body


# --- the portal link ---------------------------------------------------------------------------


def _portal_link(reminder_body: str) -> str:
    """The path of the reminder's one portal link (its HTML part's href, unescaped)."""
    base = re.escape(html.escape(settings().public_api_url, quote=True))
    [href] = re.findall(base + r'(/portal/[^"]+)"', reminder_body)
    return html.unescape(href)


def test_a_reminder_links_the_contact_to_the_portal_until_staff_revoke_it(client, world: World):
    # Given an invoice due in 30 days, nobody paying it
    invoice = _invoice(client, world)
    due = invoice.due_on
    assert due is not None

    # When the run sends the friendly reminder
    run_on(world, day(due, -5))
    [friendly] = reminders()

    # Then it carries a signed link to cus_acme's portal for the billing contact
    path = _portal_link(friendly.body)
    assert path.startswith(f"/portal/{CUSTOMER}?token=")
    # which opens the portal on the invoice it reminds of
    page = client.http.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'data-invoice="{invoice.invoice_id}"' in page.body.decode()

    # When staff revoke the customer's links
    revoked = call(client, "DELETE", f"/customers/{CUSTOMER}/portal-links")
    assert revoked.status == 200, revoked.body

    # Then the reminder's link is refused
    refused = client.http.get(path, headers={"Accept": "application/json"})
    assert_problem(refused, 403, "link-revoked")
    assert client.http.get(path, headers={"Accept": "text/html"}).status_code == 403

    # And the final notice (the statement attached) carries a link issued after the revocation
    for offset in (3, 14, 30):
        run_on(world, day(due, offset))
    final = reminders()[-1]
    assert final.template == "final_notice" and final.attachments
    assert client.http.get(_portal_link(final.body)).status_code == 200
