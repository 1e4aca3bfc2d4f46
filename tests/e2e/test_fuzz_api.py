"""Schemathesis over openapi.yaml against a local stack of its own, as every role, over HTTP.

Every operation gets positive (valid per the schema) and negative (invalid) requests from each
role's key: the partner (bound to a customer of its own), the admin, and staff with the
credit_manager, ar_clerk and auditor roles created through the API. Path parameters are drawn at
random or, for half the strategies, name real resources (an order, an invoice, a payment...)
so that requests reach past the not-found check. Then, per role, schemathesis's stateful phase
chains operations along openapi.yaml's links (and the links schemathesis infers from the
schemas): an order placed, then read, amended, shipped or cancelled; a customer opened, then
read and updated; a payment recorded, then allocated and the allocation reversed. Checks on
every answer:

- no 5xx (schemathesis's not_a_server_error);
- the answer is one openapi.yaml documents: its status, content type, headers and body
  (status_code_conformance, content_type_conformance, response_headers_conformance,
  response_schema_conformance);
- an invalid request is rejected (negative_data_rejection);
- every 4xx is application/problem+json with type, title and status (status equal to the code);
- a rejected request (4xx) writes nothing.

OTC_FUZZ_EXAMPLES (cases per operation, role and mode), OTC_FUZZ_SCENARIOS and OTC_FUZZ_STEPS
(stateful scenarios per role, steps per scenario) dig deeper than the defaults, which keep the
module near two minutes; `make bench` runs it with at least 25 cases per operation
(bench/fuzz.py), reading the counts the module writes to OTC_FUZZ_REPORT.

Why the write check reads the table's stream: a Scan of the whole table through the moto server
costs about half a second, too much for every request. Every write to the table, including a
write that changes nothing, puts a record on its DynamoDB stream, so reading the stream from a
position of our own (GetRecords, one call) sees any write a request made. The event pump writes
too, in its own time, after accepted requests: before each request the test waits until the
stream has been quiet and every work queue (not the DLQs) empty, so the only writer left while
the request runs is the request. The idempotency table has no stream; its item count
(DescribeTable) catches a record a rejected request would leave behind. A webhook the fuzzing
registers is removed at once (its retried deliveries would keep the pump busy for minutes), and
collection runs are dry runs. The stack runs alone (its own process and ports), so the shared
e2e stack's data is never touched.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import ADMIN_KEY, ROOT, LocalStack

pytestmark = pytest.mark.e2e

SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
PROBLEM_JSON = "application/problem+json"
# Per operation, role and mode: 1 keeps the module near two minutes; OTC_FUZZ_EXAMPLES digs deeper.
EXAMPLES_PER_MODE = int(os.environ.get("OTC_FUZZ_EXAMPLES", "1"))
FORBIDDEN_STREAK = 2  # a role refused this often on an operation is refused for its role alone
QUIET_SECONDS = 0.6  # three pump intervals without a stream record
SETTLE_TIMEOUT_SECONDS = 8.0
STAFF_ROLES = ("credit_manager", "ar_clerk", "auditor")
ROLES = ("partner", "admin", *STAFF_ROLES)
# The stateful phase: per role, this many scenarios of up to this many linked steps.
STATEFUL_SCENARIOS = int(os.environ.get("OTC_FUZZ_SCENARIOS", "3"))
STATEFUL_STEPS = int(os.environ.get("OTC_FUZZ_STEPS", "6"))
# Where the counts go as JSON (examples per operation and phase, failures per kind), if set.
REPORT = os.environ.get("OTC_FUZZ_REPORT")
PATH_PARAMETER = re.compile(r"{([^}]+)}")


# --- the stack's storage, as the write check sees it ----------------------------------------


@dataclass
class Storage:
    """The table's stream read from our own position, the idempotency table, the work queues."""

    moto_url: str
    clients: dict[str, Any] = field(default_factory=dict)
    iterators: dict[str, str] = field(default_factory=dict)
    queue_urls: list[str] = field(default_factory=list)
    idempotency_table: str = ""
    settled: bool = False

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=self.moto_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self.clients[service]

    def open(self) -> Storage:
        streams = self.client("dynamodbstreams")
        [stream] = streams.list_streams()["Streams"]
        shards = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]
        for shard in shards["Shards"]:
            self.iterators[shard["ShardId"]] = streams.get_shard_iterator(
                StreamArn=stream["StreamArn"],
                ShardId=shard["ShardId"],
                ShardIteratorType="LATEST",
            )["ShardIterator"]
        self.queue_urls = [
            url for url in self.client("sqs").list_queues()["QueueUrls"] if "dlq" not in url
        ]
        [self.idempotency_table] = [
            name
            for name in self.client("dynamodb").list_tables()["TableNames"]
            if name.endswith("-idempotency")
        ]
        return self

    def new_writes(self) -> list[dict[str, Any]]:
        """The stream records since the last call: every write to the table in between."""
        records: list[dict[str, Any]] = []
        for shard, iterator in self.iterators.items():
            answer = self.client("dynamodbstreams").get_records(ShardIterator=iterator)
            records.extend(answer["Records"])
            self.iterators[shard] = answer["NextShardIterator"]
        return records

    def idempotency_records(self) -> int:
        table = self.client("dynamodb").describe_table(TableName=self.idempotency_table)
        return int(table["Table"]["ItemCount"])

    def queues_empty(self) -> bool:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        sqs = self.client("sqs")
        for url in self.queue_urls:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
            if any(int(attributes["Attributes"][name]) for name in names):
                return False
        return True

    def settle(self) -> None:
        """Wait until the pump has nothing left to do: no stream record lately (the pump
        publishes the events it reads in the same pass), no message."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.new_writes():
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_SECONDS and self.queues_empty():
                self.settled = True
                return
            time.sleep(0.1)
        self.settled = False


# --- the stack, its principals and resources -------------------------------------------------


@dataclass
class Fuzzed:
    stack: LocalStack
    storage: Storage
    keys: dict[str, str]
    known: dict[str, str]
    session: requests.Session


def _api(stack: LocalStack, method: str, path: str, key: str, body: Any = None) -> Any:
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    raw = None if body is None else json.dumps(body).encode()
    answer = stack.request(method, path, body=raw, headers=headers)
    assert answer.status < 300, (method, path, answer.status, answer.body)
    return answer.json() if answer.body else None


def _eventually(read: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail("the pump did not get there in time")


def _customer_body(name: str) -> dict[str, Any]:
    return {
        "legal_name": name,
        "billing_email": "ap@fuzz.example",
        "currency": "EUR",
        "billing_address": {
            "line1": "1 Main St",
            "city": "Cork",
            "postal_code": "T12 X2Y3",
            "country": "IE",
        },
        "credit_limit": "100000.00",
    }


def _resources(stack: LocalStack) -> tuple[dict[str, str], dict[str, str]]:
    """Staff keys for every role, a customer with its partner, and one of each resource."""
    keys = {"admin": ADMIN_KEY}
    known: dict[str, str] = {"currency": "EUR", "import_ref": "customers"}
    for role in STAFF_ROLES:
        created = _api(stack, "POST", "/staff", ADMIN_KEY, {"name": f"{role} fuzz", "role": role})
        keys[role] = created["api_key"]["secret"]
        known["staff_id"] = created["staff"]["id"]
    customer = _api(stack, "POST", "/customers", ADMIN_KEY, _customer_body("Fuzz Trading Ltd"))
    partner = _api(
        stack,
        "POST",
        "/partners",
        ADMIN_KEY,
        {"name": "Fuzz EDI", "customer_ids": [customer["id"]]},
    )
    keys["partner"] = partner["api_key"]["secret"]
    order = _api(
        stack,
        "POST",
        "/orders",
        keys["partner"],
        {
            "customer_id": customer["id"],
            "currency": "EUR",
            "purchase_order": "PO-FUZZ",
            "lines": [{"sku": "WIDGET-1", "quantity": 4, "unit_price": "19.99"}],
        },
    )
    _eventually(
        lambda: _api(stack, "GET", f"/orders/{order['id']}", ADMIN_KEY)["status"] == "confirmed"
    )
    _api(
        stack,
        "POST",
        f"/orders/{order['id']}/shipments",
        ADMIN_KEY,
        {"carrier": "DHL", "tracking_number": "JDFUZZ1", "lines": [{"line_no": 1, "quantity": 1}]},
    )
    [invoice] = _eventually(
        lambda: _api(stack, "GET", f"/invoices?customer_id={customer['id']}", ADMIN_KEY)["invoices"]
    )
    payment = _api(
        stack,
        "POST",
        "/payments",
        ADMIN_KEY,
        {
            "amount": "10.00",
            "currency": "EUR",
            "method": "cheque",
            "received_on": time.strftime("%Y-%m-%d", time.gmtime()),
            "payer_name": "Fuzz Trading Ltd",
            "reference": "CHQ-FUZZ-1",
            "customer_id": customer["id"],
        },
    )
    known.update(
        customer_id=customer["id"],
        partner_id=partner["partner"]["id"],
        principal_id=partner["partner"]["id"],
        order_id=order["id"],
        invoice_id=invoice["id"],
        payment_id=payment["id"],
        sku="WIDGET-1",
        provider="demo-pay",
    )
    return keys, known


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    stack = LocalStack(tmp_path_factory.mktemp("fuzz-stack")).start()
    try:
        stack.wait_ready()
        keys, known = _resources(stack)
        storage = Storage(stack.ready["moto_url"]).open()
        with requests.Session() as session:
            yield Fuzzed(stack, storage, keys, known, session)
    finally:
        print(f"\nfuzzing: {SUMMARY['sent']} requests, {SUMMARY['rejected']} rejections checked")
        if REPORT:
            counts = {
                "examples": EXAMPLES,
                "answers": ANSWERS,
                "failures": FAILURES,
                "failed": FAILED,
                **SUMMARY,
            }
            Path(REPORT).write_text(json.dumps(counts, indent=1, sort_keys=True))
        code = stack.stop(signal.SIGINT)
        logs = stack.logs()
        assert code == 0, f"SIGINT: exit code {code}\n{logs}"
        assert "Traceback" not in logs, logs


# --- the checks -----------------------------------------------------------------------------


def problem_violation(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error answer is not an RFC 9457 problem (None when it is one)."""
    if not content_type.startswith(PROBLEM_JSON):
        return f"content type {content_type!r}"
    try:
        problem = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(problem, dict):
        return "the body is not an object"
    missing = [name for name in ("type", "title", "status") if name not in problem]
    if missing:
        return f"no {', '.join(missing)}"
    if problem["status"] != status:
        return f"status {problem['status']} in a {status} answer"
    return None


