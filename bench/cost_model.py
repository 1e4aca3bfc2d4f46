"""USD per 1,000 order-to-cash cycles, from the AWS calls and handler time one cycle measures.

One cycle, in-process under moto (the stack from infra/resources.yaml, the Chalice app through
``chalice.test.Client``, the event pump playing Lambda's event source mappings): a partner POSTs an
order, the confirmation worker confirms it, the order ships, the invoicing workers issue the
invoice and deliver it (PDF and UBL to S3, one e-mail), Stripe's webhook reports the payment and
cash application applies it, leaving the invoice paid. Every API call of the app's boto3 session
is counted (``bench.aws_calls.CallLog``) and every Lambda invocation timed (``counting_module``).

How each billed quantity is derived:

- API Gateway: one REST API request per HTTP request of the cycle (Chalice deploys a REST API).
- Lambda: one invocation per HTTP request (the API function) and per handler invocation of the
  pump; duration is the measured wall time in the handler, rounded up to the ms per invocation,
  times the MemorySize of .chalice/config.json (the template's), on arm64 (infra/wiring/merge.py).
- DynamoDB on demand, estimated from item sizes (DynamoDB's rules: attribute names + values,
  numbers ~1 byte per 2 digits, 3 bytes per map/list): a write is ceil(KB) of the larger of the
  item before and after, read from moto's own table around the call; a read is ceil(size / 4 KB)
  of what it returned, halved when eventually consistent (a Query sums its items, scaled by
  ScannedCount/Count when a filter dropped some); transactions count twice, a ConditionCheck as a
  write; every write also writes each GSI the item is in (before or after): ALL projections the
  item's size, KEYS_ONLY its keys. A read of nothing still costs the minimum unit.
- DynamoDB Streams: Lambda's trigger reads are free (the pump plays them).
- SQS: per message EventBridge delivers, a SendMessage; per Lambda batch one ReceiveMessage and
  one DeleteMessageBatch (Lambda's poller; its empty long polls are a fixed cost per queue, not
  per cycle); plus the app's own SQS calls.
- EventBridge: the entries of the app's PutEvents calls (custom events). S3's own notifications
  to the default bus are free.
- S3: PUT/COPY/POST/LIST and GET requests of the app. SES: messages, and the raw MIME size as
  "attachment" bytes for raw messages (an upper bound: it includes the body). KMS: the app's own
  calls (the bucket uses an S3 Bucket Key and DynamoDB caches its table key, so neither calls KMS
  per request).
- Firehose (the lake's landing): the records of the app's PutRecordBatch calls, each rounded up
  to 5 KB, billed as ingested and again as converted to Parquet (the packaged streams convert).

Not in the model: CloudWatch Logs and metrics, X-Ray traces, storage (DynamoDB, S3, backups),
data transfer, the free tiers, and fixed monthly costs (the KMS key, idle queue polling).

Handler time under moto overstates Lambda time for the AWS calls' server side (moto runs it in
the same process, on the clock) and understates it for the network round trips it skips; CPU here
is a full core where 512 MB gets about a third of one. The cold-start share (init of a fresh
environment, billed) is left out: it is per environment, not per cycle.
"""

from __future__ import annotations

import base64
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import boto3

from bench.aws_calls import CallLog, Operation, Phase, counting_module, offline_aws, quiet_moto
from bench.cold_import import REPO_ROOT
from infra.local import offline, stack
from infra.local.offline import deploy_and_seed, reset_process_state
from infra.local.pump import EventPump
from infra.wiring.merge import ARCHITECTURE
from shared.adapters import aws

