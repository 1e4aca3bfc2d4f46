"""Data migration end to end: CSV files dropped in the bucket or POSTed, imported row by row.

The drop path is the real one: the object put into the bucket makes S3 (moto) announce it on the
default bus, the rule routes it to the import-files queue, and the pump runs the file worker and
then the row worker on the chunks it fanned out. The API path stores the file under the same
prefix and goes the same way.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.store import credit
from tests.functional.accounts import new_staff
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World

CUSTOMERS = (
    "customer_id,legal_name,billing_email,currency,line1,city,postal_code,country,"
    "payment_terms,credit_limit\n"
    "C-1001,Initech SARL,compta@initech.example,EUR,12 rue de la Paix,Paris,75002,FR,"
    "2/10 net30,50000.00\n"
    "C-1002,Umbrella GmbH,ap@umbrella.example,eur,Hauptstrasse 5,Berlin,10115,de,net45,\n"
    "C-1003,Bad Mail Ltd,not-an-email,GBP,1 King Street,London,EC2V 8AU,GB,net30,0\n"
    "C-1004,Nowhere Inc,ap@nowhere.example,USD,1 Main St,Springfield,12345,XX,net 400,0\n"
)
CATALOG = (
    "sku,name,unit,tax_category,currency,unit_price\n"
    "MIG-1,Migrated bolt,EA,standard,EUR,1.25\n"
    "MIG-2,Migrated nut,ea,Reduced,EUR,0.10\n"
    "mig-3,Lower-case SKU,EA,standard,EUR,1.00\n"
    "MIG-4,Negative price,EA,standard,EUR,-1\n"
)
STOCK = "sku,on_hand\nMIG-1,100\nMIG-2,250\nNOPE-9,5\nWIDGET-1,ten\n"
RECEIVABLES = (
    "customer_id,invoice_number,issue_date,due_date,currency,original_amount,open_amount\n"
    "C-1001,INV-2024-0001,2024-10-01,2024-10-31,EUR,1200.00,1200.00\n"
    "C-1001,INV-2024-0002,2024-10-15,2024-11-14,EUR,800.00,300.50\n"
    "C-1002,INV-2024-0003,2024-11-01,2024-12-16,EUR,99.99,99.99\n"
    "C-9999,INV-2024-0004,2024-11-01,2024-12-01,EUR,10.00,10.00\n"
    "C-1002,INV-2024-0005,2024-11-01,2024-12-01,USD,10.00,10.00\n"
    "C-1001,INV-2024-0001,2024-10-01,2024-10-31,EUR,1200.00,1200.00\n"
    "C-1002,INV-2024-0006,2024-11-01,2024-10-01,EUR,10.00,10.00\n"
)


# --- helpers --------------------------------------------------------------------------------------


def _bucket(world: World) -> str:
    return world.outputs["DocumentsBucketName"]


def drop(world: World, kind: str, name: str, content: str | bytes) -> None:
    """Put a file where the company's migration tooling drops it, and let everything run."""
    body = content.encode() if isinstance(content, str) else content
    s3 = world.session.client("s3")
    s3.put_object(Bucket=_bucket(world), Key=f"imports/{kind}/{name}", Body=body)
    world.pump.drain()


def upload(
    client: Any,
    kind: str,
    content: str | bytes,
    *,
    key: str = ADMIN_KEY,
    idempotency_key: str | None = None,
    content_type: str = "text/csv",
) -> tuple[int, Any]:
    response = client.http.post(
        f"/imports/{kind}",
        headers={
            "Content-Type": content_type,
            "X-Api-Key": key,
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
        },
        body=content,
    )
    return response.status_code, json.loads(response.body) if response.body else None


def get(client: Any, path: str, key: str = ADMIN_KEY) -> tuple[int, Any]:
    response = client.http.get(path, headers={"X-Api-Key": key})
    return response.status_code, json.loads(response.body)


def imports(world: World) -> dict[str, dict[str, Any]]:
    """Every import job, by the key of the file it read."""
    return {item["key"]: item for item in world.table_items() if item.get("entity") == "Import"}


