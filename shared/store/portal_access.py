"""A customer's portal access: the moment before which every portal link is revoked.

| item | pk | sk |
| --- | --- | --- |
| portal access | ``CUSTOMER#<id>`` | ``PORTAL`` |

``links_valid_after`` (Unix seconds): a link issued before it no longer opens the portal. No
item: every link the customer was sent still opens it until it expires. Revoking only ever moves
the moment forward, so two revocations racing end at the later one.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from shared import clock
from shared.adapters import aws
from shared.store import table
from shared.store.table import to_dynamo

SORT_KEY = "PORTAL"


def key(customer_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", SORT_KEY


def links_valid_after(customer_id: str) -> int:
    """Links issued before this moment (Unix seconds) are revoked; 0 when none ever was."""
    return valid_after(table.get(*key(customer_id)))


def valid_after(item: table.Item | None) -> int:
    """``links_valid_after`` of a portal access item (0 without one)."""
    return int(item.get("links_valid_after", 0)) if item else 0


def revoke_links(customer_id: str, moment: int) -> int:
    """Revoke every link issued before ``moment``; the moment now in force (never earlier)."""
    pk, sk = key(customer_id)
    try:
        aws.client("dynamodb").update_item(
            TableName=table.table_name(),
            Key=to_dynamo({"pk": pk, "sk": sk}),
            UpdateExpression="SET links_valid_after = :moment, entity = :entity, "
            "customer_id = :customer, updated_at = :at",
            ConditionExpression="attribute_not_exists(links_valid_after) "
            "OR links_valid_after < :moment",
            ExpressionAttributeValues=to_dynamo(
                {
                    ":moment": moment,
                    ":entity": "PortalAccess",
                    ":customer": customer_id,
                    ":at": clock.iso(clock.now()),
                }
            ),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return links_valid_after(customer_id)
    return moment
