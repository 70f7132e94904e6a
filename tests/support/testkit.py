"""A minimal service used to test ``shared/`` without any domain service: a table of notes,
a creating POST that emits ``testkit.ping.v1`` through the outbox, a handler that records each
ping (or fails on demand), timer handlers, and routes for auth, webhooks and link tokens."""

from __future__ import annotations

import asyncio
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
    "acme": [
        "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_" + "bmV3LXNlY3JldC1mb3Itcm90YXRpb24=",
    ],
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
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class TestkitSettings(ServiceSettings):
    service_name: ClassVar[str] = SCHEMA
    model_config = SettingsConfigDict(env_prefix="TESTKIT_")


class PingV1(EventData):
    event_type = "testkit.ping.v1"
    producer = "testkit"
    summary = "A test event."

    note: str
    fail_first: int = 0
    # Keeps the handler busy this long, so a test can stop a service with events in flight.
    delay_ms: int = Field(default=0, ge=0, le=10_000)


# Attempts per event id, to let a handler fail a given number of times and then succeed.
attempts: Counter[str] = Counter()

handlers = EventHandlers()


@handlers.on(PingV1, name="testkit.record_ping")
async def record_ping(unit: UnitOfWork, event: ReceivedEvent[PingV1]) -> None:
    attempts[str(event.envelope.id)] += 1
    if event.data.note == "explode":
        raise RuntimeError("this handler always fails")
    if attempts[str(event.envelope.id)] <= event.data.fail_first:
        raise RuntimeError("failing on purpose")
    if event.data.delay_ms:
        await asyncio.sleep(event.data.delay_ms / 1000)
    unit.session.add(Effect(source="ping", note=event.data.note))
    if event.data.note.startswith("echo:"):
        # An event caused by an event, to follow the correlation id from one to the next.
        await unit.emit(PingV1(note=f"echoed:{event.data.note}"), subject=event.envelope.subject)


class TallyV1(EventData):
    event_type = "testkit.tally.v1"
    producer = "testkit"
    summary = "A test event handled in batches."

    note: str


@handlers.on_batch(TallyV1, name="testkit.tally")
async def tally(unit: UnitOfWork, events: list[ReceivedEvent[TallyV1]]) -> None:
    """One effect per call, naming the notes it got, so a test sees how events were grouped."""
    unit.session.add(Effect(source="tally", note=",".join(e.data.note for e in events)))


timer_handlers = TimerHandlers()


@timer_handlers.on("remind")
async def remind(unit: UnitOfWork, timer: DueTimer) -> None:
    unit.session.add(Effect(source="timer", note=timer.key))
    if timer.payload.get("emit"):
        await unit.emit(PingV1(note=f"from-timer:{timer.key}"), subject=timer.key)


@timer_handlers.on("broken")
async def broken(unit: UnitOfWork, timer: DueTimer) -> None:
    unit.session.add(Effect(source="timer", note="should never commit"))
    if timer.payload.get("emit"):
        await unit.emit(PingV1(note=f"from-broken-timer:{timer.key}"), subject=timer.key)
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
        return json_response(
            NoteOut.model_validate(note),
            status_code=201,
            headers={"Location": f"/v1/notes/{note.id}"},
        )

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


class PingIn(RequestModel):
    note: str = Field(min_length=1, max_length=100)
    subject: str = Field(default="ping", min_length=1)
    sequence: int | None = Field(default=None, ge=0)
    fail_first: int = Field(default=0, ge=0)
    fail_after_emit: bool = False


class PingOut(ResponseModel):
    event_id: uuid.UUID


@router.post("/pings", status_code=202, response_model=PingOut)
async def emit_ping(body: PingIn, unit: Unit) -> PingOut:
    """Emit one ping; with ``fail_after_emit`` the route raises after emitting, so the
    request's transaction (and with it the outbox row) rolls back."""
    event = await unit.emit(
        PingV1(note=body.note, fail_first=body.fail_first),
        subject=body.subject,
        sequence=body.sequence,
    )
    if body.fail_after_emit:
        raise RuntimeError("failing after the event was written")
    return PingOut(event_id=event.id)


@router.post("/boom")
async def boom(_: CurrentPrincipal) -> None:
    raise RuntimeError("secret internal detail that must not reach the client")


@router.post("/vendor-down")
async def vendor_down(_: CurrentPrincipal) -> None:
    """A third party refusing the connection: our fault to handle, not a database outage."""
    raise ConnectionRefusedError("vendor at 10.0.0.9:25 refused the connection")


@router.get("/admin-only")
async def admin_only(
    principal: Annotated[Principal, Depends(require_role(Role.ADMIN))],
) -> dict[str, str]:
    return {"subject": principal.subject}


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, str | list[str]]:
    """The caller as the service understood the bearer token."""
    return {
        "subject": principal.subject,
        "role": principal.role.value,
        "scopes": sorted(principal.scopes),
    }


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


@router.post("/advisory-locks/{key}")
async def wait_for_advisory_lock(key: int, unit: Unit, _: CurrentPrincipal) -> dict[str, int]:
    """Blocks inside the database until a test releases the lock: a request that is mid-query
    for as long as the test needs (to lose the database under it)."""
    await unit.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
    return {"key": key}


@router.post("/bad-sql")
async def bad_sql(unit: Unit, _: CurrentPrincipal) -> None:
    """A database error that is a bug of ours rather than an outage."""
    await unit.session.execute(sa.text("SELECT * FROM no_such_table"))


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
