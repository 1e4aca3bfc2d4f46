"""Collections by hand: promises to pay, the worklist of whom to chase, a customer's history."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared import clock
from shared.domain.invoice import Invoice
from shared.store import dunning, outbox
from tests.functional.accounts import Answer, call, create_customer, new_staff
from tests.functional.cash import issued_invoice
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import snapshot
from tests.functional.invoicing import credit_note, entities, event_data

PROBLEM = "application/problem+json"


class Clock:
    """The app's clock, held at a chosen moment (tests move it by days)."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def on(self, day: date) -> None:
        self.moment = datetime.combine(day, time(9, 30), tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[Clock]:
    held = Clock()
    clock.set_clock(lambda: held.moment)
    try:
        yield held
    finally:
        clock.set_clock(None)


@pytest.fixture
def clerk_key(client) -> str:
    return new_staff(client, "ar_clerk")[1]


@pytest.fixture
def invoice(client, world: World, frozen: Clock) -> Invoice:
    """An invoice of cus_acme (net 30) for the demo order: 71.50 EUR due."""
    issued = issued_invoice(client, world)
    assert issued.amount_due == Decimal("71.50") and issued.due_on is not None
    return issued


def promise(
    client,
    invoice_id: str,
    body: Any,
    *,
    key: str | None,
    idempotency_key: str | None = None,
) -> Answer:
    return call(
        client,
        "POST",
        f"/invoices/{invoice_id}/promises",
        key=key,
        body=body,
        idempotency_key=idempotency_key,
    )


def assert_problem(answer: Answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.body["type"].endswith("/" + kind), answer.body


def due_on(invoice: Invoice) -> date:
    assert invoice.due_on is not None
    return invoice.due_on


# --- promises to pay -------------------------------------------------------------------------


def test_a_promise_to_pay_is_recorded_with_its_state_and_event(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given the invoice fell due yesterday
    frozen.on(due_on(invoice) + timedelta(days=1))
    pay_by = due_on(invoice) + timedelta(days=8)

    # When the clerk records that the customer promised to pay 50.00 within a week
    answer = promise(
        client, invoice.invoice_id, {"promised_on": pay_by.isoformat(), "amount": "50.00"},
        key=clerk_key,
    )  # fmt: skip

    # Then the promise is answered as recorded, open
    assert answer.status == 201, answer.body
    recorded = answer.body
    assert recorded["promise_id"].startswith("ptp_")
    assert {k: recorded[k] for k in ("invoice_id", "customer_id", "promised_on", "amount")} == {
        "invoice_id": invoice.invoice_id,
        "customer_id": "cus_acme",
        "promised_on": pay_by.isoformat(),
        "amount": "50.00",
    }
    assert recorded["due_when_made"] == "71.50" and recorded["status"] == "open"
    # and the table holds the promise, the invoice's state with it, and the audit event
    [item] = entities(world, "PromiseToPay")
    assert item["promise_id"] == recorded["promise_id"]
    assert item["gsi1pk"] == "CUSTOMER#cus_acme"
    [state] = entities(world, "DunningState")
    assert state["invoice_id"] == invoice.invoice_id and state["version"] == 1
    assert state["promise"]["promise_id"] == recorded["promise_id"]
    assert state["broken_promise"] is False
    [event] = event_data(world, "PromiseToPayRecorded")
    assert event["promise_id"] == recorded["promise_id"]
    assert event["customer_id"] == "cus_acme" and event["actor"]
    [item] = [e for e in entities(world, "Event") if e["detail_type"] == "PromiseToPayRecorded"]
    assert item["source"] == "otc.collections" and item["aggregate_id"] == invoice.invoice_id


def test_the_same_idempotency_key_replays_the_promise(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given a promise recorded with an Idempotency-Key
    body = {"promised_on": (due_on(invoice) + timedelta(days=3)).isoformat(), "amount": "71.50"}
    key = str(uuid.uuid4())
    first = promise(client, invoice.invoice_id, body, key=clerk_key, idempotency_key=key)
    assert first.status == 201, first.body

    # When the request is retried with the same key
    again = promise(client, invoice.invoice_id, body, key=clerk_key, idempotency_key=key)

    # Then the first answer comes back and nothing more is written
    assert (again.status, again.body) == (201, first.body)
    assert len(entities(world, "PromiseToPay")) == 1
    assert len(event_data(world, "PromiseToPayRecorded")) == 1


@pytest.mark.parametrize(
    ("days_from_today", "amount", "pointer"),
    [
        (-1, "10.00", "#/promised_on"),  # a day that has passed
        (5, "71.51", "#/amount"),  # more than is due
        (5, "0", "#/amount"),
        (5, "0.00", "#/amount"),
        (5, "10.001", "#/amount"),  # finer than a cent
    ],
)
def test_a_refused_promise_answers_422_and_writes_nothing(
    client,
    world: World,
    frozen: Clock,
    invoice: Invoice,
    clerk_key: str,
    days_from_today: int,
    amount: str,
    pointer: str,
):
    # Given the table as it is
    today = clock.now().date()
    before = snapshot(world)

    # When the clerk records a promise the rules refuse
    when = (today + timedelta(days=days_from_today)).isoformat()
    answer = promise(
        client, invoice.invoice_id, {"promised_on": when, "amount": amount}, key=clerk_key
    )

    # Then the answer is a 422 problem pointing at the field, and nothing was written
    assert_problem(answer, 422, "invalid-promise")
    assert [error["pointer"] for error in answer.body["errors"]] == [pointer]
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "body",
    [
        {"promised_on": "2030-01-01"},
        {"promised_on": "2030-01-01", "amount": 10},
        {"promised_on": "next week", "amount": "10.00"},
        {"promised_on": "2030-01-01", "amount": "10.00", "note": "call back"},
    ],
)
def test_a_malformed_promise_answers_422(client, invoice: Invoice, clerk_key: str, body):
    answer = promise(client, invoice.invoice_id, body, key=clerk_key)

    assert_problem(answer, 422, "validation-error")


def test_a_settled_invoice_or_a_credit_note_takes_no_promise(
    client, world: World, invoice: Invoice, clerk_key: str
):
    # Given the invoice was fully credited (nothing is due any more)
    note = credit_note(client, invoice.invoice_id, {"reason": "Billed in error"})
    assert note.status == 201, note.body
    body = {"promised_on": (due_on(invoice)).isoformat(), "amount": "10.00"}
    before = snapshot(world)

    # When the clerk records a promise on the invoice, or on the credit note
    on_invoice = promise(client, invoice.invoice_id, body, key=clerk_key)
    on_note = promise(client, note.body["id"], body, key=clerk_key)

    # Then both answer 409 and nothing is written
    assert_problem(on_invoice, 409, "not-promisable")
    assert_problem(on_note, 409, "not-promisable")
    assert snapshot(world) == before


def test_an_unknown_invoice_answers_404(client, world: World, clerk_key: str):
    body = {"promised_on": "2099-01-01", "amount": "10.00"}

    assert_problem(promise(client, "inv_nope", body, key=clerk_key), 404, "not-found")


def test_a_lost_race_for_the_state_answers_409(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str, monkeypatch
):
    # Given a dunning run writes the invoice's state right after the promise read it
    from functions.dunning import promises as use_case

    read = dunning.states

    def read_then_run_writes(invoice_ids: Any) -> Any:
        found = read(invoice_ids)
        state = found[invoice.invoice_id]
        after = state.model_copy(update={"last_level": 1, "version": state.version + 1})
        outbox.commit([dunning.state_write(state, after, "cus_acme")], [])
        return found

    monkeypatch.setattr(use_case.dunning, "states", read_then_run_writes)
    body = {"promised_on": due_on(invoice).isoformat(), "amount": "20.00"}

    # When the clerk's promise commits
    answer = promise(client, invoice.invoice_id, body, key=clerk_key)

    # Then it is refused as a version conflict, and no promise was written
    assert_problem(answer, 409, "version-mismatch")
    assert entities(world, "PromiseToPay") == []


@pytest.mark.parametrize("role", ["auditor", "credit_manager", "ar_clerk"])
def test_who_may_record_promises(client, invoice: Invoice, role: str):
    _, key = new_staff(client, role)
    body = {"promised_on": due_on(invoice).isoformat(), "amount": "20.00"}

    answer = promise(client, invoice.invoice_id, body, key=key)

    if role == "auditor":
        assert_problem(answer, 403, "forbidden")
    else:
        assert answer.status == 201, answer.body


def test_partners_may_not_record_promises_nor_read_the_worklist(client, invoice: Invoice):
    body = {"promised_on": due_on(invoice).isoformat(), "amount": "20.00"}

    # When the partner bound to the invoice's customer records a promise, or reads the worklist
    posted = promise(client, invoice.invoice_id, body, key=PARTNER_KEY)
    listed = call(client, "GET", "/collections/worklist", key=PARTNER_KEY)

    # Then both are forbidden
    assert_problem(posted, 403, "forbidden")
    assert_problem(listed, 403, "forbidden")


# --- the worklist ----------------------------------------------------------------------------


def _customer_with_invoice(client, world: World, name: str, widgets: int) -> Invoice:
    """A new EUR customer (net 45) and an invoice for ``widgets`` widgets at 19.99 + 19 %."""
    customer = create_customer(client, legal_name=name, credit_limit="100000.00")
    lines = [{"sku": "WIDGET-1", "quantity": widgets, "unit_price": "19.99"}]
    return issued_invoice(client, world, customer_id=customer["id"], lines=lines)


def _worklist(client, key: str, **query: Any) -> dict[str, Any]:
    path = "/collections/worklist"
    if query:
        path += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    answer = call(client, "GET", path, key=key)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def test_the_worklist_puts_broken_promises_first_then_the_largest_risk(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given three customers with overdue invoices: ACME owes 71.50 (net 30), Initech owes ten
    # times as much (net 45), Hooli little (net 45) but a dunning run found its promise broken
    initech = _customer_with_invoice(client, world, "Initech SARL", 30)
    hooli = _customer_with_invoice(client, world, "Hooli SAS", 1)
    state = dunning.states([hooli.invoice_id])[hooli.invoice_id]
    broken = state.model_copy(update={"last_level": 2, "broken_promise": True, "version": 1})
    outbox.commit([dunning.state_write(state, broken, hooli.customer_id)], [])
    # and an invoice not yet due: ACME's second, due in the future of as_of
    as_of = due_on(invoice) + timedelta(days=20)
    frozen.on(as_of - timedelta(days=30))
    not_yet = issued_invoice(client, world)
    assert due_on(not_yet) >= as_of

    # When the clerk reads the worklist as of twenty days after ACME's due date
    listed = _worklist(client, clerk_key, as_of=as_of.isoformat())

    # Then Hooli comes first (broken promise), then Initech, then ACME (amount x days)
    customers = listed["customers"]
    assert listed["as_of"] == as_of.isoformat()
    assert [c["customer_id"] for c in customers] == [
        hooli.customer_id,
        initech.customer_id,
        "cus_acme",
    ]
    assert listed["customers_total"] == 3 and listed["truncated"] is False
    by_id = {c["customer_id"]: c for c in customers}
    acme, first = by_id["cus_acme"], by_id[hooli.customer_id]
    assert acme["name"] == "ACME Retail GmbH"
    assert acme["overdue"] == [{"amount": "71.50", "currency": "EUR"}]
    assert acme["oldest_days_overdue"] == 20
    assert Decimal(acme["risk"]) == Decimal("71.50") * 20
    initech_days = (as_of - due_on(initech)).days
    assert Decimal(by_id[initech.customer_id]["risk"]) == initech.amount_due * initech_days
    assert first["broken_promise"] is True and first["open_promises"] == 0
    assert first["disputed"] == 0
    # and each invoice shows what collections know of it (only overdue ones are listed)
    assert [i["number"] for i in acme["invoices"]] == [invoice.number]
    [line] = first["invoices"]
    assert line == {
        "invoice_id": hooli.invoice_id,
        "number": hooli.number,
        "legacy": False,
        "due_on": due_on(hooli).isoformat(),
        "days_overdue": (as_of - due_on(hooli)).days,
        "amount_due": {"amount": str(hooli.amount_due), "currency": "EUR"},
        "status": "open",
        "last_level": 2,
        "promise": None,
        "broken_promise": True,
    }

    # When the list is capped at two
    capped = _worklist(client, clerk_key, as_of=as_of.isoformat(), limit=2)

    # Then the two most urgent are shown and the cut is said
    assert [c["customer_id"] for c in capped["customers"]] == [
        hooli.customer_id,
        initech.customer_id,
    ]
    assert capped["customers_total"] == 3 and capped["truncated"] is True


def test_a_promise_shows_open_on_the_worklist_then_broken_once_its_day_passed(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given a promise recorded two days after the due date, to pay by the fifth day
    frozen.on(due_on(invoice) + timedelta(days=2))
    pay_by = due_on(invoice) + timedelta(days=5)
    body = {"promised_on": pay_by.isoformat(), "amount": "71.50"}
    assert promise(client, invoice.invoice_id, body, key=clerk_key).status == 201

    # When the worklist is read on the promised day, and the day after (no run in between)
    on_the_day = _worklist(client, clerk_key, as_of=pay_by.isoformat())
    after = _worklist(client, clerk_key, as_of=(pay_by + timedelta(days=1)).isoformat())

    # Then the promise is open on the day and broken after it
    [entry] = on_the_day["customers"]
    assert (entry["open_promises"], entry["broken_promise"]) == (1, False)
    assert entry["invoices"][0]["promise"]["status"] == "open"
    [entry] = after["customers"]
    assert (entry["open_promises"], entry["broken_promise"]) == (0, True)
    assert entry["invoices"][0]["promise"]["status"] == "broken"


def test_the_worklist_defaults_to_today_and_lists_nothing_before_due(
    client, frozen: Clock, invoice: Invoice, clerk_key: str
):
    frozen.on(due_on(invoice))  # due today: not overdue yet

    listed = _worklist(client, clerk_key)

    assert listed["as_of"] == due_on(invoice).isoformat()
    assert listed["customers"] == [] and listed["customers_total"] == 0


def test_the_worklist_refuses_a_bad_query(client, clerk_key: str):
    answer = call(client, "GET", "/collections/worklist?as_of=yesterday", key=clerk_key)

    assert_problem(answer, 400, "invalid-query")


def test_the_worklist_reads_the_open_by_due_index_and_never_scans(
    client, frozen: Clock, invoice: Invoice, clerk_key: str, monkeypatch
):
    # Given every DynamoDB call is recorded
    from shared.adapters import aws

    calls: list[tuple[str, dict[str, Any]]] = []
    dynamodb = aws.client("dynamodb")
    for name in ("scan", "query"):
        original = getattr(dynamodb, name)

        def recording(*args: Any, _name: str = name, _call: Any = original, **kw: Any) -> Any:
            calls.append((_name, kw))
            return _call(*args, **kw)

        monkeypatch.setattr(dynamodb, name, recording)

    # When the worklist is read
    _worklist(client, clerk_key, as_of=(due_on(invoice) + timedelta(days=1)).isoformat())

    # Then it queried the sparse index below as_of, and scanned nothing
    assert [name for name, _ in calls if name == "scan"] == []
    [index_query] = [kw for name, kw in calls if kw.get("IndexName") == "open_by_due"]
    assert "open_due_sk < :below" in index_query["KeyConditionExpression"]


# --- a customer's history --------------------------------------------------------------------


def test_the_history_lists_promises_with_their_status_now(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given two promises for the invoice: the second replaced the first while it was open
    frozen.on(due_on(invoice) + timedelta(days=1))
    first_by = due_on(invoice) + timedelta(days=10)
    first = promise(
        client, invoice.invoice_id, {"promised_on": first_by.isoformat(), "amount": "30.00"},
        key=clerk_key,
    )  # fmt: skip
    frozen.on(due_on(invoice) + timedelta(days=2))
    second = promise(
        client, invoice.invoice_id, {"promised_on": first_by.isoformat(), "amount": "71.50"},
        key=clerk_key,
    )  # fmt: skip
    assert first.status == second.status == 201

    # When the partner of the customer reads its collection history
    answer = call(client, "GET", "/customers/cus_acme/collections", key=PARTNER_KEY)

    # Then the promises are listed newest first: the second open, the first superseded
    assert answer.status == 200, answer.body
    history = answer.body
    assert history["customer_id"] == "cus_acme" and history["name"] == "ACME Retail GmbH"
    assert [(p["promise_id"], p["status"]) for p in history["promises"]] == [
        (second.body["promise_id"], "open"),
        (first.body["promise_id"], "superseded"),
    ]
    assert history["promises"][0]["invoice_number"] == invoice.number
    assert history["promises"][0]["amount"] == "71.50"
    assert history["reminders"] == [] and history["disputes"] == []

    # When the customer's day passed without payment
    frozen.on(first_by + timedelta(days=1))
    later = call(client, "GET", "/customers/cus_acme/collections", key=clerk_key)

    # Then the promise shows broken
    assert later.body["promises"][0]["status"] == "broken"


def test_the_history_lists_reminders_and_a_promise_the_run_found_broken(
    client, world: World, frozen: Clock, invoice: Invoice, clerk_key: str
):
    # Given a promise to pay by the day after the due date, and nothing paid
    frozen.on(due_on(invoice))
    pay_by = due_on(invoice) + timedelta(days=1)
    body = {"promised_on": pay_by.isoformat(), "amount": "71.50"}
    recorded = promise(client, invoice.invoice_id, body, key=clerk_key)
    assert recorded.status == 201, recorded.body
    # and the dunning worker ran for the customer four days after the due date
    from functions.dunning import remind_customer

    as_of = due_on(invoice) + timedelta(days=4)
    frozen.on(as_of)
    assert remind_customer.record("cus_acme", as_of, [invoice.invoice_id])

    # When staff read the customer's collection history, and the worklist
    answer = call(client, "GET", "/customers/cus_acme/collections", key=clerk_key)
    listed = _worklist(client, clerk_key)

    # Then the day's reminder is listed with its lines and totals
    assert answer.status == 200, answer.body
    [reminder] = answer.body["reminders"]
    assert reminder["reminder_id"] == dunning.reminder_id_for("cus_acme", as_of)
    assert reminder["as_of"] == as_of.isoformat() and reminder["status"] == "recorded"
    assert [line["number"] for line in reminder["lines"]] == [invoice.number]
    assert reminder["totals"]
    # and the promise shows broken, and the worklist flags the customer
    [shown] = answer.body["promises"]
    assert (shown["promise_id"], shown["status"]) == (recorded.body["promise_id"], "broken")
    [entry] = listed["customers"]
    assert entry["customer_id"] == "cus_acme" and entry["broken_promise"] is True
    assert entry["invoices"][0]["promise"] is None  # the run cleared it, and flagged the invoice
    assert entry["invoices"][0]["broken_promise"] is True
    assert entry["invoices"][0]["last_level"] is not None


def test_a_partner_reads_no_other_customers_history(client, world: World):
    # Given a customer the partner is not bound to
    other = create_customer(client, legal_name="Umbrella BV")

    # When the partner reads its history, or that of a customer that does not exist
    answer = call(client, "GET", f"/customers/{other['id']}/collections", key=PARTNER_KEY)
    missing = call(client, "GET", "/customers/cus_nobody/collections")

    # Then both answer 404
    assert_problem(answer, 404, "not-found")
    assert_problem(missing, 404, "not-found")
