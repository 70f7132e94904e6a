"""Messages between a candidate and HR, one thread per application: posting (with the
``message_posted`` event and the unanswered-message timer), reading, and unread counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.applications.models import Application
from pipeline.applications.service import visible_applications
from pipeline.messages.models import Message
from shared.auth.principal import Principal
from shared.events.pipeline import MessagePostedV1
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork

SenderKind = Literal["candidate", "hr", "admin", "system"]

# A candidate's message starts this timer (kind, key = the application's id) unless it runs;
# an HR or admin reply cancels it; when it fires HR are reminded (``messages/timers.py``).
UNANSWERED = "message.unanswered"
STAFF_KINDS = ("hr", "admin")


async def post(
    *,
    unit: UnitOfWork,
    application: Application,
    sender_kind: SenderKind,
    sender_id: str | None,
    body: str,
    unanswered_after: timedelta,
) -> Message:
    now = unit.clock.now()
    message = Message(
        id=uuid.uuid4(),
        application_id=application.id,
        sender_kind=sender_kind,
        sender_id=sender_id,
        body=body,
        created_at=now,
    )
    unit.session.add(message)
    await unit.session.flush()
    key = str(application.id)
    if sender_kind == "candidate":
        running = await unit.timers.get(unit.session, kind=UNANSWERED, key=key)
        if running is None or running.state != "pending":
            await unit.timers.schedule(
                unit.session, kind=UNANSWERED, key=key, due_at=now + unanswered_after
            )
    elif sender_kind in STAFF_KINDS:
        await unit.timers.cancel(unit.session, kind=UNANSWERED, key=key)
    await unit.emit(
        MessagePostedV1(
            message_id=message.id,
            application_id=application.id,
            job_id=application.job_id,
            candidate_id=application.candidate_id,
            sender_kind=sender_kind,
            sender_id=sender_id,
            posted_at=now,
        ),
        subject=str(application.id),
    )
    return message


async def list_thread(
    *, session: AsyncSession, application_id: uuid.UUID, params: PageParams
) -> tuple[list[Message], str | None]:
    """The thread, newest first."""
    return await paginate(
        session,
        sa.select(Message).where(Message.application_id == application_id),
        order_by=[Message.created_at, Message.id],
        params=params,
        descending=True,
    )


async def mark_read(*, unit: UnitOfWork, application_id: uuid.UUID, by_candidate: bool) -> int:
    """Mark the other side's unread messages read: HR's (and system ones) for the candidate, the
    candidate's for staff."""
    from_other_side = (
        Message.sender_kind != "candidate" if by_candidate else Message.sender_kind == "candidate"
    )
    result = await unit.session.execute(
        sa.update(Message)
        .where(Message.application_id == application_id, from_other_side, Message.read_at.is_(None))
        .values(read_at=unit.clock.now())
        .returning(Message.id)
    )
    return len(result.all())


async def unread_threads(
    *, session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Any], str | None]:
    """Per application of the caller's visible jobs: the candidate's unread messages, the
    longest-waiting thread first."""
    visible = (
        visible_applications(principal)
        .with_only_columns(Application.id, Application.job_id)
        .subquery()
    )
    grouped = (
        sa.select(
            Message.application_id.label("application_id"),
            visible.c.job_id.label("job_id"),
            sa.func.count().label("unread"),
            sa.func.min(Message.created_at).label("oldest_unread_at"),
        )
        .join(visible, visible.c.id == Message.application_id)
        .where(Message.sender_kind == "candidate", Message.read_at.is_(None))
        .group_by(Message.application_id, visible.c.job_id)
        .subquery()
    )
    return await paginate(
        session,
        sa.select(grouped),
        order_by=[grouped.c.oldest_unread_at, grouped.c.application_id],
        params=params,
    )


async def oldest_unanswered(*, session: AsyncSession, application_id: uuid.UUID) -> datetime | None:
    """The first of the candidate's messages since HR's last reply, if any."""
    last_reply = (
        sa.select(sa.func.max(Message.created_at))
        .where(Message.application_id == application_id, Message.sender_kind.in_(STAFF_KINDS))
        .scalar_subquery()
    )
    oldest: datetime | None = (
        await session.execute(
            sa.select(sa.func.min(Message.created_at)).where(
                Message.application_id == application_id,
                Message.sender_kind == "candidate",
                Message.created_at > sa.func.coalesce(last_reply, sa.text("'-infinity'")),
            )
        )
    ).scalar_one()
    return oldest
