"""Intake: adding candidates' applications to a job, one or up to a thousand at a time.

One path for both: resolve the people to candidates, insert the applications in one multi-row
statement that skips the ones that exist, look those up, and write one ``application_created``
per new application to the outbox. A repeated request therefore creates nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pipeline.applications.models import Application
from pipeline.candidates import service as candidates
from pipeline.candidates.schemas import CandidateIn
from pipeline.intake.schemas import ApplicationCreate
from pipeline.jobs.exceptions import job_closed
from pipeline.jobs.models import Job
from shared.crypto import Keyring
from shared.events.pipeline import ApplicationCreatedV1, StageRef
from shared.problems import FieldError
from shared.unit import UnitOfWork

_applications = cast(sa.Table, Application.__table__)
_a = _applications.c
_insert = (
    pg_insert(_applications)
    .on_conflict_do_nothing(index_elements=[_a.job_id, _a.candidate_id])
    .returning(*_a)
)
_existing = sa.select(_a.candidate_id, _a.id).where(
    _a.job_id == sa.bindparam("job_id"),
    _a.candidate_id == sa.any_(sa.bindparam("candidate_ids", type_=ARRAY(UUID(as_uuid=True)))),
)


@dataclass(frozen=True)
class Added:
    """What became of one person: a new application (with its row) or the existing one's id."""

    outcome: Literal["created", "exists"]
    application_id: uuid.UUID
    row: sa.Row[Any] | None = None


def parse_rows(rows: Sequence[object]) -> list[ApplicationCreate | list[FieldError]]:
    """Each row validated on its own: the application, or its field errors (named within the
    row, e.g. ``candidate.email``)."""
    parsed: list[ApplicationCreate | list[FieldError]] = []
    for row in rows:
        try:
            parsed.append(ApplicationCreate.model_validate(row))
        except ValidationError as error:
            parsed.append(
                [
                    FieldError(
                        field=".".join(str(part) for part in e["loc"]),
                        location="body",
                        message=e["msg"],
                        code=e["type"],
                    )
                    for e in error.errors(include_input=False, include_url=False)
                ]
            )
    return parsed


async def add(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    job: Job,
    people: Sequence[CandidateIn],
    source: str,
) -> list[Added]:
    """Apply each person to the job, in order; a person who already applied (earlier, or in an
    earlier entry of ``people``) gets ``exists``."""
    if job.status != "open":
        raise job_closed()
    if not people:
        return []
    resolved = await candidates.resolve(unit=unit, keyring=keyring, people=people)
    return await add_candidates(unit=unit, job=job, resolved=resolved, source=source)


async def add_candidates(
    *, unit: UnitOfWork, job: Job, resolved: Sequence[candidates.Resolved], source: str
) -> list[Added]:
    """Apply candidates already known to the job, in order (the caller checked that the job is
    open); one already applied gets ``exists``."""
    if not resolved:
        return []
    now = unit.clock.now()
    first_stage = job.stages[0]
    planned: dict[uuid.UUID, uuid.UUID] = {}  # candidate -> the application we try to create
    params: list[dict[str, Any]] = []
    for candidate in resolved:
        if candidate.candidate_id in planned:
            continue
        application_id = uuid.uuid4()
        planned[candidate.candidate_id] = application_id
        params.append(
            {
                "id": application_id,
                "job_id": job.id,
                "candidate_id": candidate.candidate_id,
                "stage_key": first_stage["key"],
                "status": "active",
                "stage_entered_at": now,
                "source": source,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    inserted = {row.id: row for row in await unit.session.execute(_insert, params)}
    existing: dict[uuid.UUID, uuid.UUID] = {}
    missing = [cid for cid, aid in planned.items() if aid not in inserted]
    if missing:
        rows = await unit.session.execute(_existing, {"job_id": job.id, "candidate_ids": missing})
        existing = {row.candidate_id: row.id for row in rows}

    results: list[Added] = []
    events: list[ApplicationCreatedV1] = []
    announced: set[uuid.UUID] = set()
    for candidate in resolved:
        application_id = planned[candidate.candidate_id]
        row = inserted.get(application_id)
        if row is None:
            results.append(Added("exists", existing[candidate.candidate_id]))
        elif application_id in announced:
            results.append(Added("exists", application_id))  # a repeated entry of this request
        else:
            announced.add(application_id)
            results.append(Added("created", application_id, row))
            events.append(
                ApplicationCreatedV1(
                    application_id=application_id,
                    job_id=job.id,
                    candidate_id=candidate.candidate_id,
                    stage=StageRef(key=first_stage["key"], kind=first_stage["kind"]),
                    source=source,
                    locale=candidate.locale,
                    occurred_at=now,
                )
            )
    await _emit(unit, events)
    return results


async def _emit(unit: UnitOfWork, events: list[ApplicationCreatedV1]) -> None:
    """Through the outbox, in one multi-row statement rather than one round trip each."""
    await unit.emit_many([(data, str(data.application_id), 1) for data in events])