AS_OF = "2025-01-31"
LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
API_GATEWAY_PRICING = "https://aws.amazon.com/api-gateway/pricing/"
DYNAMODB_PRICING = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
SQS_PRICING = "https://aws.amazon.com/sqs/pricing/"
EVENTBRIDGE_PRICING = "https://aws.amazon.com/eventbridge/pricing/"
S3_PRICING = "https://aws.amazon.com/s3/pricing/"
SES_PRICING = "https://aws.amazon.com/ses/pricing/"
KMS_PRICING = "https://aws.amazon.com/kms/pricing/"
FIREHOSE_PRICING = "https://aws.amazon.com/firehose/pricing/"
FIREHOSE_INCREMENT = 5 * 1024  # Direct PUT bills each record in 5 KB steps


@dataclass(frozen=True)
class Price:
    """``usd`` for every ``per`` ``unit``s (us-east-1, on demand, first tier, no free tier)."""

    usd: Decimal
    per: int
    unit: str
    source: str
    as_of: str = AS_OF

    def of(self, quantity: Decimal | int) -> Decimal:
        return self.usd * Decimal(quantity) / self.per


# The one price table. Each row: the published us-east-1 on-demand price, its page, and its date.
PRICES: dict[str, Price] = {
    "lambda.requests": Price(Decimal("0.20"), 1_000_000, "requests", LAMBDA_PRICING),
    "lambda.gb_second.arm64": Price(Decimal("0.0000133334"), 1, "GB-second", LAMBDA_PRICING),
    "lambda.gb_second.x86_64": Price(Decimal("0.0000166667"), 1, "GB-second", LAMBDA_PRICING),
    "apigateway.rest.requests": Price(Decimal("3.50"), 1_000_000, "requests", API_GATEWAY_PRICING),
    "dynamodb.write_request_units": Price(Decimal("0.625"), 1_000_000, "WRU", DYNAMODB_PRICING),
    "dynamodb.read_request_units": Price(Decimal("0.125"), 1_000_000, "RRU", DYNAMODB_PRICING),
    "dynamodb.streams.read_request_units": Price(
        Decimal("0.02"), 100_000, "stream RRU (Lambda trigger reads free)", DYNAMODB_PRICING
    ),
    "sqs.requests": Price(Decimal("0.40"), 1_000_000, "standard requests (64 KB)", SQS_PRICING),
    "eventbridge.events": Price(Decimal("1.00"), 1_000_000, "custom events", EVENTBRIDGE_PRICING),
    "s3.put_requests": Price(Decimal("0.005"), 1_000, "PUT/COPY/POST/LIST", S3_PRICING),
    "s3.get_requests": Price(Decimal("0.0004"), 1_000, "GET and others", S3_PRICING),
    "ses.messages": Price(Decimal("0.10"), 1_000, "messages", SES_PRICING),
    "ses.attachment_gb": Price(Decimal("0.12"), 1, "GB of attachments", SES_PRICING),
    "kms.requests": Price(Decimal("0.03"), 10_000, "requests", KMS_PRICING),
    "firehose.ingested_gb": Price(
        Decimal("0.029"), 1, "GB ingested (Direct PUT, 5 KB steps per record)", FIREHOSE_PRICING
    ),
    "firehose.converted_gb": Price(
        Decimal("0.018"), 1, "GB converted to Parquet (5 KB steps per record)", FIREHOSE_PRICING
    ),
}
GB = 1024**3


@dataclass(frozen=True)
class Usage:
    """What one cycle (or any workload) bills, in the units of ``PRICES``."""

    api_requests: int = 0
    lambda_billed_ms: tuple[int, ...] = ()  # one entry per invocation
    dynamodb_rru: Decimal = Decimal(0)
    dynamodb_wru: Decimal = Decimal(0)
    stream_rru: Decimal = Decimal(0)
    sqs_requests: int = 0
    eventbridge_events: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    ses_messages: int = 0
    ses_attachment_bytes: int = 0
    kms_requests: int = 0
    firehose_billed_bytes: int = 0  # each record rounded up to 5 KB

    @property
    def lambda_invocations(self) -> int:
        return len(self.lambda_billed_ms)


