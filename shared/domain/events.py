"""Domain events: immutable facts named [Resource][PastTense], written with their state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from shared import actor, clock, ids
from shared.model import Model


class DomainEvent(Model):
    """One fact about one aggregate. ``event_id`` is what every consumer deduplicates on."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: ids.new_id("evt"))
    detail_type: str
    source: str
    aggregate_id: str
    occurred_at: datetime = Field(default_factory=clock.now)
    data: dict[str, Any]
    actor: str = Field(default_factory=actor.current)  # who caused it: a principal or system:<fn>

    def detail(self) -> dict[str, Any]:
        """The EventBridge ``detail``: metadata for deduplication and tracing, then the data."""
        return {
            "metadata": {
                "event_id": self.event_id,
                "aggregate_id": self.aggregate_id,
                "occurred_at": clock.iso(self.occurred_at),
            },
            "data": self.data,
        }
