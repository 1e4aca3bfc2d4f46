"""The benchmarks, small: they cover every Lambda of app.py, and the AWS call counts hold.

Call counts are behaviour, not timing: a redundant read or a lost batch shows up here as a
failing number. Cold import times are only checked to exist.
"""

from __future__ import annotations

import app as app_module
from bench import aws_calls, cold_import, collection_run, invoicing, latency_model, suite_time

# The lake's landing of an order's confirmation: the order and its history (its fact), then the
# event's row and the order's row, one PutRecordBatch per lake table; an order event that changes
# no fact lands the event's row alone
# OrderConfirmed at the order's first change: its fact is the event's own (no read)
LAND_ORDER_FACT = ("land_in_lake", {"firehose.PutRecordBatch": 2})
LAND_EVENT = ("land_in_lake", {"firehose.PutRecordBatch": 1})
PLACE_AND_CONFIRM = [
    (
        # key; customer + catalog in one read; order + event + the new chain head + the
        # Idempotency-Key's answer in one transaction (a new order's chain has no head to read)
        "POST /orders",
        {"dynamodb.GetItem": 1, "dynamodb.BatchGetItem": 1, "dynamodb.TransactWriteItems": 1},
    ),
    ("publish_events", {"events.PutEvents": 1}),  # the event item is the outbox entry
    LAND_EVENT,
    (
        # the order, its customer, stock levels and chain head in one read (the keys from the
        # event's order); order + credit + stock + event + head in one transaction
        "confirm_orders",
        {"dynamodb.BatchGetItem": 1, "dynamodb.TransactWriteItems": 1},
    ),
    ("deliver_webhooks", {"dynamodb.GetItem": 1}),  # OrderReceived: the partner has no webhook
    ("publish_events", {"events.PutEvents": 1}),  # the event item is the outbox entry
    LAND_ORDER_FACT,
    # OrderConfirmed says no e-mail is wanted (a partner's order): the bus does not route it to
    # the customer notifications, so notify_customers is not invoked
    ("deliver_webhooks", {"dynamodb.GetItem": 1}),  # OrderConfirmed: no webhook either
]


def test_cold_import_bench_times_every_entry_point_of_app():
    # Given the Lambdas app.py declares: one for every route, one per event source
    expected = {cold_import.API_ENTRY} | {source.name for source in app_module.app.event_sources}
    routes = {
        entry.view_name
        for by_method in app_module.app.routes.values()
        for entry in by_method.values()
    }

    # When
    report = cold_import.measure(repeat=1, warmup=False)

    # Then
    entries = {entry.name: entry for entry, _timing in report.entries}
    assert set(entries) == expected
    assert set(entries[cold_import.API_ENTRY].handlers) == routes
    assert report.floor.min > 0 and report.app_only.min > 0
    assert all(timing.min > 0 for _entry, timing in report.entries)
    assert "x floor" in cold_import.table(report)


def test_discovery_groups_routes_and_reads_lazy_imports_of_nested_code_and_middleware():
    # Given
    source = """
from chalice import Chalice
api = Chalice(app_name="x")

@api.middleware("http")
def wrap(event, get_response):
    from shared.http import problems
    return get_response(event)

@api.route("/a")
def a():
    from functions.a import run
    def inner():
        import functions.helper
    return run()

@api.route("/b", methods=["POST"])
def b():
    from functions.a import run
    from functions.b import other

@api.on_sqs_message(queue="q")
def consume(event):
    from functions.c import handle

def not_a_handler():
    import json
"""

    # When
    entries = cold_import.discover_entry_points(source)

    # Then
    assert [(e.name, e.kind, e.handlers) for e in entries] == [
        (cold_import.API_ENTRY, "route", ("a", "b")),
        ("consume", "on_sqs_message", ("consume",)),
    ]
    assert entries[0].lazy_imports == (
        "from functions.a import run",
        "import functions.helper",
        "from functions.b import other",
        "from shared.http import problems",
    )
    assert entries[1].statements == ("import app", "from functions.c import handle")

    # And each route's cold path is the app, the HTTP middleware's imports and its own
    routes = cold_import.discover_routes(source)
    assert [(r.name, r.statements) for r in routes] == [
        (
            "GET /a",
            (
                "import app",
                "from shared.http import problems",
                "from functions.a import run",
                "import functions.helper",
            ),
        ),
        (
            "POST /b",
            (
                "import app",
                "from shared.http import problems",
                "from functions.a import run",
                "from functions.b import other",
            ),
        ),
    ]