def job_of(world: World, name: str) -> dict[str, Any]:
    [job] = [job for key, job in imports(world).items() if key.endswith("/" + name)]
    return job


def report(world: World, import_id: str) -> list[dict[str, str]]:
    body = (
        world.session.client("s3")
        .get_object(Bucket=_bucket(world), Key=f"imports/reports/{import_id}-errors.csv")["Body"]
        .read()
        .decode()
    )
    return list(csv.DictReader(io.StringIO(body)))


def entities(world: World, entity: str) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item.get("entity") == entity]


def events(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [item for item in entities(world, "Event") if item["detail_type"] == detail_type]


def consumer(world: World, name: str) -> Any:
    return next(c for c in world.pump._consumers if c.name == name)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Messages as Lambda hands them over (the same message id on redelivery)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def peek_rows(world: World) -> list[dict[str, Any]]:
    """The chunk messages waiting for the row worker, left in the queue (visible again at once)."""
    messages = world.session.client("sqs").receive_message(
        QueueUrl=world.queues["ImportRowsQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [dict(message) for message in messages.get("Messages", [])]


@pytest.fixture
def migrated(world: World, client: Any) -> dict[str, Any]:
    """The acceptance set, loaded the way a company would: accounts and catalog first."""
    # Given customers dropped in the bucket and the catalog POSTed
    drop(world, "customers", "customers.csv", CUSTOMERS)
    status, catalog = upload(client, "catalog", CATALOG)
    assert status == 202, catalog
    world.pump.drain()
    # When stock levels are dropped and open receivables POSTed
    drop(world, "stock", "stock-2024-12-31.csv", STOCK)
    status, receivables = upload(client, "receivables", RECEIVABLES)
    assert status == 202, receivables
    world.pump.drain()
    return {
        "customers": job_of(world, "customers.csv")["import_id"],
        "catalog": catalog["import_id"],
        "stock": job_of(world, "stock-2024-12-31.csv")["import_id"],
        "receivables": receivables["import_id"],
    }


# --- the acceptance set ---------------------------------------------------------------------------


def test_good_rows_land_through_both_paths(world, client, migrated):
    # Then the accounts are readable, with their terms and limit
    status, initech = get(client, "/customers/C-1001")
    assert status == 200, initech
    assert initech["legal_name"] == "Initech SARL"
    assert initech["payment_terms"] == {
        "kind": "net",
        "net_days": 30,
        "discount_percent": "2",
        "discount_days": 10,
    }
    assert initech["credit_limit"] == "50000.00"
    status, umbrella = get(client, "/customers/C-1002")
    assert (umbrella["currency"], umbrella["billing_address"]["country"]) == ("EUR", "DE")
    assert umbrella["payment_terms"]["net_days"] == 45
    for bad in ("C-1003", "C-1004"):
        assert get(client, f"/customers/{bad}")[0] == 404

    # and the opening balances are in the customers' exposure
    initech_credit = credit.get_exposure("C-1001")
    umbrella_credit = credit.get_exposure("C-1002")
    assert initech_credit is not None and umbrella_credit is not None
    assert initech_credit.open_receivables == Decimal("1500.50")
    assert initech_credit.headroom == Decimal("50000.00") - Decimal("1500.50")
    assert umbrella_credit.open_receivables == Decimal("99.99")
    assert initech["credit"]["open_receivables"] == "1500.50"

    # and items are priced, stock levels set
    status, bolt = get(client, "/catalog/items/MIG-1")
    assert (status, bolt["unit"], bolt["prices"]) == (200, "EA", {"EUR": "1.25"})
    assert get(client, "/catalog/items/MIG-2")[1]["tax_category"] == "reduced"
    assert get(client, "/stock/MIG-1")[1]["on_hand"] == 100
    assert get(client, "/stock/MIG-2")[1]["on_hand"] == 250
    assert get(client, "/stock/WIDGET-1")[1]["on_hand"] == 1000  # its row was bad: unchanged

    # and each open invoice is one legacy invoice item, open, on the collection index
    invoices = {item["invoice_number"]: item for item in entities(world, "Invoice")}
    assert set(invoices) == {"INV-2024-0001", "INV-2024-0002", "INV-2024-0003"}
    second = invoices["INV-2024-0002"]
    assert (second["pk"], second["sk"]) == ("INVOICE#legacy-INV-2024-0002", "INVOICE")
    assert second["status"] == "open" and second["legacy"] is True
    assert (second["original_amount"], second["open_amount"]) == (Decimal("800"), Decimal("300.5"))
    assert (second["issue_date"], second["due_date"]) == ("2024-10-15", "2024-11-14")
    assert second["open_due_pk"] == "OPEN"
    assert second["open_due_sk"] == "2024-11-14#C-1001#INV-2024-0002"


def test_the_error_report_names_each_bad_row_with_field_and_reason(world, client, migrated):
    # Then each report lists the bad rows (row numbers as a spreadsheet shows them)
    customers = {(r["row"], r["field"]): r["reason"] for r in report(world, migrated["customers"])}
    assert set(customers) == {("4", "billing_email"), ("5", "country"), ("5", "payment_terms")}
    assert "not a valid email" in customers[("4", "billing_email")]
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in customers[("5", "country")]

    catalog = {(r["row"], r["field"]): r["reason"] for r in report(world, migrated["catalog"])}
    assert set(catalog) == {("4", "sku"), ("5", "unit_price")}
    assert "is not a SKU" in catalog[("4", "sku")]

    stock = {(r["row"], r["field"]): r["reason"] for r in report(world, migrated["stock"])}
    assert stock == {
        ("4", "sku"): "unknown SKU NOPE-9: import it in a catalog file first",
        ("5", "on_hand"): "'ten' is not a whole number of units from 0 to 1000000000",
    }

    receivables = {
        (r["row"], r["field"]): r["reason"] for r in report(world, migrated["receivables"])
    }
    assert receivables == {
        ("5", "customer_id"): "unknown customer C-9999: import it in a customers file first",
        ("6", "currency"): "customer C-1002 is invoiced in EUR",
        ("7", "invoice_number"): "invoice INV-2024-0001 was imported before",
        ("8", "due_date"): "2024-10-01 is before the issue date 2024-11-01",
    }


def test_progress_shows_completed_with_counters_and_a_short_lived_report_link(
    world, client, migrated
):
    # When staff read an import
    status, job = get(client, f"/imports/{migrated['receivables']}")

    # Then it is completed, counted, and links its error report for five minutes
    assert status == 200, job
    assert job["status"] == "completed"
    assert job["kind"] == "receivables"
    assert (job["total_rows"], job["processed"], job["succeeded"], job["failed"]) == (7, 7, 3, 4)
    assert job["uploaded_by"] == "stf_admin"
    assert job["source"]["key"] == f"imports/receivables/{migrated['receivables']}.csv"
    link = job["error_report"]
    assert link["key"] == f"imports/reports/{migrated['receivables']}-errors.csv"
    assert link["expires_in"] == 300
    assert "X-Amz-Expires=300" in link["url"] and link["key"] in link["url"]
    assert job["finished_at"] is not None

    # and the drop path's job is just as complete
    status, customers = get(client, f"/imports/{migrated['customers']}")
    assert (customers["status"], customers["succeeded"], customers["failed"]) == (
        "completed",
        2,
        2,
    )
    assert customers["source"]["key"] == "imports/customers/customers.csv"
    assert customers["uploaded_by"] is None


def test_the_error_rows_read_as_json_a_page_at_a_time(world, client, migrated):
    # When the errors are read two rows at a time
    path = f"/imports/{migrated['receivables']}/errors"
    status, first = get(client, f"{path}?limit=2")
    status_next, second = get(client, f"{path}?limit=2&cursor={first['next_cursor']}")

    # Then the pages follow each other, by row
    assert (status, status_next) == (200, 200)
    assert [(e["row"], e["field"]) for e in first["errors"]] == [
        (5, "customer_id"),
        (6, "currency"),
    ]
    assert [(e["row"], e["field"]) for e in second["errors"]] == [
        (7, "invoice_number"),
        (8, "due_date"),
    ]
    last = second["next_cursor"]
    assert last is None or get(client, f"{path}?limit=2&cursor={last}")[1]["errors"] == []
    # a cursor of another listing is refused
    assert get(client, f"{path}?cursor=bm90LWEtY3Vyc29y")[0] == 400


def test_importing_the_same_files_again_adds_nothing(world, client, migrated):
    # Given the state after the first import
    jobs_before = imports(world)
    invoices_before = entities(world, "Invoice")
    exposure_before = credit.get_exposure("C-1001")
    events_before = len(entities(world, "Event"))

    # When the same files arrive again: dropped under other names, and POSTed once more
    drop(world, "receivables", "receivables-again.csv", RECEIVABLES)
    drop(world, "customers", "customers.csv", CUSTOMERS)
    status, again = upload(client, "receivables", RECEIVABLES)
    world.pump.drain()

    # Then they name the same imports, and nothing changed: no job, counter, invoice or event
    assert status == 202
    assert again == {
        "import_id": migrated["receivables"],
        "kind": "receivables",
        "status": "completed",
        "status_url": f"/imports/{migrated['receivables']}",
    }
    assert imports(world) == jobs_before
    assert entities(world, "Invoice") == invoices_before
    assert credit.get_exposure("C-1001") == exposure_before
    assert len(entities(world, "Event")) == events_before


def test_an_import_emits_started_and_completed_on_the_bus_side(world, client, migrated):
    # Then every import has one ImportStarted and one ImportCompleted, from otc.imports
    for import_id in migrated.values():
        for detail_type in ("ImportStarted", "ImportCompleted"):
            [event] = [e for e in events(world, detail_type) if e["aggregate_id"] == import_id]
            assert event["source"] == "otc.imports"
    [completed] = [
        json.loads(e["detail"])["data"]
        for e in events(world, "ImportCompleted")
        if e["aggregate_id"] == migrated["stock"]
    ]
    assert (completed["succeeded"], completed["failed"], completed["kind"]) == (2, 2, "stock")
    # and each landed row has its domain event, marked as imported
    imported_customers = [json.loads(e["detail"])["data"] for e in events(world, "CustomerCreated")]
    assert {c["id"] for c in imported_customers} == {"C-1001", "C-1002"}
    assert all(c["import"]["import_id"] == migrated["customers"] for c in imported_customers)
    assert len(events(world, "InvoiceImported")) == 3
    # and everything went on to the bus: nothing waits for a retry or sits in a DLQ
    assert world.queue_depth("EventRecoveryQueue") == 0
    assert world.queue_depth("BusDeadLetterQueue") == 0


# --- at-least-once delivery ---------------------------------------------------------------------


def test_a_redelivered_row_message_changes_nothing(world, client):
    # Given the catalog, and a stock file whose chunk waits for the row worker
    upload(client, "catalog", CATALOG)
    world.pump.drain()
    world.session.client("s3").put_object(
        Bucket=_bucket(world), Key="imports/stock/count.csv", Body=STOCK.encode()
    )
    world.pump.pump_queue(consumer(world, "start_imports"))
    [message] = peek_rows(world)
    rows = consumer(world, "import_rows")

    # When the row worker gets the message three times (twice by hand, once from the queue)
    first = client.lambda_.invoke("import_rows", sqs_event([message], rows.queue_arn)).payload
    second = client.lambda_.invoke("import_rows", sqs_event([message], rows.queue_arn)).payload
    world.pump.drain()

    # Then the rows were applied once and counted once
    assert first == second == {"batchItemFailures": []}
    job = job_of(world, "count.csv")
    assert (job["status"], job["processed"], job["succeeded"], job["failed"]) == (
        "completed",
        4,
        2,
        2,
    )
    level = get(client, "/stock/MIG-1")[1]
    assert (level["on_hand"], level["version"]) == (100, 1)
    assert len(events(world, "StockLevelSet")) == 2
    assert len([e for e in events(world, "ImportCompleted")]) == 2  # catalog + stock


def test_rows_applied_before_a_crash_are_counted_once_when_the_chunk_comes_back(
    world, client, monkeypatch
):
    # Given a chunk whose rows landed but whose count was lost (the worker died in between)
    from shared.store import imports as store

    drop(world, "customers", "customers.csv", CUSTOMERS)
    count_chunk = store.count_chunk
    crashes = iter([True])

    def crash_once(*args: Any, **kwargs: Any) -> bool:
        if next(crashes, False):
            raise RuntimeError("Lambda timed out")
        return count_chunk(*args, **kwargs)

    monkeypatch.setattr(store, "count_chunk", crash_once)

    # When the receivables arrive and their chunk is retried after the crash
    status, answer = upload(client, "receivables", RECEIVABLES)
    world.pump.drain()

    # Then every row was applied once, each outcome counted once, and the job completed
    assert next(crashes, "crashed before") == "crashed before"
    assert status == 202
    status, job = get(client, f"/imports/{answer['import_id']}")
    assert (job["status"], job["processed"], job["succeeded"], job["failed"]) == (
        "completed",
        7,
        3,
        4,
    )
    assert len(entities(world, "Invoice")) == 3
    exposure = credit.get_exposure("C-1001")
    assert exposure is not None and exposure.open_receivables == Decimal("1500.50")
    assert len(events(world, "InvoiceImported")) == 3


def test_a_file_fans_out_in_chunks_and_completes_once_every_chunk_is_counted(
    world, client, monkeypatch
):
    # Given chunks of two rows (25 in production: moto copies the table on every transaction,
    # so big files make slow tests; tests/unit checks the production chunking)
    from shared.domain import imports as domain

    monkeypatch.setattr(domain, "CHUNK_ROWS", 2)

    # When a stock file of five rows is dropped
    drop(
        world,
        "stock",
        "big.csv",
        "sku,on_hand\nWIDGET-1,10\nGADGET-2,20\nWIDGET-1,11\nX,1\nGADGET-2,21\n",
    )

    # Then three chunks were counted, and the job completed with every row, in file order
    job = job_of(world, "big.csv")
    assert (job["chunks"], job["processed"], job["succeeded"], job["failed"], job["status"]) == (
        3,
        5,
        4,
        1,
        "completed",
    )
    chunks = [i for i in entities(world, "ImportChunk") if i["pk"] == f"IMPORT#{job['import_id']}"]
    assert [(int(c["succeeded"]), int(c["failed"])) for c in chunks] == [(2, 0), (1, 1), (1, 0)]
    assert get(client, "/stock/WIDGET-1")[1]["on_hand"] == 11
    assert get(client, "/stock/GADGET-2")[1]["on_hand"] == 21
    assert [(r["row"], r["field"]) for r in report(world, job["import_id"])] == [("5", "sku")]


# --- files rejected whole -------------------------------------------------------------------------


def test_a_dropped_file_with_a_wrong_header_is_rejected_whole_with_the_reason(world, client):
    # Given a customers file exported with the wrong columns
    before = len(entities(world, "Customer"))
    content = "customer_id,name,email,currency\nC-2001,Hooli,ap@hooli.example,USD\n"

    # When it is dropped
    drop(world, "customers", "wrong.csv", content)

    # Then its job failed, says why, and nothing was imported
    job = job_of(world, "wrong.csv")
    status, shown = get(client, f"/imports/{job['import_id']}")
    assert (status, shown["status"], shown["total_rows"]) == (200, "failed", None)
    assert "missing columns: legal_name, billing_email" in shown["reason"]
    assert "unknown columns: name, email" in shown["reason"]
    assert shown["error_report"] is None
    assert len(entities(world, "Customer")) == before
    assert world.queue_depth("ImportRowsQueue") == 0
    [rejected] = [
        e for e in events(world, "ImportRejected") if e["aggregate_id"] == job["import_id"]
    ]
    assert json.loads(rejected["detail"])["data"]["reason"] == shown["reason"]


def test_a_posted_file_with_a_wrong_header_is_refused_at_once(world, client):
    # When a stock file with a catalog header is POSTed
    status, problem = upload(client, "stock", CATALOG)

    # Then the API refuses it with the reason, and stores nothing
    assert status == 422
    assert problem["type"].endswith("/invalid-import-file")
    assert "missing columns: on_hand" in problem["detail"]
    listed = world.session.client("s3").list_objects_v2(Bucket=_bucket(world), Prefix="imports/")
    assert listed.get("KeyCount", 0) == 0
    assert imports(world) == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"sku,on_hand\nMIG-1,\xff\xfe\n", "not UTF-8"),
        (b"", "the file is empty"),
        (b'sku,on_hand\n"MIG-1,5\n' + b"x" * 9000 + b"\n", "unbalanced quote"),
    ],
)
def test_files_that_are_not_csv_text_are_rejected_whole(world, client, content, reason):
    # When such a file is dropped
    drop(world, "stock", "broken.csv", content)

    # Then the job failed with the reason
    job = job_of(world, "broken.csv")
    assert job["status"] == "failed"
    assert reason in job["reason"]
    # and the API refuses the same content at once
    status, problem = upload(client, "stock", content)
    assert (status, problem["type"].rsplit("/", 1)[1]) == (422, "invalid-import-file")


