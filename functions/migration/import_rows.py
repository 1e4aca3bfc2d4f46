"""The import row worker: one chunk of a file's rows, each row landing whole or listed as an error.

Each row is validated (``shared.domain.imports``), checked against what is stored (the customer
of a receivable, the catalog item of a stock level) and applied in ONE transaction with its row
marker: a good row writes its state, its events and the marker; a bad row writes its errors and
the marker. A redelivered chunk, a repeated fan-out or a re-run therefore applies nothing twice,
and the outcome recorded the first time is counted. The chunk's counts are then added to the job
once (``store.count_chunk``); the worker whose chunk completes the count finishes the job.

What each kind writes, in the row's transaction:

- customers: the account and its credit item (CustomerCreated); an existing id is an error;
- catalog: the item (created or replaced) and its list price in the row's currency (ItemUpserted,
  PriceSet; what is unchanged writes nothing);
- stock: the on-hand level of a catalog item (StockLevelSet; reserved units stay reserved);
- receivables: an open legacy invoice, its amount in the customer's open receivables and its
  opening-balance journal entry (InvoiceImported); an unknown customer, another currency than
  the customer's, or an invoice number imported before is an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from functions.migration.finish import finish_if_done
from functions.migration.messages import ChunkMessage
from shared import clock
from shared.domain import imports as domain
from shared.domain import pricing
from shared.domain import stock as stock_domain
from shared.domain.events import DomainEvent
from shared.domain.imports import (
    CatalogRow,
    CustomerRow,
    ImportJob,
    ImportRow,
    JobStatus,
    ReceivableRow,
    RowError,
    SourceRow,
    StockRow,
)
from shared.observability import logger
from shared.store import catalog, credit, customers, outbox
from shared.store import imports as store
from shared.store import ledger as ledger_store
from shared.store import stock as stock_store
from shared.store.imports import Outcome
from shared.store.table import Put, Write

ATTEMPTS = 5  # re-reads of a row's state while other writers keep changing it


class UnknownImportError(LookupError):
    """A chunk of an import without a job (the file worker writes the job before any chunk)."""


class ConcurrentChangeError(RuntimeError):
    """A row's state kept changing under it; the chunk is retried later."""


def _no_explanation(failed: Sequence[int]) -> list[RowError] | None:
    return None


@dataclass(frozen=True)
class Plan:
    """What a good row writes, and how a failed guard reads (None: someone else wrote, retry)."""

    state: list[Write]
    events: list[DomainEvent]
    explain: Callable[[Sequence[int]], list[RowError] | None] = field(default=_no_explanation)


def import_chunk_message(body: str) -> ImportJob | None:
    return import_chunk(ChunkMessage.model_validate_json(body))


def import_chunk(message: ChunkMessage) -> ImportJob | None:
    """Import the chunk's rows and count them; answers the job if this chunk completed it."""
    job = store.get_job(message.import_id)
    if job is None:
        raise UnknownImportError(message.import_id)
    if job.kind != message.kind:
        raise ValueError(f"chunk of a {message.kind} file for a {job.kind} import")
    if job.status is not JobStatus.RUNNING:
        return None  # completed: every chunk was counted already
    if not store.chunk_counted(job.import_id, message.chunk):
        outcomes = [import_row(job, message.columns, row.source()) for row in message.rows]
        succeeded, failed = outcomes.count("ok"), outcomes.count("error")
        if store.count_chunk(job.import_id, message.chunk, succeeded, failed):
            logger.info(
                "import chunk counted",
                extra={
                    "import_id": job.import_id,
                    "chunk": message.chunk,
                    "succeeded": succeeded,
                    "failed": failed,
                },
            )
    return finish_if_done(job.import_id)


def import_row(job: ImportJob, columns: Sequence[str], row: SourceRow) -> Outcome:
    """Land the row or record why not; a row imported before answers its first outcome."""
    parsed = domain.parse_row(job.kind, columns, row)
    if isinstance(parsed, list):
        return _reject(job.import_id, row.row, parsed)
    for attempt in range(ATTEMPTS):
        plan = _plan(job.import_id, row.row, parsed)
        if isinstance(plan, list):
            return _reject(job.import_id, row.row, plan)
        try:
            store.commit_row(job.import_id, row.row, plan.state, plan.events)
            return "ok"
        except store.RowAlreadyImportedError as imported:
            return imported.outcome
        except outbox.StaleStateError as stale:
            if errors := plan.explain(stale.failed):
                return _reject(job.import_id, row.row, errors)
        except ClientError as error:
            if not store.is_contention(error):
                raise
        time.sleep(0.05 * 2**attempt)
    raise ConcurrentChangeError(f"import {job.import_id} row {row.row}: state kept changing")


