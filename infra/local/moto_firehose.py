"""Firehose's dynamic partitioning on moto's delivery to S3, as the lake's streams use it.

moto (5.2) writes each PutRecord(Batch) call to one object under the stream's ``Prefix`` taken
literally, plus ``YYYY/MM/DD/HH/``. Firehose instead evaluates the prefix's expressions per
record: ``!{partitionKeyFromQuery:<key>}`` from the record's JSON (the lake's streams extract
``dt`` with the JQ query ``{dt: .dt}``) and ``!{timestamp:yyyy-MM-dd}`` from the arrival time,
and adds no time path of its own when the prefix has expressions. ``partitioned_deliveries``
does the same, so the local lake lands at ``lake/<table>/dt=<day>/`` like the one on AWS (in
JSON lines: moto converts no record format, the local readers read JSON).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

_QUERY_KEY = re.compile(r"!\{partitionKeyFromQuery:(\w+)\}")
_TIMESTAMP = re.compile(r"!\{timestamp:yyyy-MM-dd\}")


def object_prefix(prefix: str, record: bytes, now: datetime) -> str:
    """The prefix with its expressions evaluated for one record."""
    fields: dict[str, Any] = {}
    if _QUERY_KEY.search(prefix):
        fields = json.loads(record)
    evaluated = _QUERY_KEY.sub(lambda match: str(fields[match.group(1)]), prefix)
    return _TIMESTAMP.sub(now.strftime("%Y-%m-%d"), evaluated)


@contextmanager
def partitioned_deliveries() -> Iterator[None]:
    from moto.firehose.models import FirehoseBackend
    from moto.s3.models import s3_backends

    put_s3_records = FirehoseBackend.put_s3_records

    def partitioned(
        backend: Any,
        stream: str,
        version_id: str,
        s3_destination: dict[str, Any],
        records: list[dict[str, bytes]],
    ) -> list[dict[str, str]]:
        prefix = s3_destination.get("Prefix", "")
        if "!{" not in prefix:
            return put_s3_records(backend, stream, version_id, s3_destination, records)
        now = datetime.now(UTC)
        grouped: dict[str, list[bytes]] = defaultdict(list)
        for record in records:
            grouped[object_prefix(prefix, record["Data"], now)].append(record["Data"])
        bucket = s3_destination["BucketARN"].split(":")[-1]
        stamp = now.strftime("%Y-%m-%d-%H-%M-%S")
        for where, data in grouped.items():
            key = f"{where}{stream}-{version_id}-{stamp}-{uuid.uuid4()}"
            s3_backends[backend.account_id][backend.partition].put_object(
                bucket, key, b"".join(data)
            )
        return [{"RecordId": str(uuid.uuid4())} for _ in records]

    with mock.patch.object(FirehoseBackend, "put_s3_records", partitioned):
        yield
