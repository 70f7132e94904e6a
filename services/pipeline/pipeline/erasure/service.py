"""Erasing a person from the pipeline when the talent pool asks (``erasure_requested``): their
candidates' name, email and phone (ciphertexts and blind indexes), message bodies, free text of
results, approvals and stage changes, AI-interview report links, stored vendor deliveries, links,
stored answers and free text of events in the outbox. Ids, stages, times and scores stay, so
analytics keep counting; nothing left names the person. A second run erases nothing new.

The candidate's own request (``POST /v1/portal/erasure-request``) is only an event to the
talent pool, which owns the request and sends ``erasure_requested`` to every service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from pipeline.ai_interviews.models import AiInterview, UnmatchedDelivery
from pipeline.applications.models import Application, StageChange
from pipeline.candidates.contacts import EMAIL_CONTEXT
from pipeline.candidates.models import Candidate
from pipeline.db import infra
from pipeline.messages.models import Message
from pipeline.portal.service import PURPOSE
from pipeline.results.models import ApprovalStep, Result
from shared.crypto import Keyring
from shared.erasure import (
    forget_responses,
    scrub_outbox,
    scrub_payloads,
    scrub_timers,
)
from shared.events.talentpool import CandidateErasureRequestedV1
from shared.unit import UnitOfWork

_candidates = cast(sa.Table, Candidate.__table__)
_outbox = infra.outbox
_links = infra.link_tokens
_receipts = infra.webhook_receipts


def _uuids(values: Sequence[uuid.UUID]) -> sa.BindParameter[Any]:
    return sa.bindparam(None, list(values), type_=ARRAY(UUID(as_uuid=True)))


def _count(result: sa.Result[Any]) -> int:
    return cast("sa.CursorResult[Any]", result).rowcount or 0


async def erase(
    *, unit: UnitOfWork, keyring: Keyring, candidate_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """Anonymize the pipeline's copy of these candidates; rows changed, by table."""
    session = unit.session
    now = unit.clock.now()
    people = _uuids(candidate_ids)
    applications = list(
        (
            await session.scalars(
                sa.select(Application.id).where(Application.candidate_id == sa.any_(people))
            )
        ).all()
    )
    apps = _uuids(applications)
    messages = list(
        (
            await session.scalars(
                sa.select(Message.id).where(Message.application_id == sa.any_(apps))
            )
        ).all()
    )
    results = list(
        (
            await session.scalars(
                sa.select(Result.id).where(Result.application_id == sa.any_(apps))
            )
        ).all()
    )
    assert _links is not None and _receipts is not None  # the pipeline defines both
    links = list(
        (
            await session.scalars(
                sa.select(_links.c.id).where(
                    _links.c.purpose == PURPOSE,
                    _links.c.subject_id
                    == sa.any_(sa.literal([str(a) for a in applications], ARRAY(sa.Text))),
                )
            )
        ).all()
    )
    erased: dict[str, int] = {}
    c = _candidates.c
    # An encrypted empty string where the email was: the column stays readable (and NOT NULL);
    # a random, unique index where the blind index was, so the person is never matched again.
    erased["candidates"] = _count(
        await session.execute(
            sa.update(_candidates)
            .where(c.id == sa.any_(people), sa.or_(c.full_name != "", c.phone_index.is_not(None)))
            .values(
                full_name="",
                email_ciphertext=keyring.encrypt("", context=EMAIL_CONTEXT),
                email_index=sa.func.uuid_send(sa.func.gen_random_uuid()),
                phone_ciphertext=None,
                phone_index=None,
                updated_at=now,
            )
        )
    )
    erased["messages"] = _count(
        await session.execute(
            sa.update(Message)
            .where(Message.application_id == sa.any_(apps), Message.body != "")
            .values(body="")
        )
    )
    erased["results"] = _count(
        await session.execute(
            sa.update(Result)
            .where(
                Result.application_id == sa.any_(apps),
                sa.or_(Result.internal_note.is_not(None), Result.candidate_message.is_not(None)),
            )
            .values(internal_note=None, candidate_message=None)
            .execution_options(synchronize_session=False)
        )
    )
    erased["approval_steps"] = _count(
        await session.execute(
            sa.update(ApprovalStep)
            .where(
                ApprovalStep.result_id == sa.any_(_uuids(results)),
                ApprovalStep.comment.is_not(None),
            )
            .values(comment=None)
        )
    )
    erased["stage_changes"] = _count(
        await session.execute(
            sa.update(StageChange)
            .where(StageChange.application_id == sa.any_(apps), StageChange.reason.is_not(None))
            .values(reason=None)
        )
    )
    erased["ai_interviews"] = _count(
        await session.execute(
            sa.update(AiInterview)
            .where(AiInterview.application_id == sa.any_(apps), AiInterview.report_url.is_not(None))
            .values(report_url=None)
        )
    )
    mentioning = [*candidate_ids, *applications]
    erased["unmatched_deliveries"] = await scrub_payloads(
        session, cast(sa.Table, UnmatchedDelivery.__table__), "payload", mentioning=mentioning
    )
    erased["webhook_receipts"] = await scrub_payloads(
        session, _receipts, "payload", mentioning=mentioning
    )
    erased["timers"] = await scrub_timers(session, infra.timers, mentioning=mentioning)
    erased["idempotency_keys"] = await forget_responses(
        session,
        infra.idempotency_keys,
        mentioning=[*candidate_ids, *applications, *messages, *results],
        principals=[f"link:{link}" for link in links],
    )
    erased["link_tokens"] = (
        _count(await session.execute(sa.delete(_links).where(_links.c.id.in_(links))))
        if links
        else 0
    )
    erased["outbox"] = await scrub_outbox(
        session, _outbox, ids=candidate_ids, replacements={"reason": None}
    )
    return {table: count for table, count in erased.items() if count}


async def candidate_request(
    *, unit: UnitOfWork, candidate_id: uuid.UUID, application_id: uuid.UUID
) -> datetime:
    """Pass the candidate's request on to the talent pool (once: while the first request is
    in the outbox, asking again answers with its time and emits nothing)."""
    earlier = await unit.session.scalar(
        sa.select(_outbox.c.payload["data"]["requested_at"].astext)
        .where(
            _outbox.c.event_type == CandidateErasureRequestedV1.event_type,
            _outbox.c.subject == str(candidate_id),
        )
        .order_by(_outbox.c.id)
        .limit(1)
    )
    if earlier is not None:
        return datetime.fromisoformat(earlier)
    now = unit.clock.now()
    await unit.emit(
        CandidateErasureRequestedV1(
            candidate_id=candidate_id, application_id=application_id, requested_at=now
        ),
        subject=str(candidate_id),
    )
    return now
