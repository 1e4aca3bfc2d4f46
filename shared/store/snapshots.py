"""Where the newest report snapshot of each kind is: one pointer item per kind.

``REPORT#<kind>`` / ``LATEST`` holds the day of the newest snapshot and the keys of its objects
in the documents bucket. The snapshot job writes it after the objects, so a reader that finds
the pointer finds its objects. It only moves forward: re-taking an older day (a backfill)
rewrites that day's objects but leaves the pointer on the newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from botocore.exceptions import ClientError

from shared import clock
from shared.adapters import aws
from shared.store import table
from shared.store.table import to_dynamo

LATEST_SK = "LATEST"


@dataclass(frozen=True)
class Pointer:
    kind: str
    day: date
    json_key: str
    csv_key: str
    taken_at: datetime


def pointer_key(kind: str) -> tuple[str, str]:
    return f"REPORT#{kind}", LATEST_SK


def point_to(pointer: Pointer) -> bool:
    """Point ``kind`` at this snapshot unless a newer day's is pointed at (then ``False``)."""
    pk, sk = pointer_key(pointer.kind)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "ReportPointer",
        "kind": pointer.kind,
        "day": pointer.day.isoformat(),
        "json_key": pointer.json_key,
        "csv_key": pointer.csv_key,
        "taken_at": clock.iso(pointer.taken_at),
    }
    try:
        aws.client("dynamodb").put_item(
            TableName=table.table_name(),
            Item=to_dynamo(item),
            ConditionExpression="attribute_not_exists(pk) OR #day <= :day",
            ExpressionAttributeNames={"#day": "day"},
            ExpressionAttributeValues=to_dynamo({":day": item["day"]}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def latest(kind: str) -> Pointer | None:
    item = table.get(*pointer_key(kind), consistent=False)
    if item is None:
        return None
    return Pointer(
        kind=item["kind"],
        day=date.fromisoformat(item["day"]),
        json_key=item["json_key"],
        csv_key=item["csv_key"],
        taken_at=clock.parse(item["taken_at"]),
    )
