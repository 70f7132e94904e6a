"""Every event type of the suite, the source of the AsyncAPI document."""

from __future__ import annotations

from shared.events.envelope import EventData
from shared.events.pipeline import StageChangedV1

CATALOG: tuple[type[EventData], ...] = (StageChangedV1,)


def event_types() -> dict[str, type[EventData]]:
    return {model.event_type: model for model in CATALOG}
