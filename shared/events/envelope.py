"""CloudEvents 1.0 envelope, structured JSON mode, as it travels in an AMQP message body."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    """The envelope. ``sequence`` is the aggregate's version (an integer), so a consumer can
    ignore an update older than one it already applied."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(description="Unique per event; consumers deduplicate on it.")
    source: str = Field(description="The producing service, e.g. `/pipeline`.", min_length=1)
    type: str = Field(
        description="Versioned event type, also the AMQP routing key.",
        pattern=r"^[a-z]+\.[a-z_]+\.v[0-9]+$",
    )
    time: AwareDatetime
    subject: str = Field(description="Id of the aggregate the event is about.", min_length=1)
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    correlationid: str | None = Field(
        default=None, description="Id shared by everything caused by one original request."
    )
    traceparent: str | None = Field(default=None, description="W3C trace context.")
    sequence: int | None = Field(default=None, ge=0, description="The aggregate's version.")


class EventData(BaseModel):
    """Base of every event's ``data``. Unknown fields are ignored so producers can add optional
    fields within a version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    producer: ClassVar[str]
    summary: ClassVar[str]


D = TypeVar("D", bound=EventData)


class ReceivedEvent(BaseModel, Generic[D]):
    """What a consumer's handler gets: the envelope and its parsed data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    envelope: CloudEvent
    data: D