def _mutates_the_key(case: Any) -> bool:
    """An invalid case whose invalid part is the X-Api-Key header (missing, or not a string)."""
    data = case.meta.phase.data if case.meta else None
    return "X-Api-Key" in (getattr(data, "description", None) or "")


def _tame(case: Any, key: str) -> None:
    """The role's key, first (a malformed generated header ends the local server's header block)
    and in place of the security scheme's generated one (which would answer 401), unless the
    case is about that header; a collection run is always a dry run (a real one would dun every
    customer of the stack)."""
    if not _mutates_the_key(case):
        generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
        case.headers = {"X-Api-Key": key, **generated}
    if case.operation.label == "POST /collection-runs":
        if isinstance(case.body, dict):
            case.body = {**case.body, "dry_run": True}
        elif case.body is NOT_SET:
            case.body, case.media_type = {"dry_run": True}, "application/json"


def _strategies(operation: Any, known: dict[str, str]) -> list[Any]:
    """Valid cases, then invalid ones; half of each names real resources in its path."""
    names = PATH_PARAMETER.findall(operation.path)
    real = {name: known[name] for name in names if name in known}
    found = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = operation.as_strategy(generation_mode=mode)
        if real:
            strategy = st.one_of(strategy, operation.as_strategy(mode, path_parameters=real))
        found.append(strategy)
    return found


