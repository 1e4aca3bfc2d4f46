"""Firehose's limits and retries, and the JSON records the lake's rows become."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.adapters import firehose
from shared.lake import records, tables


def test_calls_hold_at_most_500_records_and_4_mib() -> None:
    # Given 1,200 small records, then 10 records of 900 KB
    small = [b"x" * 10] * 1200
    large = [b"y" * 900_000] * 10

    # Then they go in order, in calls within both limits
    assert [len(chunk) for chunk in firehose.chunks(small)] == [500, 500, 200]
    chunks = list(firehose.chunks(large))
    assert all(sum(map(len, chunk)) <= firehose.MAX_BYTES_PER_CALL for chunk in chunks)
    assert [record for chunk in chunks for record in chunk] == large


def test_a_record_over_firehose_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        list(firehose.chunks([b"z" * (firehose.MAX_RECORD_BYTES + 1)]))


class _Firehose:
    """Refuses the first record of each call ``refusals`` times."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[list[bytes]] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, Any]]) -> Any:
        data = [record["Data"] for record in Records]
        self.calls.append(data)
        refuse = self.refusals > 0
        self.refusals -= 1
        return {
            "FailedPutCount": int(refuse),
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException"} if refuse and i == 0 else {}
                for i in range(len(data))
            ],
        }


def test_refused_records_are_put_again_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Firehose refusing one record twice
    fake = _Firehose(refusals=2)
    monkeypatch.setattr(firehose.aws, "client", lambda service: fake)
    monkeypatch.setattr(firehose, "BACKOFF_SECONDS", 0)

    # When three records are put
    firehose.put_records("lake-journal", [b"a", b"b", b"c"])

    # Then the refused record alone is put again until accepted
    assert fake.calls == [[b"a", b"b", b"c"], [b"a"], [b"a"]]


def test_records_refused_every_time_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _Firehose(refusals=99)
    monkeypatch.setattr(firehose.aws, "client", lambda service: fake)
    monkeypatch.setattr(firehose, "BACKOFF_SECONDS", 0)
    with pytest.raises(firehose.DeliveryError):
        firehose.put_records("lake-journal", [b"a"])
    assert len(fake.calls) == firehose.ATTEMPTS


def test_a_row_is_one_json_line_of_its_columns_and_its_day() -> None:
    # Given a document row recorded just before midnight UTC
    row = {
        "invoice_id": "inv_1",
        "customer_id": "cus_acme",
        "number": "INV-1",
        "currency": "EUR",
        "kind": "invoice",
        "issued_on": date(2026, 3, 2),
        "due_on": None,
        "total": Decimal("71.5000"),
        "credited_invoice_id": None,
        "legacy": False,
        "open_amount": Decimal(0),
        "recorded_at": datetime(2026, 3, 2, 23, 59, 59, 999_999, tzinfo=UTC),
    }
    assert tables.is_complete("documents", row)

    # When encoded
    line = records.encode("documents", row)

    # Then one line: exact decimals as text, ISO dates and instants, and its partition
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert list(record) == [*tables.column_names("documents"), "dt"]
    assert record["total"] == "71.5000"
    assert record["issued_on"] == "2026-03-02"
    assert record["recorded_at"] == "2026-03-02T23:59:59.999Z"
    assert record["dt"] == "2026-03-02"
    assert record["legacy"] is False


def test_an_event_lands_in_the_day_it_occurred_with_its_data_as_text() -> None:
    row = tables.event_row(
        event_id="evt_1",
        detail_type="OrderConfirmed",
        source="otc.orders",
        aggregate_id="ord_1",
        occurred_at=datetime(2026, 3, 3, 0, 0, tzinfo=UTC),
        actor="system:confirm_orders",
        data={"b": 1, "a": [Decimal(1).to_eng_string()]},
    )
    record = json.loads(records.encode("events", row))
    assert record["dt"] == "2026-03-03"
    assert json.loads(record["data"]) == {"a": ["1"], "b": 1}