def test_a_file_with_only_a_header_completes_with_an_empty_report(world, client):
    drop(world, "catalog", "empty.csv", "sku,name,unit,tax_category,currency,unit_price\r\n")
    job = job_of(world, "empty.csv")
    assert (job["status"], job["total_rows"], job["processed"]) == ("completed", 0, 0)
    assert report(world, job["import_id"]) == []


def test_files_outside_the_import_kinds_are_ignored(world, client):
    drop(world, "invoices", "x.csv", STOCK)  # no rule matches imports/invoices/
    world.session.client("s3").put_object(
        Bucket=_bucket(world), Key="imports/reports/x-errors.csv", Body=b"row,field,reason\n"
    )
    world.pump.drain()
    assert imports(world) == {}


# --- the API --------------------------------------------------------------------------------------


def test_partners_and_auditors_may_not_import(world, client):
    # Given an auditor
    _, auditor = new_staff(client, "auditor")

    # When a partner or the auditor POSTs a file, then both are forbidden
    for key in (PARTNER_KEY, auditor):
        status, problem = upload(client, "stock", STOCK, key=key)
        assert (status, problem["type"].rsplit("/", 1)[1]) == (403, "forbidden")
    assert imports(world) == {}
    # and without a key the caller is not even identified
    response = client.http.post(
        "/imports/stock",
        headers={"Content-Type": "text/csv", "Idempotency-Key": "k"},
        body=STOCK,
    )
    assert response.status_code == 401