SUMMARY: Counter[str] = Counter()  # over the module, printed when the stack stops
EXAMPLES: defaultdict[str, Counter[str]] = defaultdict(Counter)  # per operation, per phase
ANSWERS: defaultdict[str, Counter[str]] = defaultdict(
    Counter
)  # per operation, per phase and status
FAILURES: Counter[str] = Counter()  # per kind
FAILED: list[str] = []  # what each failure says
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]


SCHEMATHESIS_CHECKS = {
    "5xx": not_a_server_error,
    "schema mismatch (status)": status_code_conformance,
    "schema mismatch (content type)": content_type_conformance,
    "schema mismatch (headers)": response_headers_conformance,
    "schema mismatch (body)": response_schema_conformance,
    "rejectable request accepted": negative_data_rejection,
}


@dataclass
class Tally:
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    forbidden: int = 0  # 403s in a row for the current role
    rejected: int = 0
    unchecked: int = 0  # rejections sent while the pump was not known to be idle

    def fail(self, kind: str, text: str) -> None:
        self.failures.append(f"{kind}: {text}")
        FAILURES[kind] += 1
        FAILED.append(self.failures[-1])


def _schemathesis_failures(fuzzed: Fuzzed, case: Any, response: Any) -> Iterator[tuple[str, str]]:
    """Each of schemathesis's checks that the answer fails, with what it says."""
    transport = {"base_url": fuzzed.stack.api_url, "session": fuzzed.session}
    for kind, check in SCHEMATHESIS_CHECKS.items():
        try:
            case.validate_response(response, checks=[check], transport_kwargs=transport)
        except FailureGroup as failed:
            yield (
                kind,
                "; ".join(f"{failure.title}: {failure.message}" for failure in failed.exceptions),
            )


