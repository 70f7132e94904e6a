"""Admin routes over a service's durable timers, the same on every service.

A timer whose handler failed ``timer_max_attempts`` times is left ``failed`` with its payload
and last error: nothing is dropped, but nothing happens either until someone looks. These
routes list the timers (the failed ones by default) and re-arm a failed one, which then fires
at the next tick with a fresh set of attempts, as if it had just been scheduled. Payloads are
not shown: they may name people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from pydantic import Field

from shared.http.dependencies import Admin, RuntimeDep, Unit
from shared.http.pagination import Page, PageQuery, paginate
from shared.http.schemas import ResponseModel
from shared.problems import conflict, error_responses, not_found

router = APIRouter(tags=["operations"])

TimerState = Literal["pending", "done", "cancelled", "failed"]
TimerId = Annotated[int, Path(ge=1, description="The timer's id.", examples=[42])]


class TimerRead(ResponseModel):
    id: int = Field(examples=[42])
    kind: str = Field(
        description="What it is for, e.g. `ai_interview.delivery`.",
        examples=["ai_interview.delivery"],
    )
    key: str = Field(description="Unique within its kind.", examples=["bench:msg_2hXq"])
    state: TimerState = Field(examples=["failed"])
    due_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    attempts: int = Field(description="Handler runs that failed so far.", examples=[10])
    last_error: str | None = Field(
        description="The last failure (the exception's type and message).",
        examples=["IntegrityError: duplicate key value"],
    )
    created_at: datetime = Field(examples=["2026-03-02T08:59:58Z"])
    updated_at: datetime = Field(examples=["2026-03-02T10:02:11Z"])
    fired_at: datetime | None = Field(
        description="When its handler succeeded; null until then.", examples=[None]
    )


def _columns(table: sa.Table) -> list[sa.ColumnElement[Any]]:
    return [table.c[name] for name in TimerRead.model_fields]


@router.get(
    "/v1/admin/timers",
    response_model=Page[TimerRead],
    summary="The service's durable timers, the failed ones by default (admins)",
    responses=error_responses(400, 401, 403, 422),
)
async def list_timers(
    _: Admin,
    unit: Unit,
    runtime: RuntimeDep,
    page: PageQuery,
    state: Annotated[TimerState, Query(description="Only timers in this state.")] = "failed",
    kind: Annotated[
        str | None, Query(max_length=100, description="Only timers of this kind.")
    ] = None,
) -> Page[TimerRead]:
    """Most recently changed first. A `failed` timer kept its payload and `last_error`; re-arm
    it with `POST /v1/admin/timers/{timer_id}/retry` once the cause is fixed."""
    table = runtime.spec.infra.timers
    statement = sa.select(*_columns(table)).where(table.c.state == state)
    if kind is not None:
        statement = statement.where(table.c.kind == kind)
    rows, next_cursor = await paginate(
        unit.session,
        statement,
        order_by=[table.c.updated_at, table.c.id],
        params=page,
        descending=True,
    )
    return Page[TimerRead](
        items=[TimerRead.model_validate(row._mapping) for row in rows], next_cursor=next_cursor
    )


@router.post(
    "/v1/admin/timers/{timer_id}/retry",
    response_model=TimerRead,
    summary="Re-arm a failed timer: it fires at the next tick, with fresh attempts (admins)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def retry_timer(timer_id: TimerId, _: Admin, unit: Unit, runtime: RuntimeDep) -> TimerRead:
    """Only a `failed` timer: 409 `timer-not-failed` for one pending, done or cancelled. Its
    `last_error` stays until the next run replaces or clears it."""
    table = runtime.spec.infra.timers
    now = unit.clock.now()
    row = (
        await unit.session.execute(
            sa.update(table)
            .where(table.c.id == timer_id, table.c.state == "failed")
            .values(state="pending", attempts=0, due_at=now, updated_at=now)
            .returning(*_columns(table))
        )
    ).first()
    if row is not None:
        return TimerRead.model_validate(row._mapping)
    state = await unit.session.scalar(sa.select(table.c.state).where(table.c.id == timer_id))
    if state is None:
        raise not_found("timer", timer_id)
    raise conflict(
        f"Only a failed timer can be retried; this one is {state}.",
        slug="timer-not-failed",
        state=state,
    )