def test_staff_may_follow_an_import_and_partners_may_not(world, client):
    # Given an import
    _, auditor = new_staff(client, "auditor")
    status, answer = upload(client, "stock", "sku,on_hand\nWIDGET-1,900\n")
    world.pump.drain()

    # Then the auditor may read it, a partner may not, and an unknown id is 404
    assert status == 202
    assert get(client, f"/imports/{answer['import_id']}", key=auditor)[1]["status"] == "completed"
    assert get(client, f"/imports/{answer['import_id']}", key=PARTNER_KEY)[0] == 403
    assert get(client, f"/imports/{answer['import_id']}/errors", key=PARTNER_KEY)[0] == 403
    assert get(client, "/imports/imp_00000000000000000000000000000000")[0] == 404
    assert get(client, "/imports/stock")[0] == 404


def test_an_upload_answers_202_with_where_to_follow_it(world, client):
    # When a file is POSTed
    response = client.http.post(
        "/imports/stock",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "X-Api-Key": ADMIN_KEY,
            "Idempotency-Key": "stock-count-1",
        },
        body="sku,on_hand\nWIDGET-1,900\n",
    )

    # Then it is accepted, pending, and the file sits where a drop would
    body = json.loads(response.body)
    assert response.status_code == 202
    assert body["status"] == "pending"
    assert response.headers["Location"] == body["status_url"] == f"/imports/{body['import_id']}"
    stored = world.session.client("s3").get_object(
        Bucket=_bucket(world), Key=f"imports/stock/{body['import_id']}.csv"
    )
    assert stored["Body"].read() == b"sku,on_hand\nWIDGET-1,900\n"
    assert stored["Metadata"] == {"uploaded-by": "stf_admin"}
    # and the pending job turns completed once the workers ran
    assert get(client, body["status_url"])[1]["status"] == "pending"
    world.pump.drain()
    assert get(client, body["status_url"])[1]["status"] == "completed"
    assert get(client, "/stock/WIDGET-1")[1]["on_hand"] == 900