def _probe(fuzzed: Fuzzed, case: Any, role: str, key: str, phase: str, tally: Tally) -> Any:
    """Send one case and check its answer (and, for a rejection, that nothing was written)."""
    _tame(case, key)
    storage = fuzzed.storage
    if not storage.settled:
        storage.settle()
    checked = storage.settled
    idempotency_before = storage.idempotency_records()
    response = case.call(base_url=fuzzed.stack.api_url, session=fuzzed.session, timeout=20)
    tally.sent += 1
    EXAMPLES[case.operation.label][phase] += 1
    status = response.status_code
    ANSWERS[case.operation.label][f"{phase} {status}"] += 1
    writes = storage.new_writes()
    mode = case.meta.generation.mode.value if case.meta else "explicit"
    where = f"{status} {role} {phase} {mode}: {case.as_curl_command()}"
    for kind, text in _schemathesis_failures(fuzzed, case, response):
        tally.fail(kind, f"{where}\n  {text[:500]}\n  {response.content[:300]!r}")
    if status >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        why = problem_violation(status, content_type, response.content)
        if why:
            tally.fail("not a problem", f"{why}: {where}")
    if 400 <= status < 500:
        tally.rejected += 1
        tally.unchecked += not checked
    if 400 <= status < 500 and checked:
        if writes:
            keys = [record["dynamodb"].get("Keys") for record in writes]
            tally.fail("written on a rejection", f"{keys}: {where}")
        if storage.idempotency_records() != idempotency_before:
            tally.fail("written on a rejection", f"an idempotency record: {where}")
    if status < 400 and (case.method != "GET" or writes):
        storage.settled = False  # the pump has work now
    if status < 400 and case.operation.label == "PUT /partners/{partner_id}/webhook":
        # A live webhook would retry deliveries for minutes, and the pump would never be idle.
        fuzzed.stack.request("DELETE", case.formatted_path, headers={"X-Api-Key": ADMIN_KEY})
    return response


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_answer_is_a_success_or_a_problem_and_rejections_write_nothing(fuzzed, operation):
    tally = Tally()
    # An operation open to anyone (``security: []``, a signed link in its input) refuses a bad
    # link with 403: that says nothing of the role, so every role is sent all of its examples.
    by_role = operation.definition.raw.get("security") != []
    for role, key in fuzzed.keys.items():
        tally.forbidden = 0
        for strategy in _strategies(operation, fuzzed.known):

            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def probe(case: Any) -> None:
                if tally.forbidden >= FORBIDDEN_STREAK:
                    return  # the role may not do this at all; more examples only say so again
                response = _probe(fuzzed, case, role, key, "stateless", tally)  # noqa: B023
                refused = by_role and response.status_code == 403
                tally.forbidden = tally.forbidden + 1 if refused else 0

            # Unsatisfiable: nothing invalid to generate (GET /health has no input at all)
            with contextlib.suppress(Unsatisfiable):
                probe()

    SUMMARY.update(sent=tally.sent, rejected=tally.rejected)
    assert tally.sent > 0
    assert tally.failures == [], "\n".join(tally.failures)
    assert tally.unchecked == 0, f"{tally.unchecked} of {tally.rejected} rejections not checked"


