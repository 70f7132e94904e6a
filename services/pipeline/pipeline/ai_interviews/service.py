"""AI interviews: a vendor's verified deliveries folded into the interview's state (whatever
their order), its events, and the deliveries that named no application we know."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.ai_interviews import status as lifecycle
from pipeline.ai_interviews.models import AiInterview, UnmatchedDelivery
from pipeline.ai_interviews.schemas import AiInterviewDelivery
from pipeline.applications.models import Application
from pipeline.db import infra
from shared.auth.webhooks import record_receipt
from shared.events.envelope import EventData
from shared.events.pipeline import (
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    AiInterviewInvitedV1,
    AiInterviewOpenedV1,
    AiInterviewReportReadyV1,
    AiInterviewStartedV1,
)
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict
from shared.unit import UnitOfWork

_TWO_PLACES = Decimal("0.01")
_RECEIPTS = cast(sa.Table, infra.webhook_receipts)
_UNMATCHED = cast(sa.Table, UnmatchedDelivery.__table__)

# The timestamp column of each status.
_COLUMN: dict[lifecycle.Status, str] = {status: f"{status}_at" for status in lifecycle.STATUSES}

_application_refs = sa.select(Application.job_id, Application.candidate_id).where(
    Application.id == sa.bindparam("application_id")
)


@dataclass(frozen=True)
class Ingested:
    """What became of one delivery."""

    outcome: Literal["applied", "duplicate", "unknown_application", "interview_mismatch"]
    interview: AiInterview | None = None


async def ingest(
    *,
    unit: UnitOfWork,
    vendor: str,
    webhook_id: str,
    delivery: AiInterviewDelivery,
    payload: dict[str, Any],
    keep_unmatched: bool = True,
) -> Ingested:
    """Record the delivery (once per ``webhook-id``) and the interview's new state, and emit the
    event of a status reached for the first time, all in the unit's transaction.

    A delivery naming an application we do not know, or another interview than the one the
    application has at this vendor, records no receipt (so the vendor's retry may still get
    through) and, with ``keep_unmatched``, is kept for reconciliation.
    """
    refs = (
        await unit.session.execute(_application_refs, {"application_id": delivery.application_id})
    ).first()
    if refs is None:
        if keep_unmatched:
            await _keep_unmatched(unit, vendor, webhook_id, payload, "unknown_application")
        return Ingested("unknown_application")
    interview = await _locked_interview(unit.session, delivery.application_id, vendor)
    if interview is not None and interview.external_id != delivery.interview_id:
        if keep_unmatched:
            await _keep_unmatched(unit, vendor, webhook_id, payload, "interview_mismatch")
        return Ingested("interview_mismatch", interview)
    if not await record_receipt(
        unit.session, _RECEIPTS, sender=vendor, webhook_id=webhook_id, payload=payload
    ):
        return Ingested("duplicate")
    now = unit.clock.now()
    if interview is None:
        interview = await _create_interview(unit, vendor, delivery)
    applied = lifecycle.apply(_state_of(interview), _delivery_of(delivery))
    if applied.changed:
        _store(interview, applied.state)
        interview.version += 1
        interview.updated_at = now
        await unit.session.flush()
    if applied.newly_reached is not None:
        await unit.emit(
            _event(
                applied.newly_reached,
                interview,
                job_id=refs.job_id,
                candidate_id=refs.candidate_id,
                delivery=delivery,
            ),
            subject=str(interview.id),
            sequence=interview.version,
        )
    return Ingested("applied", interview)


async def _locked_interview(
    session: AsyncSession, application_id: uuid.UUID, vendor: str
) -> AiInterview | None:
    result = await session.execute(
        sa.select(AiInterview)
        .where(AiInterview.application_id == application_id, AiInterview.vendor == vendor)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def _create_interview(
    unit: UnitOfWork, vendor: str, delivery: AiInterviewDelivery
) -> AiInterview:
    """The application's interview at this vendor, new; version 0 until its first change."""
    now = unit.clock.now()
    # ON CONFLICT: a concurrent first delivery may have created it; then lock and use that one.
    await unit.session.execute(
        pg_insert(AiInterview)
        .values(
            id=uuid.uuid4(),
            application_id=delivery.application_id,
            vendor=vendor,
            external_id=delivery.interview_id,
            status=delivery.type,
            version=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["application_id", "vendor"])
    )
    interview = await _locked_interview(unit.session, delivery.application_id, vendor)
    assert interview is not None  # inserted above, or by the delivery we raced
    if interview.external_id != delivery.interview_id:
        # The racing delivery named another interview: refuse this one like any mismatch.
        raise conflict(
            "The application already has another interview at this vendor.",
            slug="interview-mismatch",
        )
    return interview


async def _keep_unmatched(
    unit: UnitOfWork,
    vendor: str,
    webhook_id: str,
    payload: dict[str, Any],
    reason: Literal["unknown_application", "interview_mismatch"],
) -> None:
    await unit.session.execute(
        pg_insert(_UNMATCHED)
        .values(
            vendor=vendor,
            webhook_id=webhook_id,
            payload=payload,
            reason=reason,
            received_at=unit.clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["vendor", "webhook_id"])
    )


def _delivery_of(delivery: AiInterviewDelivery) -> lifecycle.Delivery:
    return lifecycle.Delivery(
        type=delivery.type,
        occurred_at=delivery.occurred_at,
        score=_two_places(delivery.score) if delivery.score is not None else None,
        dimension_scores={
            name: _two_places(value) for name, value in (delivery.dimension_scores or {}).items()
        },
        report_url=delivery.report_url,
    )


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(_TWO_PLACES)