def test_a_routes_cold_path_follows_its_helpers_routes_methods_and_requirement():
    # When the routes of the Blueprints app.py registers are read
    routes = {route.name: set(route.statements) for route in cold_import.discover_routes()}

    # Then a POST reads its body and checks its Idempotency-Key (Routes methods), a decision
    # runs its module's helper, and a portal page admits a link holder by its own Requirement
    wrapper = "from shared.store.readable import UnreadableRecord"
    assert {
        "from shared.http import auth",
        "from shared import payloads",
        "from shared.http import idempotency",
        "from shared.domain.customer import CustomerRequest",
        wrapper,
    } <= routes["POST /customers"]
    # (an order's answer is saved in the order's own transaction)
    assert {
        "from shared import payloads",
        "from shared.http import idempotency_in_commit",
        "from shared.domain.order import Order, OrderRequest",
    } <= routes["POST /orders"]
    assert (
        "from shared.domain.order import DecisionRequest" in routes["POST /orders/{order_id}/close"]
    )
    portal = routes["GET /portal/{customer_id}/invoices/{invoice_id}/document"]
    assert "from functions.portal.links import admit" in portal
    assert "from shared.http import auth" not in portal
    # and a public route pays no key check, nor what only a failure imports
    assert routes["GET /health"] == {"import app", "from shared import actor", wrapper}


def test_placing_and_confirming_one_order_makes_exactly_these_aws_calls():
    # When
    report = aws_calls.measure()

    # Then every step makes exactly the calls it needs, no more
    steps = [
        (phase.name.partition(" #")[0], phase.breakdown()) for phase in report.flow if phase.total
    ]
    assert steps == PLACE_AND_CONFIRM
    assert report.flow_total().total == sum(sum(c.values()) for _, c in PLACE_AND_CONFIRM)
    assert report.read.breakdown() == {"dynamodb.GetItem": 2}  # key, order
    # a replay does the work again, its transaction meets the saved answer, which it reads
    assert report.replay.breakdown() == {
        "dynamodb.BatchGetItem": 1,
        "dynamodb.GetItem": 2,
        "dynamodb.TransactWriteItems": 1,
    }
    assert report.unattributed is None