def test_an_upload_takes_an_idempotency_key_bound_to_the_file(world, client):
    first = upload(client, "stock", "sku,on_hand\nWIDGET-1,900\n", idempotency_key="k-1")
    replay = upload(client, "stock", "sku,on_hand\nWIDGET-1,900\n", idempotency_key="k-1")
    other = upload(client, "stock", "sku,on_hand\nWIDGET-1,901\n", idempotency_key="k-1")
    assert first == replay
    assert other[0] == 422 and other[1]["type"].endswith("/idempotency-key-reused")
    missing = client.http.post(
        "/imports/stock",
        headers={"Content-Type": "text/csv", "X-Api-Key": ADMIN_KEY},
        body="sku,on_hand\nWIDGET-1,900\n",
    )
    assert missing.status_code == 400


def test_an_upload_must_be_csv_of_a_known_kind(world, client):
    assert upload(client, "stock", STOCK, content_type="application/json")[0] == 415
    status, problem = upload(client, "invoices", STOCK)
    assert status == 400 and problem["errors"][0]["pointer"] == "#/path/import_ref"


# --- the sample events ----------------------------------------------------------------------------

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE_STOCK = b"sku,on_hand\nWIDGET-1,40\nGADGET-2,12\n"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_the_s3_sample_is_the_event_the_rule_matches_and_the_file_worker_takes():
    from aws_lambda_powertools.utilities.parser.models import (
        S3EventNotificationEventBridgeModel,
        SqsModel,
    )

    from shared.adapters.bus_events import ObjectCreated
    from shared.domain.imports import kind_of_key

    envelope = S3EventNotificationEventBridgeModel.model_validate(
        sample("eventbridge/s3-object-created-import.json")
    )
    [record] = SqsModel.model_validate(sample("sqs/import-files-batch.json")).Records
    assert S3EventNotificationEventBridgeModel.model_validate_json(str(record.body)) == envelope
    assert (envelope.source, envelope.detail_type) == ("aws.s3", "Object Created")
    assert kind_of_key(envelope.detail.object.key) == "stock"
    assert envelope.detail.object.size == len(SAMPLE_STOCK)
    # and the workers' own small model reads the same bucket and key from it
    dropped = ObjectCreated.model_validate_json(str(record.body))
    assert (dropped.detail.bucket.name, dropped.detail.object.key) == (
        envelope.detail.bucket.name,
        envelope.detail.object.key,
    )


