"""``make bench``: run every benchmark, print the figures and write them to bench/RESULTS.md.

Figures without the machine, the versions and the command behind them cannot be compared, so
RESULTS.md carries all three.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import (
    aws_calls,
    books,
    cash_matching,
    cold_import,
    collection_run,
    cost_model,
    faults,
    fuzz,
    invoicing,
    lake,
    latency_model,
    load,
    local_stack_memory,
    pdf_fonts,
    simulation,
    suite_time,
    ubl_validation,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PACKAGES = ("boto3", "botocore", "chalice", "aws-lambda-powertools", "pydantic", "moto")
COMMAND = "`make bench` (runs `.venv/bin/python -m bench.run`)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--repeat",
        type=int,
        default=cold_import.DEFAULT_REPEAT,
        help="fresh interpreters per entry point (default %(default)s)",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the -X importtime breakdown"
    )
    parser.add_argument(
        "--invoices",
        type=int,
        default=invoicing.DEFAULT_COUNT,
        help="shipments invoiced by the invoicing benchmark (default %(default)s)",
    )
    parser.add_argument(
        "--collection-sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=collection_run.SIZES,
        help="table sizes (invoices) of the collection-run benchmark, comma-separated "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--memory-minutes",
        type=float,
        default=local_stack_memory.DEFAULT_MINUTES,
        help="how long the local stack's memory is watched (default %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write (default bench/RESULTS.md)"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=None,
        help="run only these benchmarks (module names, comma-separated, e.g. simulation,faults) "
        "and replace their sections in the existing output, keeping the others",
    )
    return parser.parse_args(argv)


def machine(load_before: float) -> list[str]:
    """What the figures depend on: CPU and its load, OS, interpreter, library versions, when."""
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- Machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} cores, "
        f"1-minute load average {load_before:.2f} before the run (other work makes medians noisy)",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Libraries: {versions}",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class Section:
    """One benchmark in RESULTS.md: what it measures, how to run it alone, and its figures."""

    title: str
    alone: str  # the command that runs this benchmark by itself
    about: tuple[str, ...]  # how to read the figures, one paragraph each
    produce: Callable[[argparse.Namespace], str]  # runs it, returns its markdown


def _cold_imports(options: argparse.Namespace) -> str:
    report = cold_import.measure(options.repeat)
    figures = cold_import.table(report)
    floor, routes = cold_import.measure_routes()
    figures += "\n\nPer route (median of 3):\n\n" + cold_import.routes_table(floor, routes)
    profile = None if options.no_profile else cold_import.profile_table(report)
    if profile:
        figures += (
            "\n\nWhere the time goes (`-X importtime` inflates times; read it for proportions):"
            f"\n\n{profile}"
        )
    return figures


def _collection_runs(options: argparse.Namespace) -> str:
    runs = collection_run.measure(options.collection_sizes)
    return collection_run.table(runs) + (
        f"\n\nWorker calls at {runs[-1].table_invoices:,} invoices: "
        f"{collection_run.worker_breakdown(runs)}"
    )


SECTIONS = (
    Section(
        "Cold import per Lambda entry point",
        "python -m bench.cold_import",
        (
            "Each figure is the median and the minimum of `--repeat` fresh interpreters (after "
            "one discarded warm-up round), timing `import app` plus the imports the entry "
            "point's handler bodies make, read from app.py and the route and trigger modules it "
            "wires, with those of the code a handler reaches (its module's helpers, the Routes "
            "methods it calls, its route's admission and view wrapper; not `except` clauses). "
            "The environment is a Lambda's "
            "(region, function name, the app's variables, `POWERTOOLS_TRACE_DISABLED=1`, no AWS "
            "config files). The floor is what any Python Lambda that talks to AWS pays: `import "
            "boto3` and one client. *Lazy part* is the entry point's median minus the median of "
            "`import app` alone.",
            "Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB, so "
            "about 0.3 at the app's 512 MB): its milliseconds are larger than these, and the "
            "ratio to the floor is the figure that travels. Bytecode caches were warm here; a "
            "package shipped without `.pyc` files compiles every module it imports on each cold "
            "start. With tracing on (as deployed), the Tracer also patches the AWS SDK at "
            "import, so these are a floor.",
        ),
        _cold_imports,
    ),
    Section(
        "AWS API calls to place and confirm one order",
        "python -m bench.aws_calls",
        (
            "In-process under moto: the stack from infra/resources.yaml, the Chalice app "
            "through `chalice.test.Client`, and the event pump playing Lambda's event source "
            "mappings. One count per API call (botocore `before-call` on the app's session, "
            "retries not counted); the pump's own reads of the stream and the queues are not "
            "the app's and are not counted. Each pump row is one Lambda invocation: the "
            "publisher (stream -> bus), the consumer (confirm), then the publisher again for "
            "the confirmation's own event. A publisher row with 0 calls is a stream batch "
            "holding no new event item, which the packaged event source filter keeps from the "
            "function on AWS. The GET and the replayed POST (same Idempotency-Key and body) are "
            "for reference, not in the total. Before the Idempotency-Key's answer moved into "
            "the order's transaction and the workers read ahead in one call: POST /orders 7 "
            "(BatchGetItem 2, GetItem 2, PutItem 1, TransactWriteItems 1, UpdateItem 1), "
            "confirm_orders 5, place + confirm 27 (19 without the lake landing), replay 2; "
            "before the lake landed an order's fact only on its confirmation or shipment: "
            "place + confirm 21 (land_in_lake 4 for each order event); before the confirmation "
            "worker took the order's keys from its event: 18 (confirm_orders 3, the order read "
            "on its own first); before the event item became the outbox entry (2026-12-08): 17 "
            "(each publish_events also deleted its outbox markers, BatchWriteItem), the lake read "
            "the confirmed order and its history (GetItem, Query) and notify_customers read the "
            "customer to learn that no e-mail was wanted (GetItem).",
        ),
        lambda options: aws_calls.table(aws_calls.measure()),
    ),
    Section(
        "Modelled end-to-end p50: POST /orders against a no-op route",
        "python -m bench.latency_model",
        (
            "`bench/latency_model.py` calls each route in process under moto, counts its AWS "
            "calls and measures its CPU outside moto (moto's server side is timed and left out), "
            "then models a warm Lambda's p50 as that CPU scaled to the function's memory, plus "
            "an assumed in-region round trip per call, plus API Gateway's share. The local "
            "stack's own latency (the load section) measures moto: POST /orders at 43.6x GET "
            "/health there before; this is what the app would add on AWS. Its docstring names "
            "the sources and the assumptions.",
        ),
        lambda options: latency_model.table(latency_model.measure()),
    ),
    Section(
        "Cost: USD per 1,000 order-to-cash cycles",
        "python -m bench.cost_model",
        (
            "`bench/cost_model.py` measures one whole cycle in-process under moto and prices "
            "what it used at the published prices in its one table (below, each with its page "
            "and date). Its docstring says how each billed quantity is derived (DynamoDB units "
            "are estimated from item sizes by DynamoDB's rules) and what the model leaves out.",
            "Before, the same cycle: 211 WRU and 3 e-mails, $0.49 per 1,000 cycles (2026-11-30); "
            "then 224 WRU with the lake's landing, 1 e-mail by the customers' order notices, "
            "$0.32 without Firehose priced (2026-12-07, `make bench`). Since, event details and "
            "invoice and payment documents are stored compressed (docs/architecture.md): events "
            "46 -> 22 WRU, invoices 38 -> 20, payments 18 -> 14 (178 WRU). Then the event item "
            "became the outbox entry (no pending marker put, then deleted: 178 -> 154) and the "
            "audit chain heads left gsi2 (154 -> 146; verifying every chain finds them with a "
            "Scan). What is left, by kind of item (2026-12-08): events 22, audit chain heads 16, "
            "invoices 20 (12 of them in its three indexes), orders 14 (8), payments 14 (8), "
            "ledger entries and their guards 15, consumed markers 8, stock 8, credit 8, the "
            "rest 21.",
        ),
        lambda options: cost_model.table(cost_model.measure()),
    ),
    Section(
        "Load: orders per second over HTTP, and the overhead against a no-op route",
        "python -m bench.load",
        (
            "`bench/load.py` starts the local stack as `make run` does (moto's server, the API, "
            "the event pump, on 127.0.0.1) and runs locust headless against it from a process "
            "of its own. Everything shares this machine's cores, so the rates are a floor for "
            "one process serving the app, not a Lambda fleet's; the ratio to GET /health (no "
            "AWS call) is the app's own overhead next to the framework's.",
        ),
        lambda options: load.table(load.measure()),
    ),
    Section(
        "Invoicing: invoices per second and AWS calls per invoice",
        "python -m bench.invoicing",
        (
            "In-process under moto, one process on one core. Orders are placed, confirmed and "
            "shipped over the API; the pump then runs `issue_invoices` on each `OrderShipped` "
            "(number, invoice, ledger entry, credit exposure: one transaction) and "
            "`deliver_invoices` on each `InvoiceIssued` (PDF and UBL rendered and stored in S3, "
            "one e-mail with the PDF). Time is the wall time inside each worker's handler, "
            "summed over its invocations; moto answers in microseconds where DynamoDB takes "
            "milliseconds, so on AWS the issuance rate per worker is bound by latency, and the "
            "calls per invoice are the figure that travels.",
        ),
        lambda options: invoicing.table(invoicing.measure(options.invoices)),
    ),
    Section(
        "Cash application: auto-match rate and wrong matches",
        "python -m bench.cash_matching",
        (
            "`shared.domain.matching.decide` over a seeded corpus "
            "(`bench/remittance_corpus.py`): customers with legal forms and IBANs, open "
            "invoices (some of equal amounts), and payments carrying realistic remittance noise "
            "(typos, OCR confusions, missing dashes, several invoices per payment, partial and "
            "over-payments, early-payment discounts, gateway metadata only, payer name only) "
            "plus payments that cannot be matched. The truth is known for each; a wrong match "
            "is an automatic application that differs from it. *Matchable* payments carry "
            "enough information for a person to apply them.",
        ),
        lambda options: cash_matching.table(cash_matching.measure()),
    ),
    Section(
        "Collection runs: reads grow with what is due, not with the table",
        "python -m bench.collection_run",
        (
            f"`bench/collection_run.py`: for each table size a fresh stack in moto (in process) "
            f"holds that many invoices over {collection_run.CUSTOMERS} customers, of which "
            f"{collection_run.DUE:,} are open and due on the run's day; the others are paid (out "
            f"of the sparse `open_by_due` index) or open and due after the run's horizon. *Run* "
            f"is `start_run` (Query pages of the index, one SQS message per customer); *workers* "
            f"are the `remind_customers` invocations that drain the fan-out queue (plan; record "
            f"levels, fees and interest in one transaction; one e-mail per customer). DynamoDB "
            f"bills a Query by the items it reads: the request and item counts are the figures "
            f"that travel. moto finds an index's items by walking the whole table, so its times "
            f"grow with the table where DynamoDB's do not. moto also ends a Query page at 1 MB "
            f"of whole items, counting items outside the key range and attributes the index does "
            f"not project: its 4 index pages per run are 1 on DynamoDB (1,000 keys of about 150 "
            f"bytes), and the workers' extra Query pages at 100,000 invoices (each customer's "
            f"partition then holds 1,000 invoices besides the payments the worker reads) are "
            f"moto's too.",
            "Before (2026-12-07, 1,000 invoices of which 500 due, 5 per customer): 12.5 requests "
            "per customer, of which a Query per invoice due for its dispute holds (5); the holds "
            "now live in the customer's partition and come with the account's one Query. A "
            "customer with more invoices at a level than one transaction holds is recorded in "
            "several (docs/collections.md), so every size completes. Then (2026-12-07, 10 due "
            "each): 8.3 requests per customer (Query 3.64: the account, the payments, the whole "
            "ledger for the credit held; TransactWriteItems 2.33; GetItem 0.32). Since, the "
            "invoice keeps its allocations' cash (interest needs no payments Query), the credit "
            "held is read from the credit figures in the account's partition, and a fee's or "
            "interest's charge record is its own once-only guard (about ten invoices at a level "
            "fit one transaction).",
        ),
        _collection_runs,
    ),
    Section(
        "A month of business",
        "python -m bench.simulation",
        (
            "`bench/simulation.py` plays a seeded month of orders, partial shipments, invoices, "
            "payments by webhook, bank file and cheque (late, partial, over, disputed) and a "
            "collection run every day, through the API and the event pump, then checks the "
            "invariants: the ledger balances, every invoice's amount due is invoiced - credited "
            "- applied, no e-mail or fee twice, no message left outside a DLQ without an alarm.",
        ),
        lambda options: simulation.table(simulation.measure()),
    ),
    Section(
        "One set of books: random sequences, every view reconciled after every step",
        "python -m bench.books",
        (
            "`bench/books.py` runs the hypothesis state machine of "
            "`tests/functional/books_machine.py` with fresh random sequences, more and longer "
            "than `make test` does: each example opens a customer and plays orders shipped "
            "whole or in parts, credit notes, payments by cheque, wire and card (part, whole, "
            "over), partial card refunds, disputes won and lost, and days passing with the "
            "day's collection run. After every step the identities of "
            "`shared/domain/reconciliation.py` are checked over the API: statement, aging "
            "report, credit figures and every invoice's amount due.",
        ),
        lambda options: books.table(books.measure()),
    ),
    Section(
        "Fault injection: faults injected and survived",
        "python -m bench.faults",
        (
            "`bench/faults.py` runs the same business once without faults, then once per fault "
            "kind with a fault at every AWS call site in turn (throttling; a timeout after the "
            "write went through; the worker dying), every SQS message and EventBridge event "
            "delivered twice and in shuffled order. A run survives when its final state equals "
            "the fault-free run's.",
        ),
        lambda options: faults.table(faults.measure()),
    ),
    Section(
        "Fuzzing: schemathesis over every operation as every role",
        "python -m bench.fuzz",
        (
            "`bench/fuzz.py` runs the fuzzing tests of `tests/e2e/test_fuzz_api.py` on a local "
            "stack of their own with larger counts than `make test`: valid and invalid cases for "
            "every operation as the partner, the admin and each staff role, then schemathesis's "
            "stateful scenarios along openapi.yaml's links (an order placed, then read, amended, "
            "shipped...). Every answer is checked: no 5xx, the answer matches openapi.yaml, an "
            "invalid request is rejected, every error is problem+json, and a rejection writes "
            "nothing. A role refused twice in a row on an operation is not sent more of it "
            "(except an operation open to anyone, whose 403 refuses a bad signed link, not the "
            "role).",
        ),
        lambda options: fuzz.table(fuzz.measure()),
    ),
    Section(
        "E-invoices: UBL documents validated per second (XSD, CEN EN 16931, Peppol BIS 3.0)",
        "python -m bench.ubl_validation",
        (
            "`bench/ubl_validation.py` renders every UBL sample of the unit tests (invoices and "
            "credit notes in every tax situation, up to 100 lines) and runs each through the "
            "validator the tests use (tests/unit/validation.py): the OASIS XSD with lxml, the "
            "CEN rules and the Peppol rules with Saxon. *Load* is paid once per test process.",
        ),
        lambda options: ubl_validation.table(ubl_validation.measure()),
    ),
    Section(
        "Invoice PDFs: what the Unicode fonts cost (zip size, rendering)",
        "python -m bench.pdf_fonts",
        (
            "`bench/pdf_fonts.py` builds the Lambda zip as `make package` does and sets the bytes "
            "of the PDFs' fonts and text shaping (Noto Sans, the Arabic, Hebrew and CJK "
            "fallbacks, HarfBuzz) beside the zip without them; then it renders an invoice in "
            "Latin script only and one naming its buyer in five scripts, first render (fonts "
            "parsed, as a cold Lambda pays) and median of ten. Last, deliver_invoices' cold "
            "import against the floor, as built and with the font packages and HarfBuzz made "
            "unimportable (a build without them), round-robin in fresh interpreters.",
        ),
        lambda options: pdf_fonts.table(pdf_fonts.measure()),
    ),
    Section(
        "Analytics lake: aging and KPIs on DuckDB, Athena's price, and today's report path",
        "python -m bench.lake",
        (
            "`bench/lake.py` writes books of each size straight in the lake's format "
            "(`bench/lake_books.py`: Parquet, a file per table and day over two years) and runs "
            "the lake's SQL (`shared/lake/sql`) on DuckDB with 2 threads: aging as of the last "
            "day and the KPIs of its month, best of 3 in one process. *Scanned* is what Athena "
            "would read for the same SQL: the compressed column chunks of the columns the query "
            "names, in the `dt` partitions it bounds (from the files' metadata); USD at $5 per "
            "TB, 10 MB at least per query. *Before* is `functions/reporting/reports.py` over "
            "moto's DynamoDB holding the same kind of books, each AWS request counted.",
        ),
        lambda options: lake.table(lake.measure(), lake.measure_before()),
    ),
    Section(
        "The local stack's memory over a working day",
        "python -m bench.local_stack_memory",
        (
            "`bench/local_stack_memory.py` starts the local stack as `make run` does (a process "
            "of its own, with a state folder of its own) and places orders over HTTP at a "
            "steady rate (one per second by default, for `--memory-minutes`), each confirmed "
            "by the pump as it goes, and reads the stack process's resident set size every "
            "minute. A developer leaves it up all day: the target is under 1.5 GB, and the "
            "figure that matters is the slope (what is left is the business the orders "
            "wrote: items, events in the bus's archive, stream records of the last 15 "
            "minutes).",
        ),
        lambda options: local_stack_memory.table(
            local_stack_memory.measure(options.memory_minutes)
        ),
    ),
    Section(
        "Test suite: make test's wall time",
        "python -m bench.suite_time",
        (
            "`bench/suite_time.py` runs the pytest step of `make test` (two workers) in a process "
            "of its own and reports its wall time and its slowest tests. Run it alone: beside "
            "other work the figure is that work's as much as the suite's.",
            "Before: 13-16 min alone on two cores (2026-11-30); 726 s of pytest on a fresh clone "
            "in CI (2026-12-07, commit e28989b).",
        ),
        lambda options: suite_time.table(suite_time.measure()),
    ),
)


def _paragraphs(about: Sequence[str]) -> list[str]:
    """Each paragraph of a section's text, a blank line between them."""
    return [line for paragraph in about for line in ("", paragraph)][1:]


