"""AI interviews: a vendor's verified deliveries accepted in one statement, then folded into the
interview's state (whatever their order) after commit by a durable timer, with its events; and
the deliveries that named no application or another interview, kept for reconciliation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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

# The durable timer that applies an accepted delivery after commit; its key is
# ``<vendor>:<webhook-id>``, its payload ``{vendor, webhook_id, delivery}``.
DELIVERY_TIMER = "ai_interview.delivery"

_TWO_PLACES = Decimal("0.01")
_APPLICATIONS = cast(sa.Table, Application.__table__)
_RECEIPTS = cast(sa.Table, infra.webhook_receipts)
_TIMERS = infra.timers
_UNMATCHED = cast(sa.Table, UnmatchedDelivery.__table__)

# The timestamp column of each status.
_COLUMN: dict[lifecycle.Status, str] = {status: f"{status}_at" for status in lifecycle.STATUSES}

_application_refs = sa.select(Application.job_id, Application.candidate_id).where(
    Application.id == sa.bindparam("application_id")
)


def _accept_statement() -> sa.Select[tuple[bool, bool, int]]:
    """One statement, one round trip: if the application exists, record the receipt (a conflict
    on vendor + ``webhook-id`` is a replay) and, only for a new receipt, the timer that applies
    the delivery; if it does not, keep the delivery in ``unmatched_deliveries`` (once)."""
    vendor = sa.bindparam("vendor", type_=sa.Text)
    webhook_id = sa.bindparam("webhook_id", type_=sa.Text)
    payload = sa.bindparam("payload", type_=JSONB)
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    application = (
        sa.select(_APPLICATIONS.c.id)
        .where(_APPLICATIONS.c.id == sa.bindparam("application_id", type_=sa.Uuid))
        .cte("application")
    )
    known = sa.exists(sa.select(application.c.id))
    receipt = (
        pg_insert(_RECEIPTS)
        .from_select(
            ["source", "webhook_id", "payload", "received_at"],
            sa.select(vendor, webhook_id, payload, now).where(known),
        )
        .on_conflict_do_nothing(index_elements=["source", "webhook_id"])
        .returning(_RECEIPTS.c.source, _RECEIPTS.c.webhook_id, _RECEIPTS.c.payload)
        .cte("receipt")
    )
    timer = (
        pg_insert(_TIMERS)
        .from_select(
            ["kind", "key", "due_at", "payload"],
            sa.select(
                sa.literal(DELIVERY_TIMER, sa.Text),
                receipt.c.source + ":" + receipt.c.webhook_id,
                now,
                sa.func.jsonb_build_object(
                    "vendor",
                    receipt.c.source,
                    "webhook_id",
                    receipt.c.webhook_id,
                    "delivery",
                    receipt.c.payload,
                ),
            ),
        )
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        .returning(_TIMERS.c.id)
        .cte("timer")
    )
    unmatched = (
        pg_insert(_UNMATCHED)
        .from_select(
            ["vendor", "webhook_id", "payload", "reason", "received_at"],
            sa.select(
                vendor, webhook_id, payload, sa.literal("unknown_application", sa.Text), now
            ).where(~known),
        )
        .on_conflict_do_nothing(index_elements=["vendor", "webhook_id"])
        .returning(_UNMATCHED.c.id)
        .cte("unmatched")
    )
    # Every data-modifying CTE must be named by the outer query, or SQLAlchemy leaves it out.
    return sa.select(
        known.label("known"),
        sa.exists(sa.select(receipt.c.webhook_id)).label("recorded"),
        (
            sa.select(sa.func.count()).select_from(timer).scalar_subquery()
            + sa.select(sa.func.count()).select_from(unmatched).scalar_subquery()
        ).label("written"),
    )


# Built once: the request path only binds parameters (its compiled form is cached too).
_ACCEPT = _accept_statement()

Accepted = Literal["accepted", "duplicate", "unknown_application"]


async def accept(
    *,
    engine: AsyncEngine,
    now: datetime,
    vendor: str,
    webhook_id: str,
    delivery: AiInterviewDelivery,
    payload: dict[str, Any],
) -> Accepted:
    """Accept a verified delivery in one statement, in autocommit (a single statement is its
    own transaction): no ORM, no BEGIN/COMMIT round trips. The state work happens after commit,
    in the ``ai_interview.delivery`` timer (``apply_delivery``)."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (
            await autocommit.execute(
                _ACCEPT,
                {
                    "application_id": delivery.application_id,
                    "vendor": vendor,
                    "webhook_id": webhook_id,
                    "payload": payload,
                    "now": now,
                },
            )
        ).one()
    if not row.known:
        return "unknown_application"
    return "accepted" if row.recorded else "duplicate"


