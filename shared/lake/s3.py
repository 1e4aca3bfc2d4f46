"""The lake's files in S3: ``<prefix><table>/dt=yyyy-mm-dd/<file>`` (the stack's lake prefix is
``lake/``), copied to a local folder DuckDB reads (shared/lake/duck.py). Only Firehose writes
the lake.

DuckDB reads the copy rather than S3 itself: its httpfs extension is a download of its own
(nothing on a machine without internet, nor on one talking to moto), and a report reads every
object of the partitions it bounds anyway. ``client`` is a boto3 S3 client
(shared.adapters.aws.client("s3")).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

PREFIX = "lake/"


def download(client: Any, bucket: str, into: Path, prefix: str = PREFIX) -> Path:
    """Copy every object under ``prefix`` to ``into`` (its key below ``prefix`` as the path);
    ``into``, a lake folder."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for listed in page.get("Contents", ()):
            relative = PurePosixPath(listed["Key"][len(prefix) :])
            if not relative.parts or ".." in relative.parts or listed["Key"].endswith("/"):
                continue  # folders, and nothing may land outside ``into``
            target = into.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            body = client.get_object(Bucket=bucket, Key=listed["Key"])["Body"]
            target.write_bytes(body.read())
    return into