def render(load_before: float, figures: Sequence[tuple[Section, str]], argv: Sequence[str]) -> str:
    """RESULTS.md: how it was run, on what, then each benchmark with how to read it."""
    command = COMMAND + (f" with `{' '.join(argv)}`" if argv else "")
    parts = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py`; do not edit by hand, run it again.",
        "",
        f"- Command: {command}",
        *machine(load_before),
    ]
    for section, text in figures:
        parts += ["", *_section(section, text)]
    return "\n".join(parts) + "\n"


def _section(section: Section, text: str) -> list[str]:
    return [
        f"## {section.title}",
        "",
        f"Alone: `.venv/bin/{section.alone}`.",
        "",
        *_paragraphs(section.about),
        "",
        text,
    ]


def module_of(section: Section) -> str:
    """``python -m bench.faults`` -> ``faults``: how ``--only`` names a benchmark."""
    return section.alone.split()[-1].removeprefix("bench.")


def replace_sections(
    previous: str, load_before: float, figures: Sequence[tuple[Section, str]], argv: Sequence[str]
) -> str:
    """The previous RESULTS.md with the sections of ``figures`` run again (and said so)."""
    chunks = previous.rstrip("\n").split("\n## ")
    fresh = {f"{section.title}": (section, text) for section, text in figures}
    rerun = [
        f"- Run again alone: {', '.join(module_of(s) for s, _ in figures)} with "
        f"`.venv/bin/python -m bench.run {' '.join(argv)}`",
        *(f"  {line}" for line in machine(load_before)),
    ]
    parts = [chunks[0].rstrip("\n") + "\n" + "\n".join(rerun) + "\n"]
    for chunk in chunks[1:]:
        title = chunk.split("\n", 1)[0]
        rerun_text = "\n".join(_section(*fresh.pop(title))) + "\n" if title in fresh else None
        parts.append(chunk if rerun_text is None else rerun_text.removeprefix("## "))
    for section, text in fresh.values():  # a benchmark new since the file was written
        parts[-1] = parts[-1].rstrip("\n") + "\n"
        parts.append("\n".join(_section(section, text)).removeprefix("## ") + "\n")
    return "\n## ".join(parts).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(arguments)
    load_before = os.getloadavg()[0]
    figures = []
    for section in SECTIONS:
        if options.only is not None and module_of(section) not in options.only:
            continue
        print(f"{section.title}...", flush=True)
        text = section.produce(options)
        print(text, flush=True)
        figures.append((section, text))
    if options.only is None:
        options.output.write_text(render(load_before, figures, arguments))
    else:
        previous = options.output.read_text()
        options.output.write_text(replace_sections(previous, load_before, figures, arguments))
    print(f"written: {options.output}")


if __name__ == "__main__":
    main()
