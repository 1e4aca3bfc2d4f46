"""The analytics lake at size: aging and KPIs over 100k, 1M and 10M journal rows on DuckDB,
what Athena would scan and charge for them, and today's report path for comparison.

*After*: books written straight in the lake's format (bench/lake_books.py: Parquet, one file
per table and day), then the lake's SQL (shared/lake/sql) run by DuckDB on ``THREADS`` threads:
aging as of the last day, and the KPIs of its month. Seconds are the best of ``REPEAT`` runs in
one process (the Parquet footers cached after the first). *Scanned* is what Athena would read:
the compressed column chunks of the columns each query names, in the partitions its ``dt``
filters leave (read from the files' own metadata); Athena bills $5 per TB scanned, at least
10 MB per query.

*Before*: ``functions/reporting/reports.py`` (``aging_report``, ``kpi_report``) over moto's
DynamoDB holding the same shape of books (customers, their invoices, payments applied to most),
with every AWS request it makes counted. Only 10,000 entries by default: moto answers every Query
by walking every item of the table, and the KPI path makes one Query per invoice with cash
applied, so 100,000 entries take hours there (``--before 10000,100000`` runs it anyway). The
KPI path is left out unless asked for (``--before-kpis``): at 10,000 entries it makes a Query per
invoice with cash applied (about 3,150) and had not finished under moto after 25 minutes. The
requests, the figure that travels to DynamoDB, grow with customers and invoices.

    python -m bench.lake [--sizes 100000,1000000,10000000] [--before 10000,100000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from bench import lake_books
from shared.lake import duck, queries, reports
from shared.lake.tables import COLUMNS

SIZES = (100_000, 1_000_000, 10_000_000)
BEFORE_SIZES = (10_000,)
THREADS = 2
REPEAT = 3
USD_PER_TB = 5.0
TB = 10**12
MIN_BYTES = 10 * 10**6  # Athena bills at least 10 MB per query
EDGES = (30, 60, 90)
_DT = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class LakeRun:
    rows: int
    invoices: int
    customers: int
    write_seconds: float
    lake_bytes: int
    aging_seconds: float
    kpi_seconds: float
    aging_scanned: int
    kpi_scanned: int

    @staticmethod
    def usd(scanned: int) -> float:
        return max(scanned, MIN_BYTES) / TB * USD_PER_TB


@dataclass(frozen=True)
class BeforeRun:
    entries: int
    customers: int
    aging_seconds: float
    aging_calls: Counter[str]
    kpi_seconds: float | None  # None: not measured
    kpi_calls: Counter[str]


def measure(sizes: Sequence[int] = SIZES, repeat: int = REPEAT) -> list[LakeRun]:
    return [_measure_lake(size, repeat) for size in sizes]


def _measure_lake(rows: int, repeat: int) -> LakeRun:
    import duckdb

    root = Path(tempfile.mkdtemp(prefix="lake-bench-"))
    try:
        writer = duckdb.connect()
        writer.execute(f"SET threads = {THREADS}")
        started = time.perf_counter()
        invoices, customers = lake_books.write(writer, root, rows)
        written = time.perf_counter() - started
        writer.close()
        as_of = lake_books.AS_OF
        start = as_of.replace(day=1)
        aging_sql, kpi_sql = queries.aging(as_of, EDGES), queries.kpis(start, as_of)
        connection = duck.connect(root, threads=THREADS)
        aging_seconds = _best(
            lambda: reports.aging_report(duck.rows(connection, aging_sql), as_of), repeat
        )
        kpi_seconds = _best(
            lambda: reports.kpi_report(duck.rows(connection, kpi_sql), start, as_of), repeat
        )
        return LakeRun(
            rows=rows,
            invoices=invoices,
            customers=customers,
            write_seconds=written,
            lake_bytes=sum(path.stat().st_size for path in root.rglob("*.parquet")),
            aging_seconds=aging_seconds,
            kpi_seconds=kpi_seconds,
            aging_scanned=scanned(connection, root, aging_sql),
            kpi_scanned=scanned(connection, root, kpi_sql),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _best(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def scanned(connection: Any, root: Path, sql: str) -> int:
    """The compressed bytes of the column chunks the query names, in the partitions its
    ``dt`` bounds on each table leave."""
    tree = sqlglot.parse_one(sql, read="trino")
    named = {column.name for column in tree.find_all(exp.Column)}
    total = 0
    for table in {t.name for t in tree.find_all(exp.Table)} & set(COLUMNS):
        columns = named & {name for name, _ in COLUMNS[table]}
        low, high = _dt_bounds(tree, table)
        found = connection.execute(
            "SELECT file_name, path_in_schema, total_compressed_size "
            f"FROM parquet_metadata('{root / table}/**/*.parquet')"
        ).fetchall()
        for file_name, column, size in found:
            day = _DT.search(file_name)
            inside = day is None or (low <= day.group(1) <= high)
            if column in columns and inside:
                total += size
    return total


def _dt_bounds(tree: Any, table: str) -> tuple[str, str]:
    """The widest ``dt`` range the query's reads of ``table`` bound (all of it when one read
    does not)."""
    lows, highs = [], []
    for read in tree.find_all(exp.Table):
        if read.name != table:
            continue
        select = read.find_ancestor(exp.Select)
        where = select.args.get("where") if select else None
        low, high = "0000-00-00", "9999-99-99"
        for condition in where.find_all(exp.Predicate) if where else ():
            if not (isinstance(condition.this, exp.Column) and condition.this.name == "dt"):
                continue
            if isinstance(condition, exp.Between):
                low, high = condition.args["low"].name, condition.args["high"].name
            elif isinstance(condition, exp.LTE):
                high = condition.expression.name
            elif isinstance(condition, exp.GTE):
                low = condition.expression.name
        lows.append(low)
        highs.append(high)
    return min(lows), max(highs)


# --- before: today's report path over moto -------------------------------------------------------


def measure_before(sizes: Sequence[int] = BEFORE_SIZES, *, kpis: bool = False) -> list[BeforeRun]:
    return [_measure_before(size, kpis) for size in sizes]


def _measure_before(entries: int, kpis: bool) -> BeforeRun:
    import boto3

    from bench.aws_calls import CallLog, offline_aws, quiet_moto
    from infra.local import stack
    from infra.local.moto_transactions import lean_transactions
    from infra.local.offline import deploy_and_seed, reset_process_state
    from shared.adapters import aws
    from shared.observability import logger

    with offline_aws(), lean_transactions():
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        from functions.reporting import reports as current

        infra = boto3.session.Session(region_name=stack.REGION)
        with quiet_moto():
            deployment = deploy_and_seed(infra)
        reset_process_state()
        customers = _seed_dynamodb(infra, deployment.outputs["TableName"], entries)
        reset_process_state()
        logger.setLevel("WARNING")
        log = CallLog()
        log.attach(aws.session())
        as_of = lake_books.AS_OF
        with log.phase("aging") as aging_phase:
            started = time.perf_counter()
            current.aging_report(as_of, EDGES)
            aging_seconds = time.perf_counter() - started
        kpi_seconds = None
        with log.phase("kpis") as kpi_phase:
            if kpis:
                started = time.perf_counter()
                current.kpi_report(as_of.replace(day=1), as_of)
                kpi_seconds = time.perf_counter() - started
    return BeforeRun(
        entries=entries,
        customers=customers,
        aging_seconds=aging_seconds,
        aging_calls=Counter(aging_phase.breakdown()),
        kpi_seconds=kpi_seconds,
        kpi_calls=Counter(kpi_phase.breakdown()),
    )


def _seed_dynamodb(infra: Any, table_name: str, entries: int) -> int:
    """Customers, and invoices with their entries (85 % paid: a payment and its allocation)
    until ``entries`` journal entries; the customers' count."""
    from datetime import UTC, datetime

    from bench.collection_run import BATCH, _chunks, _customer, _customer_id
    from shared.domain import ledger
    from shared.domain.invoice import InvoiceStatus
    from shared.store import customers as customer_store
    from shared.store import invoices as invoice_store
    from shared.store import ledger as ledger_store
    from shared.store.table import to_dynamo
    from tests.unit.invoice_samples import buyer, domestic_invoice

    count = max(10, entries // 270)  # about 100 invoices per customer, as on the lake
    for n in range(count):
        customer_store.create(_customer(n))
    template = domestic_invoice()
    items: list[dict[str, Any]] = []
    made, n = 0, 0
    first = lake_books.AS_OF - timedelta(days=lake_books.DAYS - 1)
    invoices = max(1, int(entries / 2.7))
    while made < entries:
        customer_id = _customer_id(n % count)
        issued = first + timedelta(days=n * lake_books.DAYS // invoices)
        at = datetime.combine(issued, datetime.min.time(), UTC).replace(hour=9)
        paid = n % 100 < 85
        invoice = template.model_copy(
            update={
                "invoice_id": f"inv_bench_{n:07d}",
                "number": f"INV-{n + 1:07d}",
                "customer_id": customer_id,
                "buyer": buyer().model_copy(update={"party_id": customer_id}),
                "issued_on": issued,
                "issued_at": at,
                "due_on": issued + timedelta(days=30),
                "amount_due": 0 if paid else template.total,
                "amount_paid": template.total if paid else 0,
                "status": InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
            }
        )
        items.append(invoice_store.to_item(invoice))
        booked = [ledger.for_invoice(invoice)]
        if paid:
            paid_at = at + timedelta(days=n % 75, hours=2)
            booked += [
                ledger.for_payment(customer_id, "EUR", template.total, f"pay_{n}", paid_at),
                ledger.for_allocation(
                    customer_id,
                    "EUR",
                    invoice.invoice_id,
                    template.total,
                    template.total * 0,
                    f"al_{n}",
                    paid_at,
                    payment_id=f"pay_{n}",
                ),
            ]
        items += [ledger_store.to_item(entry) for entry in booked]
        made += len(booked)
        n += 1
    client = infra.client("dynamodb")
    for chunk in _chunks(iter(to_dynamo(item) for item in items), BATCH):
        request: dict[str, Any] = {table_name: [{"PutRequest": {"Item": i}} for i in chunk]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return count


# --- report ---------------------------------------------------------------------------------------


def table(runs: Sequence[LakeRun], before: Sequence[BeforeRun]) -> str:
    lines = [
        f"After: the lake on DuckDB ({THREADS} threads), aging as of "
        f"{lake_books.AS_OF} and the KPIs of its month; Athena's price for the same scan.",
        "",
        "| Journal rows | Invoices | Customers | Lake MB | Write s | Aging s | Aging scanned MB "
        "| Aging USD | KPIs s | KPIs scanned MB | KPIs USD |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.rows:,} | {run.invoices:,} | {run.customers:,} | "
            f"{run.lake_bytes / 1e6:,.1f} | {run.write_seconds:.1f} | {run.aging_seconds:.2f} | "
            f"{run.aging_scanned / 1e6:,.1f} | {LakeRun.usd(run.aging_scanned):.5f} | "
            f"{run.kpi_seconds:.2f} | {run.kpi_scanned / 1e6:,.1f} | "
            f"{LakeRun.usd(run.kpi_scanned):.5f} |"
        )
    if before:
        lines += [
            "",
            "Before: functions/reporting/reports.py over moto's DynamoDB, the same kind of books.",
            "",
            "| Journal entries | Customers | Aging s | Aging requests | KPIs s | KPIs requests |",
            "|---:|---:|---:|---|---:|---|",
        ]
        for earlier in before:
            lines.append(
                f"| {earlier.entries:,} | {earlier.customers:,} | {earlier.aging_seconds:.1f} | "
                f"{_calls(earlier.aging_calls)} | "
                + (
                    "not measured |  |"
                    if earlier.kpi_seconds is None
                    else f"{earlier.kpi_seconds:.1f} | {_calls(earlier.kpi_calls)} |"
                )
            )
    return "\n".join(lines)


def _calls(calls: Counter[str]) -> str:
    return f"{sum(calls.values()):,}: " + ", ".join(f"{op} {n:,}" for op, n in calls.items())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lake", description=__doc__)
    sizes = lambda text: tuple(int(n) for n in text.split(",") if n)  # noqa: E731
    parser.add_argument("--sizes", type=sizes, default=SIZES)
    parser.add_argument("--before", type=sizes, default=BEFORE_SIZES)
    parser.add_argument("--before-kpis", action="store_true", help="time today's KPI path too")
    options = parser.parse_args()
    before = measure_before(options.before, kpis=options.before_kpis)
    print(table(measure(options.sizes), before))


if __name__ == "__main__":
    main()