GROUNDED = {"customer_id": "customer_id", "currency": "currency", "sku": "sku"}


def _grounded(value: Any, known: dict[str, str]) -> Any:
    """``value`` naming the stack's customer, currency and SKU, with no stated unit price."""
    if isinstance(value, list):
        return [_grounded(item, known) for item in value]
    if not isinstance(value, dict):
        return value
    grounded: dict[str, Any] = {}
    for name, item in value.items():
        if name in GROUNDED and isinstance(item, str):
            grounded[name] = known[GROUNDED[name]]
        elif name == "customer_ids" and isinstance(item, list):
            grounded[name] = [known["customer_id"]]
        elif name != "unit_price":
            grounded[name] = _grounded(item, known)
    return grounded


def _state_machine(fuzzed: Fuzzed, role: str, tally: Tally) -> type[APIStateMachine]:
    """Schemathesis's state machine over openapi.yaml's links, every step sent as ``role``.

    Every other valid body names the stack's customer, currency and SKU: random ones are refused
    (404, 422), and a refused step has no answer for the links to follow.
    """
    key = fuzzed.keys[role]
    steps = Counter[str]()

    class Scenario(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def step(self, input: StepInput) -> StepOutput:
            case = input.case
            steps["all"] += 1
            if steps["all"] % 2 and case.meta and case.meta.generation.mode.is_positive:
                case.body = _grounded(case.body, fuzzed.known)
            return StepOutput(_probe(fuzzed, case, role, key, "stateful", tally), case)

    return Scenario


@pytest.mark.parametrize("role", ROLES)
def test_scenarios_following_the_links_answer_and_reject_as_the_schema_says(fuzzed, role):
    # Given: scenarios that chain operations along openapi.yaml's links (an order placed, then
    # read, shipped, cancelled...), each step with the role's key
    tally = Tally()
    machine = _state_machine(fuzzed, role, tally)

    # When
    machine.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )

    # Then
    SUMMARY.update(sent=tally.sent, rejected=tally.rejected)
    assert tally.sent > 0
    assert tally.failures == [], "\n".join(tally.failures)
    assert tally.unchecked == 0, f"{tally.unchecked} of {tally.rejected} rejections not checked"


