"""The bench service's spec: schema ``bench``, the ``bench.tick.v1`` event it emits to itself,
and a batch handler that inserts one row per tick and notes the moment those rows committed.

Commit moments are kept in this process (``time.time()`` read after COMMIT returns) and served
by ``GET /v1/bench/commits``, so the benchmark compares them with its writer's commit moments
on the same clock.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Annotated, ClassVar

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy.orm import Session

from shared.db.infra import define_infra_tables
from shared.db.metadata import make_metadata
from shared.events.envelope import EventData, ReceivedEvent
from shared.http.app import create_app
from shared.messaging.consumer import EventHandlers
from shared.service import ServiceSpec
from shared.settings import ServiceSettings
from shared.unit import UnitOfWork

SCHEMA = "bench"

metadata = make_metadata(SCHEMA)
infra = define_infra_tables(metadata)

handled = sa.Table(
    "handled",
    metadata,
    sa.Column("event_id", sa.Uuid(), primary_key=True),
    sa.Column("run", sa.Text(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("handled_at", sa.Double(), nullable=False),
)

floor_rows = sa.Table(
    "floor_rows",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("full_name", sa.Text(), nullable=False),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


class BenchSettings(ServiceSettings):
    service_name: ClassVar[str] = SCHEMA
    model_config = SettingsConfigDict(env_prefix="BENCH_", extra="ignore", frozen=True)

    port: int = 8090


class TickV1(EventData):
    event_type = "bench.tick.v1"
    producer = "bench"
    summary = "A benchmark event; the bench service consumes its own."

    run: str
    seq: int
    # Makes the envelope about as large as a real stage_changed event.
    note: str = ""


# run -> [(seq, commit time)], filled after each handler transaction commits.
commits: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
_TICKS = "bench.ticks"  # key in Session.info: the ticks a transaction has handled
_record = sa.insert(handled)

handlers = EventHandlers()


@sa.event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    """Stamp the ticks of a transaction that just committed (one listener for the process,
    so the stamping costs a dictionary lookup per commit)."""
    ticks: list[tuple[str, int]] | None = session.info.pop(_TICKS, None)
    if ticks:
        moment = time.time()
        for run, seq in ticks:
            commits[run].append((seq, moment))


@handlers.on_batch(TickV1, name="bench.record_tick")
async def record_ticks(unit: UnitOfWork, events: list[ReceivedEvent[TickV1]]) -> None:
    """One row per tick, all of the consumer's batch in one statement: the way the services'
    handlers of frequent events are written (``on_batch``)."""
    moment = time.time()
    await unit.session.execute(
        _record,
        [
            {
                "event_id": event.envelope.id,
                "run": event.data.run,
                "seq": event.data.seq,
                "handled_at": moment,
            }
            for event in events
        ],
    )
    unit.session.info.setdefault(_TICKS, []).extend(
        (event.data.run, event.data.seq) for event in events
    )


class Commits(BaseModel):
    run: str
    commits: list[tuple[int, float]]


router = APIRouter(prefix="/v1/bench", tags=["bench"])


@router.get("/commits", response_model=Commits)
async def take_commits(run: Annotated[str, Query(max_length=100)]) -> Commits:
    """The commit moments recorded for ``run`` so far, forgotten once read."""
    return Commits(run=run, commits=commits.pop(run, []))


spec = ServiceSpec(
    name=SCHEMA,
    title="Bench",
    description="Consumes its own events so the outbox, relay and inbox can be measured.",
    version="0.0.0",
    settings_class=BenchSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    handlers=handlers,
)


def create(settings: BenchSettings | None = None) -> FastAPI:
    return create_app(spec, settings)
