"""The single DynamoDB table: typed item conversion, reads, and conditional transactions.

Long text may be stored compressed (``compressed``: zlib, a binary attribute; DynamoDB bills a
write by the KB, and JSON shrinks about threefold). The table holds no other binary attribute, so
``from_dynamo`` reads every binary attribute back as the text it holds: readers never see the
stored form, and text stored plain (written before, or by hand) reads the same.
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.adapters import aws
from shared.config import settings
from shared.store import read_ahead

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]
TRANSACTION_LIMIT = 100  # the writes one TransactWriteItems takes (DynamoDB refuses more)


def to_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def from_dynamo(image: Mapping[str, Any]) -> Item:
    return {
        key: _text(value["B"]) if "B" in value else _deserializer.deserialize(value)
        for key, value in image.items()
    }


def compressed(text: str) -> bytes:
    """``text`` as stored compressed (``from_dynamo`` reads it back as text)."""
    return zlib.compress(text.encode())


def _text(stored: bytes | str) -> str:
    """The text a binary attribute holds: bytes from the SDK, base64 in a Lambda stream event."""
    raw = base64.b64decode(stored) if isinstance(stored, str) else bytes(stored)
    return zlib.decompress(raw).decode()


@dataclass(frozen=True)
class Put:
    """Put one item. ``condition`` guards it (e.g. the version it replaces, or that it is new).

    ``table`` names another table than the single one (a record a transaction writes beside
    its state, e.g. an Idempotency-Key's answer).
    """

    item: Item
    condition: str | None = None
    values: Item = field(default_factory=dict)
    table: str | None = None

    @classmethod
    def new(cls, item: Item) -> Put:
        return cls(item=item, condition="attribute_not_exists(pk)")

    @classmethod
    def replacing(cls, item: Item, version: int) -> Put:
        return cls(item=item, condition="version = :expected", values={":expected": version})

    def to_request(self, table: str) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self.table or table, "Item": to_dynamo(self.item)}
        if self.condition:
            request["ConditionExpression"] = self.condition
        if self.values:
            request["ExpressionAttributeValues"] = to_dynamo(self.values)
        return {"Put": request}


@dataclass(frozen=True)
class Update:
    """Update one item in place (counters, stock levels), guarded by ``condition``."""

    key: tuple[str, str]
    expression: str
    condition: str | None = None
    values: Item = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def to_request(self, table: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table,
            "Key": to_dynamo({"pk": self.key[0], "sk": self.key[1]}),
            "UpdateExpression": self.expression,
        }
        if self.condition:
            request["ConditionExpression"] = self.condition
        if self.values:
            request["ExpressionAttributeValues"] = to_dynamo(self.values)
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        return {"Update": request}


@dataclass(frozen=True)
class Delete:
    """Delete one item (no error if it is already gone), guarded by ``condition`` if given."""

    key: tuple[str, str]
    condition: str | None = None
    values: Item = field(default_factory=dict)

    def to_request(self, table: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table,
            "Key": to_dynamo({"pk": self.key[0], "sk": self.key[1]}),
        }
        if self.condition:
            request["ConditionExpression"] = self.condition
        if self.values:
            request["ExpressionAttributeValues"] = to_dynamo(self.values)
        return {"Delete": request}


Write = Put | Update | Delete


class TransactionConflictError(Exception):
    """A condition in the transaction failed; ``failed`` holds the indexes of the failed writes."""

    def __init__(self, failed: Sequence[int]) -> None:
        super().__init__(f"transaction conditions failed at {list(failed)}")
        self.failed = tuple(failed)


def table_name() -> str:
    return settings().table_name


def get(pk: str, sk: str, *, consistent: bool = True) -> Item | None:
    taken, item = read_ahead.take((pk, sk))
    if taken:
        return item
    answer = aws.client("dynamodb").get_item(
        TableName=table_name(), Key=to_dynamo({"pk": pk, "sk": sk}), ConsistentRead=consistent
    )
    return from_dynamo(answer["Item"]) if "Item" in answer else None


def get_many(keys: Iterable[tuple[str, str]]) -> list[Item]:
    """BatchGetItem in chunks of 100, retrying what DynamoDB leaves unprocessed."""
    found: list[Item] = []
    unique = []
    for key in dict.fromkeys(keys):
        taken, item = read_ahead.take(key)
        if not taken:
            unique.append(key)
        elif item is not None:
            found.append(item)
    for start in range(0, len(unique), 100):
        pending: dict[str, Any] = {
            table_name(): {
                "Keys": [to_dynamo({"pk": pk, "sk": sk}) for pk, sk in unique[start : start + 100]],
                "ConsistentRead": True,
            }
        }
        while pending:
            answer = aws.client("dynamodb").batch_get_item(RequestItems=pending)
            found.extend(from_dynamo(raw) for raw in answer["Responses"].get(table_name(), []))
            pending = answer.get("UnprocessedKeys") or {}
    return found


@contextmanager
def reading_ahead(keys: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Read these items in one call now; ``get``/``get_many`` take them from that read, once
    each, until the block ends (see ``shared.store.read_ahead``)."""
    wanted = list(dict.fromkeys(keys))
    found = {(item["pk"], item["sk"]): item for item in get_many(wanted)}
    with read_ahead.holding({key: found.get(key) for key in wanted}):
        yield


def query(pk: str, *, sk_below: str | None = None, limit: int = 100) -> list[Item]:
    expression = "pk = :pk" + (" AND sk < :below" if sk_below else "")
    values: Item = {":pk": pk, **({":below": sk_below} if sk_below else {})}
    answer = aws.client("dynamodb").query(
        TableName=table_name(),
        KeyConditionExpression=expression,
        ExpressionAttributeValues=to_dynamo(values),
        Limit=limit,
    )
    return [from_dynamo(raw) for raw in answer["Items"]]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    cursor: str | None  # opaque; pass it back for the next page, None when there is no more


class InvalidCursorError(ValueError):
    """The cursor was not one this API handed out."""


def _encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(from_dynamo(last_key)).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
            raise ValueError(cursor)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise InvalidCursorError(cursor) from error
    return to_dynamo(key)


def query_page(
    partition: str,
    *,
    index: str | None = None,
    sk_from: str | None = None,
    sk_to: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    descending: bool = False,
    consistent: bool = False,
) -> Page:
    """One page of a partition (of the table or of a GSI named gsiN with keys gsiNpk/gsiNsk);
    ``consistent`` reads the table's partition strongly consistent (a GSI cannot)."""
    pk_name, sk_name = (f"{index}pk", f"{index}sk") if index else ("pk", "sk")
    expression = "#pk = :pk"
    values: Item = {":pk": partition}
    if sk_from is not None and sk_to is not None:
        expression += " AND #sk BETWEEN :from AND :to"
        values |= {":from": sk_from, ":to": sk_to}
    elif sk_from is not None:
        expression += " AND #sk >= :from"
        values[":from"] = sk_from
    elif sk_to is not None:
        expression += " AND #sk <= :to"
        values[":to"] = sk_to
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": expression,
        "ExpressionAttributeNames": {
            "#pk": pk_name,
            **({"#sk": sk_name} if "#sk" in expression else {}),
        },
        "ExpressionAttributeValues": to_dynamo(values),
        "Limit": limit,
        "ScanIndexForward": not descending,
    }
    if index:
        request["IndexName"] = index
    if consistent:
        request["ConsistentRead"] = True
    if cursor:
        request["ExclusiveStartKey"] = _decode_cursor(cursor)
    answer = aws.client("dynamodb").query(**request)
    last = answer.get("LastEvaluatedKey")
    return Page(
        items=[from_dynamo(raw) for raw in answer["Items"]],
        cursor=_encode_cursor(last) if last else None,
    )