def lambda_gb_seconds(billed_ms: tuple[int, ...], memory_mb: int) -> Decimal:
    return Decimal(sum(billed_ms)) / 1000 * Decimal(memory_mb) / 1024


def cost(
    usage: Usage,
    *,
    memory_mb: int,
    architecture: str = ARCHITECTURE,
    prices: Mapping[str, Price] = PRICES,
) -> dict[str, Decimal]:
    """USD per service for ``usage`` (exact decimals; round only to print)."""
    gb_seconds = lambda_gb_seconds(usage.lambda_billed_ms, memory_mb)
    return {
        "API Gateway": prices["apigateway.rest.requests"].of(usage.api_requests),
        "Lambda requests": prices["lambda.requests"].of(usage.lambda_invocations),
        "Lambda duration": prices[f"lambda.gb_second.{architecture}"].of(gb_seconds),
        "DynamoDB writes": prices["dynamodb.write_request_units"].of(usage.dynamodb_wru),
        "DynamoDB reads": prices["dynamodb.read_request_units"].of(usage.dynamodb_rru),
        "DynamoDB Streams": prices["dynamodb.streams.read_request_units"].of(usage.stream_rru),
        "SQS": prices["sqs.requests"].of(usage.sqs_requests),
        "EventBridge": prices["eventbridge.events"].of(usage.eventbridge_events),
        "S3": prices["s3.put_requests"].of(usage.s3_puts)
        + prices["s3.get_requests"].of(usage.s3_gets),
        "SES": prices["ses.messages"].of(usage.ses_messages)
        + prices["ses.attachment_gb"].of(Decimal(usage.ses_attachment_bytes) / GB),
        "KMS": prices["kms.requests"].of(usage.kms_requests),
        "Firehose": prices["firehose.ingested_gb"].of(Decimal(usage.firehose_billed_bytes) / GB)
        + prices["firehose.converted_gb"].of(Decimal(usage.firehose_billed_bytes) / GB),
    }