def test_the_latency_model_prices_each_routes_calls_and_its_cpu_at_the_functions_memory():
    # Given a route of two GetItem and one call of an operation the table does not name, and
    # 10 ms of CPU on a full core
    route = latency_model.RouteFigures(
        "r", {"dynamodb.GetItem": 2, "sqs.SendMessage": 1}, cpu_ms=10.0
    )

    # Then at 1,769 MB (a full vCPU) the CPU takes as long, at half the memory twice as long,
    # and the p50 adds the calls' round trips and the gateway's share
    aws_ms = 2 * latency_model.CALL_MS["dynamodb.GetItem"] + latency_model.DEFAULT_CALL_MS
    assert route.aws_ms() == aws_ms
    assert route.lambda_cpu_ms(1769) == 10.0 and route.lambda_cpu_ms(1769 // 2) > 19.9
    assert route.p50_ms(1769) == latency_model.GATEWAY_MS + 10.0 + aws_ms


def test_the_latency_model_measures_post_orders_against_the_no_op_route():
    # When each route is called twice, warm
    model = latency_model.measure(requests=2)

    # Then the no-op route calls nothing, POST /orders makes the calls pinned above, and the
    # table compares their modelled p50
    routes = {route.route: route for route in model.routes}
    assert routes["GET /health"].calls == {}
    assert routes["POST /orders"].calls == PLACE_AND_CONFIRM[0][1]
    assert routes["POST /orders"].cpu_ms > routes["GET /health"].cpu_ms >= 0
    health, order = (
        routes[name].p50_ms(model.memory_mb) for name in ("GET /health", "POST /orders")
    )
    assert order > health >= latency_model.GATEWAY_MS
    assert "x GET /health" in latency_model.table(model)


def test_invoicing_bench_counts_the_calls_of_each_invoice():
    # When two shipments go through both invoicing workers
    figures = {worker.name: worker for worker in invoicing.measure(count=2)}

    # Then each invoice costs exactly these calls, and the workers took measurable time
    issue, deliver = figures["issue_invoices"], figures["deliver_invoices"]
    assert issue.records == deliver.records == 2
    # order, customer, shipments, source guards, counter, the invoice's chain head; then the one
    # transaction
    assert issue.calls_per_record() == {
        "dynamodb.BatchGetItem": 2,
        "dynamodb.GetItem": 3,
        "dynamodb.Query": 1,
        "dynamodb.TransactWriteItems": 1,
    }
    # invoice, the customer (its PDF format); the e-mail's portal link: the customer again and
    # its last revocation, and the link secret (once per container: half a call over two
    # invoices); PDF and UBL; claim, send, mark sent
    assert deliver.calls_per_record() == {
        "dynamodb.GetItem": 4,
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 1,
        "s3.PutObject": 2,
        "sesv2.SendEmail": 1,
        "ssm.GetParameter": 0.5,
    }
    assert issue.seconds > 0 and deliver.seconds > 0
    assert "issue_invoices" in invoicing.table(list(figures.values()))


def test_collection_run_reads_grow_with_what_is_due_not_with_the_table():
    # Given tables of 60 and 240 invoices over the bench's customers, 40 of them due
    # When the collection run starts for the day and the workers drain its fan-out
    small, large = collection_run.measure((60, 240), due=40)

    # Then the run reads the same index items with the same requests at either size
    assert small.index_items_read == large.index_items_read == 40
    assert small.run.breakdown() == large.run.breakdown()
    assert small.run.breakdown()["dynamodb.Query"] == 1
    assert "dynamodb.Scan" not in small.run.breakdown() | small.workers.breakdown()
    # and every customer with an invoice at a level got one e-mail, at either size
    assert small.customers == large.customers == 40
    assert small.emails == large.emails > 0
    assert small.workers.breakdown() == large.workers.breakdown()
    # and each customer's worker read its account with its dispute holds and credit figures
    # (one Query of its partition), its invoices with the money applied to them, their dunning
    # states and chain heads (one BatchGetItem), and neither its payments nor its ledger; each
    # reminder was recorded with its e-mail's claim (one transaction), e-mailed, and marked sent
    # with the claim (one transaction): 5 requests for a customer with one invoice at a level,
    # however many invoices it has due. The one final notice's statement read the customer's
    # documents and ledger (a Query each), its account taken from the worker's read.
    assert small.workers.breakdown() == {
        "dynamodb.BatchGetItem": 40,
        "dynamodb.Query": 42,
        "dynamodb.TransactWriteItems": 72,
        "sesv2.SendEmail": 36,
        "ssm.GetParameter": 1,
    }


def test_the_suite_time_bench_reads_pytests_closing_line_and_durations():
    # Given the tail of `pytest -q --durations=2` as pytest prints it
    output = "\n".join(
        [
            "........                                                    [100%]",
            "============================= slowest 2 durations ==============================",
            "41.07s call     tests/functional/test_books.py::test_the_books_agree",
            "12.50s setup    tests/e2e/test_local_stack.py::test_it_serves",
            "FAILED tests/unit/test_a.py::test_b - AssertionError: assert 1 == 2",
            "1 failed, 3170 passed, 8 skipped in 726.12s (0:12:06)",
        ]
    )

    # When it is read
    summary, seconds, slowest = suite_time.parse(output)

    # Then the counts, pytest's own time, the failed test and each slow phase are there
    assert (summary, seconds) == ("1 failed, 3170 passed, 8 skipped", 726.12)
    assert suite_time.failures(output) == ["tests/unit/test_a.py::test_b"]
    assert [(slow.test.split("::")[1], slow.phase, slow.seconds) for slow in slowest] == [
        ("test_the_books_agree", "call", 41.07),
        ("test_it_serves", "setup", 12.5),
    ]
