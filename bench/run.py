"""``make bench``: run every benchmark, print the figures and write them to bench/RESULTS.md.

Figures without the machine, the versions and the command behind them cannot be compared, so
RESULTS.md carries all three.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import aws_calls, cash_matching, cold_import, collection_run, invoicing

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
        "--output", type=Path, default=RESULTS, help="where to write (default bench/RESULTS.md)"
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


def render(
    repeat: int,
    load_before: float,
    cold: str,
    profile: str | None,
    calls: str,
    invoices: str,
    matching: str,
    collections: str,
    argv: Sequence[str],
) -> str:
    """RESULTS.md: how it was run, on what, then each benchmark with how to read it."""
    command = COMMAND + (f" with `{' '.join(argv)}`" if argv else "")
    parts = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py`; do not edit by hand, run it again.",
        "",
        f"- Command: {command}",
        *machine(load_before),
        "",
        "## Cold import per Lambda entry point",
        "",
        f"Each figure is the median and the minimum of {repeat} fresh interpreters (after one",
        "discarded warm-up round), timing `import app` plus the imports the entry point's handler",
        "bodies make, read from app.py. The environment is a Lambda's (region, function name,",
        "the app's variables, `POWERTOOLS_TRACE_DISABLED=1`, no AWS config files). The floor is",
        "what any Python Lambda that talks to AWS pays: `import boto3` and one client. *Lazy",
        "part* is the entry point's median minus the median of `import app` alone.",
        "",
        "Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB, so about",
        "0.3 at the app's 512 MB): its milliseconds are larger than these, and the ratio to the",
        "floor is the figure that travels. Bytecode caches were warm here; a package shipped",
        "without `.pyc` files compiles every module it imports on each cold start. With tracing",
        "on (as deployed), the Tracer also patches the AWS SDK at import, so these are a floor.",
        "",
        cold,
        "",
    ]
    if profile:
        parts += [
            "Where the time goes (`-X importtime` inflates times; read it for proportions):",
            "",
            profile,
            "",
        ]
    parts += [
        "## AWS API calls to place and confirm one order",
        "",
        "In-process under moto: the stack from infra/resources.yaml, the Chalice app through",
        "`chalice.test.Client`, and the event pump playing Lambda's event source mappings. One",
        "count per API call (botocore `before-call` on the app's session, retries not counted);",
        "the pump's own reads of the stream and the queues are not the app's and are not",
        "counted. Each pump row is one Lambda invocation: the publisher (stream -> bus), the",
        "consumer (confirm), then the publisher again for the confirmation's own event. A",
        "publisher row with 0 calls is a stream batch holding no new event item, which the",
        "packaged event source filter keeps from the function on AWS. The GET and the replayed",
        "POST (same Idempotency-Key and body) are for reference, not in the total.",
        "",
        calls,
        "",
        "## Invoicing: invoices per second and AWS calls per invoice",
        "",
        "In-process under moto, one process on one core. Orders are placed, confirmed and shipped",
        "over the API; the pump then runs `issue_invoices` on each `OrderShipped` (number,",
        "invoice, ledger entry, credit exposure: one transaction) and `deliver_invoices` on each",
        "`InvoiceIssued` (PDF and UBL rendered and stored in S3, one e-mail with the PDF).",
        "Time is the wall time inside each worker's handler, summed over its invocations; moto",
        "answers in microseconds where DynamoDB takes milliseconds, so on AWS the issuance rate",
        "per worker is bound by latency, and the calls per invoice are the figure that travels.",
        "",
        invoices,
        "",
        "## Cash application: auto-match rate and wrong matches",
        "",
        "`shared.domain.matching.decide` over a seeded corpus (`bench/remittance_corpus.py`):",
        "customers with legal forms and IBANs, open invoices (some of equal amounts), and",
        "payments carrying realistic remittance noise (typos, OCR confusions, missing dashes,",
        "several invoices per payment, partial and over-payments, early-payment discounts,",
        "gateway metadata only, payer name only) plus payments that cannot be matched. The",
        "truth is known for each; a wrong match is an automatic application that differs from it.",
        "*Matchable* payments carry enough information for a person to apply them.",
        "",
        matching,
        "",
        "## Collection runs: reads grow with what is due, not with the table",
        "",
        "`bench/collection_run.py`: for each table size a fresh stack in moto (in process) holds",
        f"that many invoices over {collection_run.CUSTOMERS} customers, of which "
        f"{collection_run.DUE:,} are open and due on the run's day; the others are paid (out of",
        "the sparse `open_by_due` index) or open and due after the run's horizon. *Run* is",
        "`start_run` (Query pages of the index, one SQS message per customer); *workers* are the",
        "`remind_customers` invocations that drain the fan-out queue (plan; record levels, fees",
        "and interest in one transaction; one e-mail per customer). DynamoDB bills a Query by the",
        "items it reads: the request and item counts are the figures that travel. moto finds an",
        "index's items by walking the whole table, so its times grow with the table where",
        "DynamoDB's do not. moto also ends a Query page at 1 MB of whole items, counting items",
        "outside the key range and attributes the index does not project: its 4 index pages per",
        "run are 1 on DynamoDB (1,000 keys of about 150 bytes), and the workers' extra Query pages",
        "at 100,000 invoices (each customer's partition then holds 1,000 invoices besides the",
        "payments the worker reads) are moto's too.",
        "",
        collections,
        "",
    ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(arguments)
    load_before = os.getloadavg()[0]
    print(f"cold imports: {options.repeat} fresh interpreters per entry point...", flush=True)
    report = cold_import.measure(options.repeat)
    cold = cold_import.table(report)
    print(cold, flush=True)
    profile = None if options.no_profile else cold_import.profile_table(report)
    if profile:
        print(profile, flush=True)
    print("AWS calls: place and confirm one order under moto...", flush=True)
    calls = aws_calls.table(aws_calls.measure())
    print(calls)
    print(f"invoicing: {options.invoices} shipments through the invoicing workers...", flush=True)
    invoices = invoicing.table(invoicing.measure(options.invoices))
    print(invoices)
    print("cash application: the remittance corpus through the matcher...", flush=True)
    matching = cash_matching.table(cash_matching.measure())
    print(matching)
    print(f"collection runs: tables of {options.collection_sizes} invoices...", flush=True)
    runs = collection_run.measure(options.collection_sizes)
    collections = collection_run.table(runs) + (
        f"\n\nWorker calls at {runs[-1].table_invoices:,} invoices: "
        f"{collection_run.worker_breakdown(runs)}"
    )
    print(collections)
    options.output.write_text(
        render(
            options.repeat,
            load_before,
            cold,
            profile,
            calls,
            invoices,
            matching,
            collections,
            arguments,
        )
    )
    print(f"written: {options.output}")


if __name__ == "__main__":
    main()
