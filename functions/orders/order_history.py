"""An order's audit trail: every event written with its state changes, oldest first."""

from __future__ import annotations

import json
from typing import Any

from functions.orders.get_order import get_order
from shared.domain.access import Principal
from shared.store import outbox


def order_history(order_id: str, principal: Principal) -> list[dict[str, Any]]:
    get_order(order_id, principal)
    return [
        {
            "event_id": item["event_id"],
            "type": item["detail_type"],
            "occurred_at": item["occurred_at"],
            "data": json.loads(item["detail"])["data"],
        }
        for item in outbox.history(order_id)
    ]
