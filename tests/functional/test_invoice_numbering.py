"""Invoice numbers are gap-free under concurrency: exactly 1..N, whatever the interleaving.

Thousands of issuances from many threads go through the real store path: ``series.issue``
reads the counter and claims the next number inside the ``outbox.commit`` transaction that puts
the invoice, its source guard and its event. A loser of a race reads again; a transaction that
fails for any other reason consumes no number.

It runs on a fresh, stream-less table holding only what the issuances write, with moto made
to isolate transactions as DynamoDB does (see ``isolated_transactions``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from infra.local import offline
from infra.local.moto_transactions import lean_transactions
from infra.local.seed import DEMO_CUSTOMERS
from shared import clock
from shared.config import seller
from shared.domain import invoice as invoice_domain
from shared.domain import numbering
from shared.domain.invoice import Invoice
from shared.domain.order import Order, OrderLine, OrderStatus
from shared.store import invoices, outbox, series, table
from shared.store.outbox import StaleStateError
from shared.store.table import Update

ISSUANCES = 400  # 1000 take 40-60 s on a 2-CPU machine; 400 race as hard at a third of that
THREADS = 16
TABLE = "otc-numbering"


@pytest.fixture
def bare_table() -> Iterator[None]:
    """A fresh moto account with nothing but the single table (keys only, no stream)."""
    environment = {
        **offline.ENVIRONMENT,
        "TABLE_NAME": TABLE,
        "IDEMPOTENCY_TABLE_NAME": "unused",
        "EVENT_BUS_NAME": "unused",
    }
    with mock.patch.dict(os.environ, environment), mock_aws():
        offline.reset_process_state()
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield
    offline.reset_process_state()


@pytest.fixture
def isolated_transactions(serializable_transactions: None) -> Iterator[None]:
    """moto with DynamoDB's isolation and a rollback that costs only what a transaction names
    (see ``infra.local.moto_transactions``): whole-table backups make thousands quadratic."""
    with lean_transactions():
        yield


def _draft() -> Invoice:
    """An unnumbered invoice of one widget for the demo customer."""
    now = clock.now()
    line = OrderLine(
        line_no=1,
        sku="WIDGET-1",
        name="Widget",
        unit="EA",
        tax_category="standard",
        quantity=1,
        unit_price=Decimal("19.99"),
        line_total=Decimal("19.99"),
    )
    order = Order(
        order_id="ord_numbering",
        placed_by="stf_admin",
        customer_id=DEMO_CUSTOMERS[0].customer_id,
        currency="EUR",
        purchase_order=None,
        lines=(line,),
        total=Decimal("19.99"),
        status=OrderStatus.SHIPPED,
        version=1,
        created_at=now,
        updated_at=now,
    )
    return invoice_domain.draft(
        invoice_id="inv_numbering",
        customer=DEMO_CUSTOMERS[0],
        seller=seller(),
        order=order,
        quantities={1: 1},
        shipment_ids=("shp_numbering",),
        issued_at=now,
    )


def _issue(draft: Invoice, index: int) -> str:
    """Issue one invoice (its own id and source) as the issuance worker writes it."""
    source = f"shp_{index:06d}"
    mine = draft.model_copy(update={"invoice_id": invoices.invoice_id_for(source)})

    def write(number: int, counter: Update) -> Invoice:
        invoice = invoice_domain.numbered(mine, number, seller())
        state = [counter, *invoices.issue_writes(invoice, [source])]
        outbox.commit(state, [invoice_domain.issued_event(invoice)])
        return invoice

    in_series = numbering.series(seller().invoice_prefix, draft.issued_on)
    return series.issue(seller().entity, in_series, write).number


def test_hundreds_of_concurrent_issuances_take_exactly_one_to_n(bare_table, isolated_transactions):
    # Given one draft, and many workers issuing invoices from it at once
    draft = _draft()
    started = time.monotonic()

    # When they issue ISSUANCES invoices from THREADS threads
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        numbers = list(pool.map(lambda index: _issue(draft, index), range(ISSUANCES)))
    elapsed = time.monotonic() - started

    # Then the numbers are exactly 1..N: no gap, no duplicate, and the stored invoices agree
    in_series = numbering.series(seller().invoice_prefix, draft.issued_on)
    assert sorted(numbers) == [numbering.number(in_series, n) for n in range(1, ISSUANCES + 1)]
    assert series.last_number(seller().entity, in_series) == ISSUANCES
    stored = [
        item["number"]
        for item in _all_items()
        if item.get("entity") == "Invoice" and item["sk"] == invoices.SORT_KEY
    ]
    assert sorted(stored) == sorted(numbers)
    print(f"\n{ISSUANCES} invoices from {THREADS} threads in {elapsed:.1f} s")


def test_a_failed_transaction_consumes_no_number(bare_table):
    # Given an issued invoice (number 1)
    draft = _draft()
    assert _issue(draft, 1).endswith("-000001")
    in_series = numbering.series(seller().invoice_prefix, draft.issued_on)

    # When another issuance fails on a guard of its own (its source was billed already)
    with pytest.raises(StaleStateError):
        _issue(draft, 1)

    # Then the counter did not move, and the next invoice takes number 2
    assert series.last_number(seller().entity, in_series) == 1
    assert _issue(draft, 2).endswith("-000002")


def _all_items() -> list[dict[str, Any]]:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=TABLE)
    return [table.from_dynamo(item) for page in pages for item in page["Items"]]