def _reject(import_id: str, row: int, errors: list[RowError]) -> Outcome:
    try:
        store.commit_row_errors(import_id, row, errors)
    except store.RowAlreadyImportedError as imported:
        return imported.outcome
    return "error"


def _plan(import_id: str, row: int, parsed: ImportRow) -> Plan | list[RowError]:
    if isinstance(parsed, CustomerRow):
        return _customer(import_id, row, parsed)
    if isinstance(parsed, CatalogRow):
        return _catalog(import_id, row, parsed)
    if isinstance(parsed, StockRow):
        return _stock(import_id, row, parsed)
    return _receivable(import_id, row, parsed)


def _customer(import_id: str, row: int, parsed: CustomerRow) -> Plan:
    customer = parsed.customer(clock.now())

    def explain(failed: Sequence[int]) -> list[RowError] | None:
        exists = f"customer {customer.customer_id} already exists"
        return [RowError(row, "customer_id", exists)] if failed else None

    return Plan(
        state=customers.opening_writes(customer),
        events=[domain.customer_imported(customer, import_id, row)],
        explain=explain,
    )


def _catalog(import_id: str, row: int, parsed: CatalogRow) -> Plan:
    """The item and its list price, each written only if it changes, guarded by what was read."""
    current = catalog.get_item(parsed.sku)
    price = catalog.get_price(parsed.sku, parsed.currency)
    state: list[Write] = []
    events: list[DomainEvent] = []
    if change := pricing.upsert_item(parsed.sku, parsed.item_request(), current):
        item, event = change
        if current is None:
            state.append(Put.new(catalog.to_item(item)))
        else:
            state.append(Put.replacing(catalog.to_item(item), current.version))
        events.append(domain.from_import(event, import_id, row))
    if priced := pricing.set_price(parsed.sku, parsed.currency, parsed.unit_price, None, price):
        new_price, event = priced
        if price is None:
            guard = Put(
                item=catalog.price_item(new_price), condition="attribute_not_exists(unit_price)"
            )
        else:
            guard = Put(
                item=catalog.price_item(new_price),
                condition="unit_price = :previous",
                values={":previous": price.unit_price},
            )
        state.append(guard)
        events.append(domain.from_import(event, import_id, row))
    return Plan(state=state, events=events)


def _stock(import_id: str, row: int, parsed: StockRow) -> Plan | list[RowError]:
    if catalog.get_item(parsed.sku) is None:
        unknown = f"unknown SKU {parsed.sku}: import it in a catalog file first"
        return [RowError(row, "sku", unknown)]
    current = stock_store.get_level(parsed.sku)
    try:
        level, event = stock_domain.set_on_hand(
            current, parsed.on_hand, current.version, reason=f"data migration {import_id}"
        )
    except stock_domain.StockError as error:
        return [RowError(row, "on_hand", str(error))]
    write = stock_store.level_write(current, level)
    return Plan(state=[write], events=[domain.from_import(event, import_id, row)])


def _receivable(import_id: str, row: int, parsed: ReceivableRow) -> Plan | list[RowError]:
    customer_id, number = parsed.customer_id, parsed.invoice_number
    customer = customers.get(customer_id, consistent=True)
    if customer is None:
        unknown = f"unknown customer {customer_id}: import it in a customers file first"
        return [RowError(row, "customer_id", unknown)]
    if customer.currency != parsed.currency:
        mismatch = f"customer {customer_id} is invoiced in {customer.currency}"
        return [RowError(row, "currency", mismatch)]
    duplicate = [RowError(row, "invoice_number", f"invoice {number} was imported before")]
    if store.get_legacy_invoice(number) is not None:
        return duplicate

    def explain(failed: Sequence[int]) -> list[RowError] | None:
        if {0, 2, 3} & set(failed):  # the invoice, or its opening entry, exists
            return duplicate
        if 1 in failed:
            return [RowError(row, "customer_id", f"customer {customer_id} has no credit account")]
        return None

    opening = domain.opening_entry(parsed)
    return Plan(
        state=[
            Put.new(store.legacy_invoice_item(parsed, import_id, row, opening_entry=opening)),
            credit.add_open_receivables(customer_id, opening.total),
            *ledger_store.post(opening),
        ],
        events=[domain.invoice_imported(parsed, import_id, row)],
        explain=explain,
    )