def test_the_sample_batches_drive_the_workers(world, client):
    # Given the sample's file in the bucket (the sample names the dev bucket; this is local)
    files = sample("sqs/import-files-batch.json")
    envelope = json.loads(files["Records"][0]["body"])
    envelope["detail"]["bucket"]["name"] = _bucket(world)
    files["Records"][0]["body"] = json.dumps(envelope)
    world.session.client("s3").put_object(
        Bucket=_bucket(world), Key=envelope["detail"]["object"]["key"], Body=SAMPLE_STOCK
    )

    # When the file worker, then the row worker, get the sample batches
    started = client.lambda_.invoke("start_imports", files).payload
    rows = client.lambda_.invoke("import_rows", sample("sqs/import-rows-batch.json")).payload
    world.pump.drain()  # what S3 and the file worker sent meanwhile: the same again

    # Then the sample chunk was this file's, and its rows landed once
    assert started == rows == {"batchItemFailures": []}
    [job] = imports(world).values()
    chunk = json.loads(sample("sqs/import-rows-batch.json")["Records"][0]["body"])
    assert job["import_id"] == chunk["import_id"]
    assert (job["status"], job["processed"], job["succeeded"]) == ("completed", 2, 2)
    assert get(client, "/stock/WIDGET-1")[1]["on_hand"] == 40
    assert get(client, "/stock/GADGET-2")[1]["on_hand"] == 12
    assert len(events(world, "StockLevelSet")) == 2