def test_the_write_check_sees_a_write_and_no_write(fuzzed):
    # Given: the pump idle
    storage = fuzzed.storage
    storage.settle()
    assert storage.settled
    records = storage.idempotency_records()

    # When: an accepted POST
    _api(fuzzed.stack, "POST", "/customers", ADMIN_KEY, _customer_body("Written Ltd"))

    # Then: its writes are on the stream, its idempotency record counted
    assert storage.new_writes()
    assert storage.idempotency_records() == records + 1
    storage.settle()

    # When: a rejected POST (the same body without its currency)
    rejected = _customer_body("Refused Ltd")
    del rejected["currency"]
    headers = {
        "X-Api-Key": ADMIN_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    answer = fuzzed.stack.request(
        "POST", "/customers", body=json.dumps(rejected).encode(), headers=headers
    )

    # Then: nothing on the stream, no idempotency record
    assert answer.status == 422, answer.body
    assert storage.new_writes() == []
    assert storage.idempotency_records() == records + 1


NESTED_DEEP = b"[" * 5000 + b"]" * 5000  # valid JSON, nested deeper than the parser recurses


@pytest.mark.parametrize("path", ["/customers", "/orders", "/payments", "/staff"])
def test_a_body_nested_too_deep_is_a_problem_not_a_crash(fuzzed, path):
    # When
    headers = {
        "X-Api-Key": ADMIN_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    answer = fuzzed.stack.request("POST", path, body=NESTED_DEEP, headers=headers)

    # Then
    assert answer.status == 400, answer.body
    assert problem_violation(400, answer.content_type, answer.body) is None
    assert answer.json()["type"].endswith("/malformed-json")


@pytest.mark.parametrize(
    "path",
    [
        "/customers",
        "/payments",
        "/audit/verify",
        "/principals/stf_admin/keys",
        "/invoices?customer_id=cus_acme",
        "/audit?entity=cus_acme",
    ],
)
def test_a_cursor_nested_too_deep_is_a_problem_not_a_crash(fuzzed, path):
    # Given: a cursor of the allowed length that decodes to JSON nested 1,500 deep
    cursor = base64.urlsafe_b64encode(b"[" * 1500).decode()
    separator = "&" if "?" in path else "?"

    # When
    answer = fuzzed.stack.request(
        "GET", f"{path}{separator}cursor={cursor}", headers={"X-Api-Key": ADMIN_KEY}
    )

    # Then
    assert answer.status == 400, answer.body
    assert problem_violation(400, answer.content_type, answer.body) is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/collection-runs", {"as_of": "9999-12-31", "dry_run": True}),
        ("POST", "/collection-runs", {"as_of": "0001-01-01", "dry_run": True}),
        ("GET", "/customers/{customer_id}/statement?to=0001-01-01", None),
        ("GET", "/customers/{customer_id}/statement?from=0001-01-01&to=0001-01-01", None),
        ("GET", "/customers/{customer_id}/statement?to=0002-06-30&format=pdf", None),
        ("GET", "/reports/kpis?to=0001-01-01", None),
        ("GET", "/reports/kpis?from=0001-01-01&to=0001-03-15", None),
        ("GET", "/dashboard?as_of=0001-01-01", None),
        ("GET", "/reports/aging?as_of=0001-01-01", None),
        ("GET", "/collections/worklist?as_of=9999-12-31", None),
    ],
)
def test_the_calendars_first_and_last_days_are_answered_not_crashed(fuzzed, method, path, body):
    # Given: days at the ends of the calendar, where date arithmetic runs out of days
    path = path.format(customer_id=fuzzed.known["customer_id"])
    headers = {"X-Api-Key": ADMIN_KEY, "Content-Type": "application/json"}

    # When
    raw = None if body is None else json.dumps(body).encode()
    answer = fuzzed.stack.request(method, path, body=raw, headers=headers)

    # Then: an answer, or a problem saying what is wrong with the day
    assert answer.status < 500, answer.body
    if answer.status >= 400:
        assert problem_violation(answer.status, answer.content_type, answer.body) is None


def test_the_problem_check_rejects_what_is_not_a_problem():
    # Given / When / Then: the check the fuzzing relies on says no where it must
    good = b'{"type": "about:blank", "title": "Not found", "status": 404}'
    assert problem_violation(404, PROBLEM_JSON, good) is None
    assert problem_violation(404, "application/json", good)
    assert problem_violation(404, PROBLEM_JSON, b"<html>")
    assert problem_violation(404, PROBLEM_JSON, b'{"title": "Not found", "status": 404}')
    assert problem_violation(400, PROBLEM_JSON, good)


def test_schema_covers_every_route_of_the_app():
    # Given: the app's routes, as Chalice registered them
    import app as app_module

    routes = {(method, path) for path, entry in app_module.app.routes.items() for method in entry}

    # Then: schemathesis fuzzes every one of them
    assert routes <= {(op.method.upper(), op.path) for op in OPERATIONS}
    assert Path(ROOT / "openapi.yaml").exists()
