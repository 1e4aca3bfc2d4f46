"""Which customer e-mails went out: one marker per (event, recipient), claimed before sending.

A marker is ``sending`` (claimed by one attempt, with a random token and a lease) or ``sent``
(with SES's MessageId). Only the holder of the token may mark it sent or release it. A claim
whose holder vanished (a Lambda that timed out or crashed) may be taken over once its lease has
passed; the lease outlasts the function timeout and is shorter than the queue's visibility
timeout, so the message's own retry finds it takeable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from shared import clock
from shared.adapters import aws
from shared.observability import logger
from shared.store import table
from shared.store.table import Item, Put, Update, to_dynamo

# Outlives the bus archive's retention (400 days): replaying the archive never e-mails twice.
NOTIFIED_TTL = timedelta(days=400)
# Longer than the function timeout (60 s), shorter than the queue's visibility timeout (360 s).
CLAIM_LEASE = timedelta(minutes=3)
# Tries at recording an e-mail SES accepted (each one botocore's own retries deep).
MARK_ATTEMPTS = 3

SENDING = "sending"
SENT = "sent"


@dataclass(frozen=True)
class Claim:
    """The right to send one e-mail, held by one attempt."""

    key: tuple[str, str]
    token: str


def marker_key(event_id: str, recipient: str) -> tuple[str, str]:
    return f"NOTIFIED#{event_id}", f"TO#{recipient.strip().lower()}"


def _claim_item(event_id: str, recipient: str, detail_type: str, now: datetime) -> Item:
    key = marker_key(event_id, recipient)
    return {
        "pk": key[0],
        "sk": key[1],
        "entity": "Notification",
        "event_id": event_id,
        "detail_type": detail_type,
        "recipient": recipient,
        "status": SENDING,
        "claim_token": uuid.uuid4().hex,
        "claimed_at": clock.iso(now),
        "expires_at": int((now + NOTIFIED_TTL).timestamp()),
    }


def claiming(event_id: str, recipient: str, *, detail_type: str) -> tuple[Put, Claim]:
    """A claim of a new e-mail as a write of the transaction that records what it says: the
    e-mail's record and its claim are then made together (the write is refused if a marker
    exists). Whoever holds the claim sends with ``send_claimed``."""
    item = _claim_item(event_id, recipient, detail_type, clock.now())
    return Put.new(item), Claim(key=(item["pk"], item["sk"]), token=item["claim_token"])


def claim(event_id: str, recipient: str, *, detail_type: str) -> Claim | None:
    """Claim the sending of this e-mail; ``None`` when it was sent or another attempt holds it.

    The claim succeeds on a new marker, or on a ``sending`` marker whose lease has passed.
    """
    now = clock.now()
    item = _claim_item(event_id, recipient, detail_type, now)
    key, token = (item["pk"], item["sk"]), item["claim_token"]
    guard = "attribute_not_exists(pk) OR (attribute_not_exists(message_id) AND claimed_at < :stale)"
    if not _write(
        "put_item",
        Item=to_dynamo(item),
        ConditionExpression=guard,
        ExpressionAttributeValues=to_dynamo({":stale": clock.iso(now - CLAIM_LEASE)}),
        ours=lambda found: found.get("claim_token") == token,
    ):
        return None
    return Claim(key=key, token=token)


def sent_update(held: Claim, message_id: str) -> Update:
    """The claimed marker ``sent`` with SES's MessageId, refused if the claim was taken over."""
    return Update(
        key=held.key,
        expression="SET #status = :sent, message_id = :message, sent_at = :at",
        condition="claim_token = :token",
        names={"#status": "status"},
        values={
            ":sent": SENT,
            ":message": message_id,
            ":at": clock.iso(clock.now()),
            ":token": held.token,
        },
    )


def mark_sent(held: Claim, message_id: str) -> bool:
    """Record the send; ``False`` if the claim was taken over meanwhile (the lease ran out)."""
    request = sent_update(held, message_id).to_request(table.table_name())["Update"]
    del request["TableName"]
    return _write("update_item", **request)


def release(held: Claim) -> None:
    """Give the claim up (the send failed), so the retry may claim it at once."""
    _write(
        "delete_item",
        Key=_key(held),
        ConditionExpression="claim_token = :token",
        ExpressionAttributeValues=to_dynamo({":token": held.token}),
    )


def send_once(
    event_id: str,
    recipient: str,
    *,
    detail_type: str,
    send: Callable[[], str],
    mark: Callable[[Claim, str], bool] | None = None,
) -> str | None:
    """Run ``send`` (which returns SES's MessageId) at most once per (event, recipient).

    Claims the e-mail, sends, marks it sent; a failed send releases the claim and raises, so the
    message's retry claims afresh. ``None`` when it was sent before or another attempt holds it.
    ``mark``: as ``send_claimed``'s.
    """
    held = claim(event_id, recipient, detail_type=detail_type)
    if held is None:
        return None
    return send_claimed(held, event_id, detail_type=detail_type, send=send, mark=mark or mark_sent)


def send_claimed(
    held: Claim,
    event_id: str,
    *,
    detail_type: str,
    send: Callable[[], str],
    mark: Callable[[Claim, str], bool] = mark_sent,
) -> str:
    """Send the e-mail whose claim ``held`` is, then ``mark`` it sent (``mark_sent``, or a
    transaction with it that records the send elsewhere too; ``False``: taken over). A failed
    send releases the claim and raises."""
    try:
        message_id = send()
    except Exception:
        release(held)
        logger.exception(
            "sending the e-mail failed; released for a retry",
            extra={"event_id": event_id, "detail_type": detail_type},
        )
        raise
    for attempt in range(1, MARK_ATTEMPTS + 1):
        # The e-mail is out: failing now would have the message retried, and the retry would
        # send it again once the lease has passed. Marking it sent is worth a few more tries.
        try:
            if not mark(held, message_id):
                logger.warning(
                    "claim taken over while sending",
                    extra={"event_id": event_id, "detail_type": detail_type, "message": message_id},
                )
            break
        except Exception:
            if attempt == MARK_ATTEMPTS:
                logger.exception(
                    "e-mail sent but not marked sent; a delivery after the lease sends it again",
                    extra={"event_id": event_id, "detail_type": detail_type, "message": message_id},
                )
    return message_id


def _key(held: Claim) -> dict[str, Any]:
    return to_dynamo({"pk": held.key[0], "sk": held.key[1]})


def _write(
    operation: str, ours: Callable[[table.Item], bool] | None = None, **request: Any
) -> bool:
    """One conditional single-item write (half the cost of a one-item transaction).

    ``ours`` recognises this write's own result in the item that refused it: the SDK re-sends
    a write after a timeout, and the first send may have gone through (the claim that meets its
    own marker holds it, rather than leaving the e-mail unsent)."""
    if ours is not None:
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        getattr(aws.client("dynamodb"), operation)(TableName=table.table_name(), **request)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            found: Any = error.response.get("Item")
            return ours is not None and bool(found) and ours(table.from_dynamo(found))
        raise
    return True
