"""Who may see and change an interviewer's record and time.

Admins: everything. HR: read every interviewer (they plan panels), change nothing. An
interviewer: their own record (``/v1/interviewers/me``) and their own time (overrides, busy
blocks: read and write); anyone else's interviewer id is hidden from them (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query

from scheduler.interviewers import service
from scheduler.interviewers.models import Interviewer
from scheduler.interviewers.schemas import check_range
from scheduler.interviewers.service import invalid
from shared.auth.principal import Principal, Role
from shared.http.dependencies import Admin, CurrentPrincipal, Unit
from shared.problems import forbidden, not_found

"""Admins only: resources, calendars and pools are theirs to change."""

InterviewerId = Annotated[uuid.UUID, Path(description="The interviewer's id.")]


def is_self(principal: Principal, interviewer: Interviewer) -> bool:
    return principal.role is Role.INTERVIEWER and principal.subject == interviewer.subject


async def _load(unit: Unit, interviewer_id: uuid.UUID, *, for_update: bool) -> Interviewer:
    interviewer = await service.get(
        session=unit.session, interviewer_id=interviewer_id, for_update=for_update
    )
    if interviewer is None:
        raise not_found("interviewer", interviewer_id)
    return interviewer


async def readable_time(
    interviewer_id: InterviewerId, unit: Unit, principal: CurrentPrincipal
) -> Interviewer:
    """Staff, or the interviewer themselves (anyone else's id: 404)."""
    interviewer = await _load(unit, interviewer_id, for_update=False)
    if principal.role is Role.INTERVIEWER and not is_self(principal, interviewer):
        raise not_found("interviewer", interviewer_id)
    return interviewer


async def writable_time(
    interviewer_id: InterviewerId, unit: Unit, principal: CurrentPrincipal
) -> Interviewer:
    """Admins, or the interviewer themselves; HR may not change anyone's time (403)."""
    if principal.role is Role.HR:
        raise forbidden("Only admins and the interviewer themselves change their time.")
    return await readable_time(interviewer_id, unit, principal)


async def locked_interviewer(interviewer_id: InterviewerId, unit: Unit, _: Admin) -> Interviewer:
    return await _load(unit, interviewer_id, for_update=True)


async def my_interviewer(unit: Unit, principal: CurrentPrincipal) -> Interviewer:
    """The caller's own interviewer record, found by their token's subject."""
    interviewer = await service.get_by_subject(session=unit.session, subject=principal.subject)
    if interviewer is None:
        raise not_found("interviewer for subject", principal.subject)
    return interviewer


ReadableTime = Annotated[Interviewer, Depends(readable_time)]
WritableTime = Annotated[Interviewer, Depends(writable_time)]
LockedInterviewer = Annotated[Interviewer, Depends(locked_interviewer)]
MyInterviewer = Annotated[Interviewer, Depends(my_interviewer)]


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


async def time_range(
    start: Annotated[
        datetime,
        Query(
            description="Start of the range (RFC 3339 with offset).",
            examples=["2026-03-02T00:00:00+08:00"],
        ),
    ],
    end: Annotated[
        datetime,
        Query(
            description="End of the range, after `start`, at most 180 days later.",
            examples=["2026-03-09T00:00:00+08:00"],
        ),
    ],
) -> TimeRange:
    try:
        check_range(start, end)
    except ValueError as error:
        raise invalid("end", "query", str(error)) from None
    return TimeRange(start, end)


RangeQuery = Annotated[TimeRange, Depends(time_range)]
"""A bounded ``start``/``end`` query range: end after start, at most 180 days (else 422)."""
