"""A minimal service used to test ``shared/`` without any domain service: a table of notes,
a creating POST that emits ``testkit.ping.v1`` through the outbox, a handler that records each
ping (or fails on demand), timer handlers, and routes for auth, webhooks and link tokens."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, ClassVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.responses import Response

from shared.auth.principal import Principal, Role
from shared.auth.webhooks import WebhookVerifier, record_receipt
from shared.db.infra import define_infra_tables
from shared.db.metadata import make_metadata
from shared.events.envelope import EventData, ReceivedEvent
from shared.http.app import json_response
from shared.http.dependencies import (
    CurrentPrincipal,
    IdempotencyDep,
    RuntimeDep,
    Unit,
    require_role,
    require_scopes,
)
from shared.http.pagination import Page, PageQuery, paginate
from shared.http.schemas import RequestModel, ResponseModel
from shared.messaging.consumer import EventHandlers
from shared.problems import error_responses, not_found
from shared.service import ServiceSpec
from shared.settings import ServiceSettings
from shared.timers import DueTimer, TimerHandlers
from shared.unit import UnitOfWork

SCHEMA = "testkit"
WEBHOOK_SECRETS = {
    "acme": ["whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + "bmV3LXNlY3JldC1mb3Itcm90YXRpb24="],
}

metadata = make_metadata(SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


infra = define_infra_tables(metadata, link_tokens=True, webhook_receipts=True)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Effect(Base):
    """One row per handled ping or fired timer: what the tests count."""

    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class TestkitSettings(ServiceSettings):
    service_name: ClassVar[str] = SCHEMA
    model_config = SettingsConfigDict(env_prefix="TESTKIT_", extra="ignore", frozen=True)


class PingV1(EventData):
    event_type = "testkit.ping.v1"
    producer = "testkit"
    summary = "A test event."

    note: str
    fail_first: int = 0


# Attempts per event id, to let a handler fail a given number of times and then succeed.
attempts: Counter[str] = Counter()

handlers = EventHandlers()


@handlers.on(PingV1)
async def record_ping(unit: UnitOfWork, event: ReceivedEvent[PingV1]) -> None:
    attempts[str(event.envelope.id)] += 1
    if event.data.note == "explode":
        raise RuntimeError("this handler always fails")
    if attempts[str(event.envelope.id)] <= event.data.fail_first:
        raise RuntimeError("failing on purpose")
    unit.session.add(Effect(source="ping", note=event.data.note))


timer_handlers = TimerHandlers()


@timer_handlers.on("remind")
async def remind(unit: UnitOfWork, timer: DueTimer) -> None:
    unit.session.add(Effect(source="timer", note=timer.key))
    if timer.payload.get("emit"):
        await unit.emit(PingV1(note=f"from-timer:{timer.key}"), subject=timer.key)


@timer_handlers.on("broken")
async def broken(unit: UnitOfWork, timer: DueTimer) -> None:
    unit.session.add(Effect(source="timer", note="should never commit"))
    raise RuntimeError("timer handler fails")


class NoteIn(RequestModel):
    text: str = Field(min_length=1, max_length=100)
    count: int = Field(default=1, ge=1, le=10)


class NoteOut(ResponseModel):
    id: uuid.UUID
    text: str
    created_at: datetime


router = APIRouter(prefix="/v1", tags=["testkit"])


@router.post("/notes", status_code=201, response_model=NoteOut, responses=error_responses(401, 422))
async def create_note(
    body: NoteIn, unit: Unit, _: CurrentPrincipal, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        note = Note(id=uuid.uuid4(), text=body.text, created_at=unit.clock.now())
        unit.session.add(note)
        await unit.session.flush()
        await unit.emit(PingV1(note=body.text), subject=str(note.id))
        return json_response(NoteOut.model_validate(note), status_code=201,
                             headers={"Location": f"/v1/notes/{note.id}"})

    return await idempotency.run(unit, produce)


@router.get("/notes", response_model=Page[NoteOut])
async def list_notes(unit: Unit, _: CurrentPrincipal, page: PageQuery) -> Page[NoteOut]:
    rows, cursor = await paginate(
        unit.session, sa.select(Note), order_by=[Note.created_at, Note.id], params=page
    )
    return Page[NoteOut](items=[NoteOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/notes/{note_id}", response_model=NoteOut, responses=error_responses(404))
async def get_note(note_id: uuid.UUID, unit: Unit, _: CurrentPrincipal) -> NoteOut:
    note = await unit.session.get(Note, note_id)
    if note is None:
        raise not_found("note", note_id)
    return NoteOut.model_validate(note)


@router.post("/boom")
async def boom(_: CurrentPrincipal) -> None:
    raise RuntimeError("secret internal detail that must not reach the client")


@router.get("/admin-only")
async def admin_only(
    principal: Annotated[Principal, Depends(require_role(Role.ADMIN))],
) -> dict[str, str]:
    return {"subject": principal.subject}


@router.get("/scoped")
async def scoped(
    principal: Annotated[Principal, Depends(require_scopes("notes:read"))],
) -> dict[str, str]:
    return {"subject": principal.subject}


_verifier = WebhookVerifier(WEBHOOK_SECRETS)


@router.post("/webhooks/{sender}", status_code=202)
async def receive_webhook(sender: str, request: Request, unit: Unit) -> dict[str, bool]:
    body = await request.body()
    payload = _verifier.verify(sender, body, request.headers)
    assert infra.webhook_receipts is not None
    first = await record_receipt(
        unit.session,
        infra.webhook_receipts,
        sender=sender,
        webhook_id=request.headers["webhook-id"],
        payload=payload,
    )
    if first:
        unit.session.add(Effect(source="webhook", note=str(payload.get("note", ""))))
    return {"accepted": True, "duplicate": not first}


@router.get("/runtime-check")
async def runtime_check(runtime: RuntimeDep) -> dict[str, str]:
    return {"service": runtime.spec.name}


spec = ServiceSpec(
    name=SCHEMA,
    title="Test kit",
    description="Exercises shared infrastructure.",
    version="0.0.0",
    settings_class=TestkitSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "testkit_migrations",
    routers=[router],
    handlers=handlers,
    timer_handlers=timer_handlers,
)