def per_thousand(costs: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {service: usd * 1000 for service, usd in costs.items()}


def memory_size_mb(config: Path = REPO_ROOT / ".chalice" / "config.json") -> int:
    """Every function's MemorySize: Chalice's lambda_memory_size, which the template carries."""
    return int(json.loads(config.read_text())["lambda_memory_size"])


# --- DynamoDB capacity, estimated from item sizes ------------------------------------------------


def attribute_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in the wire format ({"S": ...}), by DynamoDB's rules."""
    [(kind, data)] = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":  # the bytes themselves (moto's wire form holds them as base64)
        return len(base64.b64decode(data)) if isinstance(data, str) else len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in data)
    if kind == "BS":
        return sum(attribute_size({"B": b}) for b in data)
    if kind == "M":
        return 3 + item_size(data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in data)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool = False, transactional: bool = False) -> Decimal:
    units = Decimal(max(1, math.ceil(size / 4096)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def firehose_billed(size: int) -> int:
    """What Firehose bills for one record of ``size`` bytes: whole 5 KB steps."""
    return max(1, math.ceil(size / FIREHOSE_INCREMENT)) * FIREHOSE_INCREMENT


def write_units(size: int, *, transactional: bool = False) -> Decimal:
    units = Decimal(max(1, math.ceil(size / 1024)))
    return units * 2 if transactional else units


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # the index's key attributes
    keys_only: bool


@dataclass
class Capacity:
    """DynamoDB request units of the app's calls, and the other billed quantities of its calls."""

    rru: Decimal = Decimal(0)
    wru: Decimal = Decimal(0)
    eventbridge_entries: int = 0
    ses_raw_bytes: int = 0
    firehose_billed_bytes: int = 0
    by_operation: dict[str, Decimal] = field(default_factory=dict)  # "GetItem RRU": 1.5, ...

    def add(self, operation: str, *, rru: Decimal = Decimal(0), wru: Decimal = Decimal(0)) -> None:
        self.rru += rru
        self.wru += wru
        for unit, units in (("RRU", rru), ("WRU", wru)):
            if units:
                name = f"{operation} {unit}"
                self.by_operation[name] = self.by_operation.get(name, Decimal(0)) + units


class CapacityLog:
    """botocore hooks on the app's session: parameters before a call, the answer after it.

    ``stored`` reads an item as the table holds it (moto's backend, in-process), so a write's
    size is the larger of before and after, as DynamoDB bills it.
    """

    def __init__(
        self,
        stored: Callable[[str, Mapping[str, Any]], dict[str, Any] | None],
        indexes: Mapping[str, tuple[Index, ...]],
    ) -> None:
        self.capacity = Capacity()
        self.counting = True  # off while the flow is checked: those reads are no part of it
        self._stored = stored
        self._indexes = indexes

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.counting = False
        try:
            yield
        finally:
            self.counting = True

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.counting:
            return
        service = model.service_model.service_name
        params = context.get("cost_params", {})
        if service == "dynamodb":
            context["cost_writes"] = [
                (table, key, self._stored(table, key)) for table, key, _ in _writes(params)
            ]

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not self.counting:
            return
        service, operation = model.service_model.service_name, model.name
        params = context.get("cost_params", {})
        if service == "events" and operation == "PutEvents":
            self.capacity.eventbridge_entries += len(params.get("Entries", []))
        elif service == "sesv2" and operation == "SendEmail":
            raw = params.get("Content", {}).get("Raw", {}).get("Data", b"")
            self.capacity.ses_raw_bytes += len(raw)
        elif service == "firehose" and operation == "PutRecordBatch":
            self.capacity.firehose_billed_bytes += sum(
                firehose_billed(len(record["Data"])) for record in params.get("Records", [])
            )
        elif service == "dynamodb" and "Error" not in parsed:
            self._reads(operation, params, parsed)
            transactional = operation == "TransactWriteItems"
            planned = [kind for _table, _key, kind in _writes(params)]
            for (table, key, before), kind in zip(
                context.get("cost_writes", []), planned, strict=True
            ):
                after = None if kind == "delete" else self._stored(table, key)
                self._write(operation, table, before, after, transactional, kind == "check")

    def _write(
        self,
        operation: str,
        table: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        transactional: bool,
        check_only: bool,
    ) -> None:
        sizes = [item_size(item) for item in (before, after) if item is not None]
        self.capacity.add(
            operation, wru=write_units(max(sizes, default=0), transactional=transactional)
        )
        if check_only:
            return
        for index in self._indexes.get(table, ()):
            images = [item for item in (before, after) if item and index.keys[0] in item]
            if not images:
                continue
            projected = [_projection(item, index) for item in images]
            moved = len(images) == 2 and any(
                images[0].get(k) != images[1].get(k) for k in index.keys
            )
            units = write_units(max(item_size(item) for item in projected))
            self.capacity.add(f"{operation} ({index.name})", wru=units * (2 if moved else 1))

    def _reads(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            size = item_size(parsed.get("Item", {}))
            self.capacity.add(operation, rru=read_units(size, consistent=consistent))
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items", [])
            size = sum(item_size(item) for item in items)
            count, scanned = parsed.get("Count", 0), parsed.get("ScannedCount", 0)
            if count and scanned > count:
                size = size * scanned // count
            self.capacity.add(operation, rru=read_units(size, consistent=consistent))
        elif operation == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                for item in items:
                    self.capacity.add(operation, rru=read_units(item_size(item)))
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                size = item_size(response.get("Item", {}))
                self.capacity.add(operation, rru=read_units(size, transactional=True))


def _writes(params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(table, key or item, kind: put/update/delete/check) of every item a write names."""
    operation = params.get("_operation")
    if operation == "TransactWriteItems":
        kinds = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}
        found = []
        for entry in params["TransactItems"]:
            [(kind, request)] = entry.items()
            found.append((request["TableName"], request.get("Item") or request["Key"], kinds[kind]))
        return found
    if operation == "BatchWriteItem":
        return [
            (table, request["PutRequest"]["Item"], "put")
            if "PutRequest" in request
            else (table, request["DeleteRequest"]["Key"], "delete")
            for table, requests in params["RequestItems"].items()
            for request in requests
        ]
    if operation == "PutItem":
        return [(params["TableName"], params["Item"], "put")]
    if operation in ("UpdateItem", "DeleteItem"):
        kind = "update" if operation == "UpdateItem" else "delete"
        return [(params["TableName"], params["Key"], kind)]
    return []


def _projection(item: Mapping[str, Any], index: Index) -> dict[str, Any]:
    if not index.keys_only:
        return dict(item)
    return {k: v for k, v in item.items() if k in index.keys or k in ("pk", "sk")}


def register_parameters(session: boto3.session.Session) -> None:
    """Keep each call's parameters in its request context for the hooks above."""

    def keep(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["cost_params"] = {**params, "_operation": model.name}

    session.events.register("before-parameter-build", keep)


def moto_stored(table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The item with ``key`` as moto's in-process table holds it now, in the wire format."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][stack.REGION].get_table(table_name)
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(hash_key, range_key)
    if item is None:
        return None
    stored: dict[str, Any] = item.to_json()["Attributes"]
    return stored


def table_indexes(session: boto3.session.Session, names: list[str]) -> dict[str, tuple[Index, ...]]:
    dynamodb = session.client("dynamodb")
    found: dict[str, tuple[Index, ...]] = {}
    for name in names:
        described = dynamodb.describe_table(TableName=name)["Table"]
        found[name] = tuple(
            Index(
                index["IndexName"],
                tuple(key["AttributeName"] for key in index["KeySchema"]),
                index["Projection"]["ProjectionType"] == "KEYS_ONLY",
            )
            for index in described.get("GlobalSecondaryIndexes", [])
        )
    return found


# --- one measured cycle ---------------------------------------------------------------------------

HTTP_PREFIXES = ("POST ", "GET ", "PUT ", "PATCH ", "DELETE ")


@dataclass(frozen=True)
class Report:
    usage: Usage  # one cycle
    calls: dict[str, int]  # "dynamodb.GetItem": n, the app's calls over the cycle
    functions: dict[str, tuple[int, float]]  # name -> (invocations, handler seconds)
    capacity: dict[str, Decimal]  # "TransactWriteItems WRU": n, ...
    memory_mb: int
    architecture: str
    costs: dict[str, Decimal]  # USD per cycle, by service

    @property
    def services(self) -> set[str]:
        return {name.split(".")[0] for name in self.calls}

    def per_thousand(self) -> dict[str, Decimal]:
        return per_thousand(self.costs)


def measure() -> Report:
    """Deploy and seed under moto, run one cycle with every call counted, and price it."""
    with offline_aws():
        from chalice.test import Client  # after the environment is set: the logger reads it

        import app as app_module

        infra = boto3.session.Session(region_name=stack.REGION)  # the pump's, never counted
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        outputs = deployment.outputs
        reset_process_state()  # counting starts with no client, as in a fresh Lambda
        session = aws.session()
        register_parameters(session)
        log = CallLog()
        log.attach(session)
        tables = [outputs["TableName"], outputs["IdempotencyTableName"]]
        capacity = CapacityLog(moto_stored, table_indexes(infra, tables))
        capacity.attach(session)
        pump = EventPump(
            counting_module(app_module, log), infra, deployment.queues, outputs["TableStreamArn"]
        )
        with Client(app_module.app, stage_name="dev", project_dir=str(REPO_ROOT)) as client:
            _cycle(client, pump, log, capacity)
    return _report(log.phases, capacity.capacity, memory_size_mb())


@contextmanager
def _timed(log: CallLog, name: str) -> Iterator[Phase]:
    with log.phase(name) as phase:
        started = time.perf_counter()
        try:
            yield phase
        finally:
            phase.seconds = time.perf_counter() - started


def _cycle(client: Any, pump: EventPump, log: CallLog, capacity: CapacityLog) -> None:
    from tests.functional.conftest import order_body, post_order
    from tests.functional.payment_intake import payment_intent, post_stripe, stripe_event

    partner = {"X-Api-Key": offline.PARTNER_KEY}
    with _timed(log, "POST /orders"):
        placed = post_order(client, order_body())
    _expect(placed.status_code == 201, f"POST /orders answered {placed.status_code}")
    order_id = json.loads(placed.body)["id"]
    pump.drain()
    with capacity.paused():
        order = _get(client, f"/orders/{order_id}", partner)
    _expect(order["status"] == "confirmed", f"order not confirmed: {order['status']}")
    lines = [{"line_no": line["line_no"], "quantity": line["quantity"]} for line in order["lines"]]
    with _timed(log, "POST /orders/{id}/shipments"):
        shipped = client.http.post(
            f"/orders/{order_id}/shipments",
            headers={
                **partner,
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            body=json.dumps({"carrier": "DHL", "tracking_number": "JD0001", "lines": lines}),
        )
    _expect(shipped.status_code == 201, f"shipping answered {shipped.status_code}")
    pump.drain()
    admin = {"X-Api-Key": offline.ADMIN_KEY}
    with capacity.paused():
        found = _get(client, "/invoices?customer_id=cus_acme&limit=100", admin)["invoices"]
    [invoice] = [invoice for invoice in found if invoice["order_id"] == order_id]
    cents = int((Decimal(invoice["total"]["amount"]) * 100).to_integral_value(ROUND_HALF_UP))
    metadata = {"invoice_number": invoice["number"], "customer_id": "cus_acme"}
    body = stripe_event(
        "payment_intent.succeeded",
        payment_intent(intent_id=f"pi_{uuid.uuid4().hex[:14]}", amount=cents, metadata=metadata),
    )
    with _timed(log, "POST /webhooks/stripe"):
        answer = post_stripe(client, body)
    _expect(answer.status_code < 300, f"the Stripe webhook answered {answer.status_code}")
    pump.drain()
    with capacity.paused():
        paid = _get(client, f"/invoices/{invoice['id']}", admin)
    _expect(paid["status"] == "paid", f"the invoice is {paid['status']} after the payment")


def _get(client: Any, path: str, headers: dict[str, str]) -> Any:
    answer = client.http.get(path, headers=headers)
    _expect(answer.status_code == 200, f"GET {path} answered {answer.status_code}")
    return json.loads(answer.body)


def _report(phases: list[Phase], capacity: Capacity, memory_mb: int) -> Report:
    calls: Counter[Operation] = Counter()
    functions: dict[str, tuple[int, float]] = {}
    billed: list[int] = []
    http_requests = sqs_batches = sqs_messages = 0
    for phase in phases:
        if phase.name.startswith("(outside"):
            continue  # the reads that check the flow, no part of the cycle
        calls.update(phase.calls)
        billed.append(max(1, math.ceil(phase.seconds * 1000)))
        if phase.name.startswith(HTTP_PREFIXES):
            http_requests += 1
            name = "api (HTTP routes)"
        else:
            name = phase.name.split(" #")[0]
            if phase.detail.startswith("SQS"):
                sqs_batches += 1
                sqs_messages += phase.records
        count, seconds = functions.get(name, (0, 0.0))
        functions[name] = (count + 1, seconds + phase.seconds)

    def n(service: str, *operations: str) -> int:
        return sum(calls[(service, operation)] for operation in operations)

    usage = Usage(
        api_requests=http_requests,
        lambda_billed_ms=tuple(billed),
        dynamodb_rru=capacity.rru,
        dynamodb_wru=capacity.wru,
        sqs_requests=sqs_messages
        + 2 * sqs_batches
        + sum(count for (service, _), count in calls.items() if service == "sqs"),
        eventbridge_events=capacity.eventbridge_entries,
        s3_puts=n("s3", "PutObject", "CopyObject", "ListObjectsV2", "CreateMultipartUpload"),
        s3_gets=n("s3", "GetObject", "HeadObject"),
        ses_messages=n("sesv2", "SendEmail") + n("ses", "SendEmail", "SendRawEmail"),
        ses_attachment_bytes=capacity.ses_raw_bytes,
        kms_requests=sum(count for (service, _), count in calls.items() if service == "kms"),
        firehose_billed_bytes=capacity.firehose_billed_bytes,
    )
    return Report(
        usage=usage,
        calls={f"{s}.{o}": count for (s, o), count in sorted(calls.items())},
        functions=functions,
        capacity=dict(sorted(capacity.by_operation.items())),
        memory_mb=memory_mb,
        architecture=ARCHITECTURE,
        costs=cost(usage, memory_mb=memory_mb),
    )


def _expect(condition: bool, message: str) -> None:
    """A cost of a broken flow is no figure: stop rather than report it."""
    if not condition:
        raise RuntimeError(message)


# --- output ---------------------------------------------------------------------------------------


def table(report: Report) -> str:
    """Markdown: what one cycle uses, then USD per 1,000 cycles by service, then the prices."""
    usage = report.usage
    seconds = sum(s for _, s in report.functions.values())
    lines = [
        f"One cycle: order -> confirm -> ship -> invoice -> deliver (PDF + e-mail) -> Stripe "
        f"webhook -> cash applied. Lambda at {report.memory_mb} MB, {report.architecture}.",
        "",
        "| Function | Invocations | Handler time (ms, moto) |",
        "|---|---:|---:|",
    ]
    for name, (count, spent) in sorted(report.functions.items()):
        lines.append(f"| {name} | {count} | {1000 * spent:.0f} |")
    lines += [
        f"| **all** | **{usage.lambda_invocations}** | **{1000 * seconds:.0f}** "
        f"(billed {sum(usage.lambda_billed_ms)} ms) |",
        "",
        f"- AWS calls ({sum(report.calls.values())}): "
        + ", ".join(f"{op} {count}" for op, count in report.calls.items()),
        f"- DynamoDB (estimated from item sizes): {usage.dynamodb_rru:g} RRU, "
        f"{usage.dynamodb_wru:g} WRU: "
        + ", ".join(f"{op} {units:g}" for op, units in report.capacity.items()),
        f"- API Gateway requests {usage.api_requests}, SQS requests {usage.sqs_requests}, "
        f"EventBridge events {usage.eventbridge_events}, S3 PUT {usage.s3_puts} / GET "
        f"{usage.s3_gets}, SES messages {usage.ses_messages} ({usage.ses_attachment_bytes} bytes "
        f"raw), KMS requests {usage.kms_requests}, Firehose "
        f"{usage.firehose_billed_bytes // 1024:,} KB billed",
        "",
        "| Service | USD per 1,000 cycles | Share |",
        "|---|---:|---:|",
    ]
    thousand = report.per_thousand()
    total = sum(thousand.values(), Decimal(0))
    for service, usd in sorted(thousand.items(), key=lambda row: -row[1]):
        share = usd / total * 100 if total else Decimal(0)
        lines.append(f"| {service} | {usd:.4f} | {share:.0f} % |")
    lines += [
        f"| **Total** | **{total:.4f}** | |",
        "",
        "Handler time under moto includes moto's own work in-process and skips network round "
        "trips; the cold-start init (billed per new environment) is not in it.",
        "",
        "| Price | USD | Per | Source (as of) |",
        "|---|---:|---|---|",
    ]
    for name, price in PRICES.items():
        per = f"{price.per:,} {price.unit}"
        lines.append(f"| {name} | {price.usd} | {per} | {price.source} ({price.as_of}) |")
    return "\n".join(lines)


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