def _state_of(interview: AiInterview) -> lifecycle.InterviewState:
    reached = {
        status: moment
        for status in lifecycle.STATUSES
        if (moment := getattr(interview, _COLUMN[status])) is not None
    }
    outcome = None
    if interview.score is not None and interview.result_source is not None:
        assert interview.result_at is not None
        outcome = lifecycle.Outcome(
            score=interview.score,
            dimension_scores={
                name: Decimal(str(value))
                for name, value in (interview.dimension_scores or {}).items()
            },
            report_url=interview.report_url,
            source=cast(lifecycle.Status, interview.result_source),
            occurred_at=interview.result_at,
        )
    return lifecycle.InterviewState(reached=reached, outcome=outcome)


def _store(interview: AiInterview, state: lifecycle.InterviewState) -> None:
    for status in lifecycle.STATUSES:
        setattr(interview, _COLUMN[status], state.reached.get(status))
    current = state.status
    assert current is not None  # a delivery always reaches a status
    interview.status = current
    outcome = state.outcome
    if outcome is not None:
        interview.score = outcome.score
        # JSONB holds numbers; two decimal places survive a float exactly enough to read back.
        interview.dimension_scores = {
            name: float(value) for name, value in outcome.dimension_scores.items()
        }
        interview.report_url = outcome.report_url
        interview.result_source = outcome.source
        interview.result_at = outcome.occurred_at


def _event(
    reached: lifecycle.Status,
    interview: AiInterview,
    *,
    job_id: uuid.UUID,
    candidate_id: uuid.UUID,
    delivery: AiInterviewDelivery,
) -> EventData:
    common: dict[str, Any] = {
        "application_id": interview.application_id,
        "job_id": job_id,
        "candidate_id": candidate_id,
        "vendor": interview.vendor,
        "interview_id": interview.id,
        "occurred_at": delivery.occurred_at,
    }
    if reached == "completed":
        return AiInterviewCompletedV1(**common, score=interview.score)
    if reached == "report_ready":
        return AiInterviewReportReadyV1(
            **common,
            score=interview.score,
            dimension_scores={
                name: Decimal(str(value))
                for name, value in (interview.dimension_scores or {}).items()
            },
        )
    plain: dict[lifecycle.Status, type[EventData]] = {
        "invited": AiInterviewInvitedV1,
        "opened": AiInterviewOpenedV1,
        "started": AiInterviewStartedV1,
        "expired": AiInterviewExpiredV1,
    }
    return plain[reached](**common)


async def for_application(*, session: AsyncSession, application_id: uuid.UUID) -> list[AiInterview]:
    result = await session.execute(
        sa.select(AiInterview)
        .where(AiInterview.application_id == application_id)
        .order_by(AiInterview.created_at, AiInterview.id)
    )
    return list(result.scalars())


async def list_unmatched(
    *, session: AsyncSession, params: PageParams, resolved: bool
) -> tuple[list[UnmatchedDelivery], str | None]:
    condition = (
        UnmatchedDelivery.resolved_at.is_not(None)
        if resolved
        else UnmatchedDelivery.resolved_at.is_(None)
    )
    return await paginate(
        session,
        sa.select(UnmatchedDelivery).where(condition),
        order_by=[UnmatchedDelivery.id],
        params=params,
        descending=True,
    )


async def _locked_open_delivery(session: AsyncSession, delivery_id: int) -> UnmatchedDelivery:
    delivery = (
        await session.execute(
            sa.select(UnmatchedDelivery)
            .where(UnmatchedDelivery.id == delivery_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if delivery is None:
        raise Problem(
            404, "Not found", f"No unmatched delivery with id {delivery_id}.", slug="not-found"
        )
    if delivery.resolved_at is not None:
        raise conflict(
            f"The delivery was already resolved ({delivery.resolution}).",
            slug="already-resolved",
        )
    return delivery


async def dismiss(*, unit: UnitOfWork, delivery_id: int, actor_id: str) -> UnmatchedDelivery:
    """Close an unmatched delivery without applying it."""
    delivery = await _locked_open_delivery(unit.session, delivery_id)
    _resolve(delivery, unit, "dismissed", actor_id)
    return delivery


async def replay(*, unit: UnitOfWork, delivery_id: int, actor_id: str) -> UnmatchedDelivery:
    """Apply a kept delivery now that its application exists, exactly as if it had just come;
    if the vendor's own retry got through meanwhile, only close it."""
    delivery = await _locked_open_delivery(unit.session, delivery_id)
    parsed = AiInterviewDelivery.model_validate(delivery.payload)
    ingested = await ingest(
        unit=unit,
        vendor=delivery.vendor,
        webhook_id=delivery.webhook_id,
        delivery=parsed,
        payload=delivery.payload,
        keep_unmatched=False,
    )
    if ingested.outcome == "unknown_application":
        raise conflict(
            f"There is still no application with id {parsed.application_id}.",
            slug="still-unmatched",
        )
    if ingested.outcome == "interview_mismatch":
        raise conflict(
            "The application still has another interview at this vendor.",
            slug="still-unmatched",
        )
    _resolve(
        delivery,
        unit,
        "already_delivered" if ingested.outcome == "duplicate" else "replayed",
        actor_id,
    )
    return delivery


def _resolve(
    delivery: UnmatchedDelivery,
    unit: UnitOfWork,
    resolution: Literal["dismissed", "replayed", "already_delivered"],
    actor_id: str,
) -> None:
    delivery.resolved_at = unit.clock.now()
    delivery.resolution = resolution
    delivery.resolved_by = actor_id
