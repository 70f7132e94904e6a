"""Who may see a saved segment: its owner and admins (404 for anyone else, so ids cannot be
probed). Who is listed in it is decided by the caller's own view of the pool
(``profiles.dependencies.visible_filter``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from shared.http.dependencies import Staff, Unit
from shared.problems import not_found
from talentpool.segments import service
from talentpool.segments.models import Segment

SegmentId = Annotated[
    uuid.UUID,
    Path(description="The segment's id.", examples=["0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"]),
]


async def visible_segment(segment_id: SegmentId, unit: Unit, principal: Staff) -> Segment:
    segment = await service.get_visible(unit.session, principal=principal, segment_id=segment_id)
    if segment is None:
        raise not_found("segment", segment_id)
    return segment


async def locked_segment(segment_id: SegmentId, unit: Unit, principal: Staff) -> Segment:
    """As ``visible_segment``, locked until the request's transaction ends."""
    segment = await service.get_visible(
        unit.session, principal=principal, segment_id=segment_id, for_update=True
    )
    if segment is None:
        raise not_found("segment", segment_id)
    return segment


VisibleSegment = Annotated[Segment, Depends(visible_segment)]
LockedSegment = Annotated[Segment, Depends(locked_segment)]