@dataclass(frozen=True)
class Applied:
    """What became of one delivery once applied."""

    outcome: Literal["applied", "unknown_application", "interview_mismatch"]
    interview: AiInterview | None = None


async def apply_delivery(
    *,
    unit: UnitOfWork,
    vendor: str,
    webhook_id: str,
    delivery: AiInterviewDelivery,
    payload: dict[str, Any],
    keep_unmatched: bool = True,
) -> Applied:
    """Fold an accepted delivery into the interview's state and emit the event of a status
    reached for the first time, in the unit's transaction (the timer's, or an admin's replay).

    Applying the same delivery twice changes nothing the second time (each status keeps its
    earliest time, the outcome its furthest and latest source), so a retried timer has no
    double effect. A delivery for another interview than the one the application has at this
    vendor is kept (with ``keep_unmatched``) as an ``interview_mismatch``.
    """
    refs = (
        await unit.session.execute(_application_refs, {"application_id": delivery.application_id})
    ).first()
    if refs is None:
        # Accepted while the application existed, gone since: as if it had been unknown when it
        # came (no receipt, kept), so a replay or the vendor's retry can still get through.
        if keep_unmatched:
            await unit.session.execute(
                sa.delete(_RECEIPTS).where(
                    _RECEIPTS.c.source == vendor, _RECEIPTS.c.webhook_id == webhook_id
                )
            )
            await _keep_unmatched(unit, vendor, webhook_id, payload, "unknown_application")
        return Applied("unknown_application")
    interview = await _locked_interview(unit.session, delivery.application_id, vendor)
    if interview is None:
        interview = await _create_interview(unit, vendor, delivery)
    if interview.external_id != delivery.interview_id:
        if keep_unmatched:
            await _keep_unmatched(unit, vendor, webhook_id, payload, "interview_mismatch")
        return Applied("interview_mismatch", interview)
    now = unit.clock.now()
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
    return Applied("applied", interview)


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
    assert interview is not None  # inserted above, or by the delivery we raced (whose
    # interview_id the caller compares, like any other mismatch)
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
    """Apply a kept delivery now (in this transaction), exactly as if it had just come; if the
    vendor's own retry got through meanwhile, only close it.

    One kept as ``unknown_application`` has no receipt yet: it is recorded now, and a receipt
    already there means the vendor's retry was accepted (and is, or will be, applied by its
    timer). One kept as ``interview_mismatch`` was accepted (it has its receipt) and is applied
    as it is, once the application's interview at the vendor is the one it names.
    """
    delivery = await _locked_open_delivery(unit.session, delivery_id)
    parsed = AiInterviewDelivery.model_validate(delivery.payload)
    if delivery.reason == "unknown_application":
        known = await unit.session.scalar(
            sa.select(_APPLICATIONS.c.id).where(_APPLICATIONS.c.id == parsed.application_id)
        )
        if known is None:
            raise conflict(
                f"There is still no application with id {parsed.application_id}.",
                slug="still-unmatched",
            )
        if not await record_receipt(
            unit.session,
            _RECEIPTS,
            sender=delivery.vendor,
            webhook_id=delivery.webhook_id,
            payload=delivery.payload,
        ):
            _resolve(delivery, unit, "already_delivered", actor_id)
            return delivery
    applied = await apply_delivery(
        unit=unit,
        vendor=delivery.vendor,
        webhook_id=delivery.webhook_id,
        delivery=parsed,
        payload=delivery.payload,
        keep_unmatched=False,
    )
    if applied.outcome == "unknown_application":
        raise conflict(
            f"There is still no application with id {parsed.application_id}.",
            slug="still-unmatched",
        )
    if applied.outcome == "interview_mismatch":
        # Raised, so the receipt recorded above is rolled back with the rest.
        raise conflict(
            "The application still has another interview at this vendor.",
            slug="still-unmatched",
        )
    _resolve(delivery, unit, "replayed", actor_id)
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
