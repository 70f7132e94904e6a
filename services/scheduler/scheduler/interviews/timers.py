"""The interviews' timer: a reminder of an upcoming interview (1 day and 2 hours before, by
default), for the candidate and the interviewers."""

from __future__ import annotations

import uuid

from scheduler.interviews.service import REMINDER_TIMER, send_reminder
from scheduler.timers import timer_handlers
from shared.timers import DueTimer
from shared.unit import UnitOfWork


@timer_handlers.on(REMINDER_TIMER)
async def remind_of_interview(unit: UnitOfWork, timer: DueTimer) -> None:
    await send_reminder(
        unit,
        interview_id=uuid.UUID(timer.payload["interview_id"]),
        reminder=timer.payload["reminder"],
        due_at=timer.due_at,
        starts_at=timer.payload["starts_at"],
    )