def scan(filter_expression: str, names: dict[str, str], values: Item) -> Iterator[Item]:
    """Every item of the table matching ``filter_expression``: it reads the WHOLE table, so only
    for an operator's rare question (never on a path whose cost should follow its work)."""
    pages = (
        aws.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=table_name(),
            FilterExpression=filter_expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_dynamo(values),
        )
    )
    for page in pages:
        yield from (from_dynamo(raw) for raw in page["Items"])


def scan_page(
    filter_expression: str,
    names: dict[str, str],
    values: Item,
    *,
    examined: int,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """At most ``limit`` items matching ``filter_expression`` among the next ``examined`` items
    of the table (a page may hold none and still have a cursor): for an operator's rare
    question, in steps of bounded cost."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "FilterExpression": filter_expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_dynamo(values),
        "Limit": examined,
    }
    if cursor:
        start = _decode_cursor(cursor)
        if set(start) != {"pk", "sk"}:  # a Scan resumes after a key of the table
            raise InvalidCursorError(cursor)
        request["ExclusiveStartKey"] = start
    answer = aws.client("dynamodb").scan(**request)
    found, last = answer["Items"], answer.get("LastEvaluatedKey")
    if len(found) > limit:  # resume after the last item given
        found, last = found[:limit], {"pk": found[limit - 1]["pk"], "sk": found[limit - 1]["sk"]}
    return Page(
        items=[from_dynamo(raw) for raw in found],
        cursor=_encode_cursor(last) if last else None,
    )


def customer_page(
    customer_id: str,
    kind: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """One page of a customer's items of one ``kind``, newest first.

    Items a customer owns are indexed on gsi1 as ``CUSTOMER#<id>`` / ``<KIND>#<when>#...``;
    ``since`` and ``until`` (ISO dates or timestamps, both inclusive) bound ``<when>``.
    """
    prefix = f"{kind}#"
    return query_page(
        f"CUSTOMER#{customer_id}",
        index="gsi1",
        sk_from=f"{prefix}{since}" if since else prefix,
        sk_to=f"{prefix}{until}~" if until else f"{prefix}~",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def status_page(
    partition: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    descending: bool = False,
) -> Page:
    """One page of a status partition of gsi2, whose sort keys start with a date.

    ``since`` and ``until`` (ISO dates, both inclusive) bound that date.
    """
    return query_page(
        partition,
        index="gsi2",
        sk_from=since,
        sk_to=f"{until}~" if until else None,
        limit=limit,
        cursor=cursor,
        descending=descending,
    )


def delete_many(keys: Iterable[tuple[str, str]]) -> None:
    """BatchWriteItem deletes in chunks of 25, retrying what DynamoDB leaves unprocessed."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 25):
        pending: dict[str, Any] = {
            table_name(): [
                {"DeleteRequest": {"Key": to_dynamo({"pk": pk, "sk": sk})}}
                for pk, sk in unique[start : start + 25]
            ]
        }
        while pending:
            answer = aws.client("dynamodb").batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}


def request_token() -> str:
    """The ClientRequestToken of one transaction: new for each call, the same on its re-sends.

    The SDK re-sends a transaction after a timeout (its standard retry mode) with the same
    token, and DynamoDB may have applied the first send: it then answers the re-send as the
    success it was (for ten minutes) instead of judging its conditions against its own writes.
    The token is per call, neither a digest of the writes (two callers making the very same
    move, e.g. reserving one unit each, must both be judged) nor the request's id (a request
    that loses a race plans again and writes another transaction).
    """
    return str(uuid.uuid4())


def transact(writes: Sequence[Write]) -> None:
    """Write all or nothing; a failed condition raises ``TransactionConflictError``."""
    items = [write.to_request(table_name()) for write in writes]
    try:
        aws.client("dynamodb").transact_write_items(
            TransactItems=items, ClientRequestToken=request_token()
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
        if not failed:
            raise
        raise TransactionConflictError(failed) from error
