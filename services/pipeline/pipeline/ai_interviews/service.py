"""AI interviews: a vendor's verified deliveries accepted in one statement, then folded into the
interview's state (whatever their order) after commit by a durable timer, with its events; and
the deliveries that named no application or another interview, kept for reconciliation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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

_application_refs = sa.select(Application.id, Application.job_id, Application.candidate_id).where(
    Application.id.in_(sa.bindparam("ids", expanding=True))
)
_CREATE_INTERVIEW = pg_insert(AiInterview).on_conflict_do_nothing(
    index_elements=["application_id", "vendor"]
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
    in the ``ai_interview.delivery`` timer (``apply_deliveries``)."""
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


@dataclass(frozen=True)
class Incoming:
    """An accepted delivery to apply: the vendor, its ``webhook-id``, the delivery parsed and as
    it came."""

    vendor: str
    webhook_id: str
    delivery: AiInterviewDelivery
    payload: dict[str, Any]


async def apply_delivery(
    *,
    unit: UnitOfWork,
    vendor: str,
    webhook_id: str,
    delivery: AiInterviewDelivery,
    payload: dict[str, Any],
    keep_unmatched: bool = True,
) -> Applied:
    """``apply_deliveries`` for one delivery (an admin's replay)."""
    (applied,) = await apply_deliveries(
        unit, [Incoming(vendor, webhook_id, delivery, payload)], keep_unmatched=keep_unmatched
    )
    return applied


async def apply_deliveries(
    unit: UnitOfWork, incoming: Sequence[Incoming], *, keep_unmatched: bool = True
) -> list[Applied]:
    """Fold accepted deliveries into their interviews' states, in the order given, and emit the
    event of each status reached for the first time, in the unit's transaction (the timer's,
    or an admin's replay); what became of each, in the same order.

    A batch costs a few statements whatever its size: the applications read at once, their
    interviews locked at once (in id order, so two batches never wait for each other in a
    circle), those missing created at once, every change written in one flush and the events
    in one insert. Several deliveries for one interview are applied one after the other.

    Applying the same delivery twice changes nothing the second time (each status keeps its
    earliest time, the outcome its furthest and latest source), so a retried timer has no
    double effect. A delivery for another interview than the one the application has at this
    vendor is kept (with ``keep_unmatched``) as an ``interview_mismatch``.
    """
    session = unit.session
    refs = {
        row.id: row
        for row in await session.execute(
            _application_refs, {"ids": list({item.delivery.application_id for item in incoming})}
        )
    }
    firsts: dict[tuple[uuid.UUID, str], AiInterviewDelivery] = {}
    for item in incoming:
        if item.delivery.application_id in refs:
            firsts.setdefault((item.delivery.application_id, item.vendor), item.delivery)
    interviews = await _locked_interviews(session, list(firsts))
    missing = {key: delivery for key, delivery in firsts.items() if key not in interviews}
    if missing:
        await _create_interviews(unit, missing)
        interviews.update(await _locked_interviews(session, list(missing)))
    now = unit.clock.now()
    results: list[Applied] = []
    events: list[tuple[EventData, str, int | None]] = []
    changed = False
    for item in incoming:
        delivery = item.delivery
        ref = refs.get(delivery.application_id)
        if ref is None:
            # Accepted while the application existed, gone since: as if it had been unknown
            # when it came (no receipt, kept), so a replay or the vendor's retry can still get
            # through.
            if keep_unmatched:
                await session.execute(
                    sa.delete(_RECEIPTS).where(
                        _RECEIPTS.c.source == item.vendor, _RECEIPTS.c.webhook_id == item.webhook_id
                    )
                )
                await _keep_unmatched(unit, item, "unknown_application")
            results.append(Applied("unknown_application"))
            continue
        # Created above, or by a concurrent first delivery (whose interview_id is compared
        # below, like any other mismatch).
        interview = interviews[delivery.application_id, item.vendor]
        if interview.external_id != delivery.interview_id:
            if keep_unmatched:
                await _keep_unmatched(unit, item, "interview_mismatch")
            results.append(Applied("interview_mismatch", interview))
            continue
        applied = lifecycle.apply(_state_of(interview), _delivery_of(delivery))
        if applied.changed:
            _store(interview, applied.state)
            interview.version += 1
            interview.updated_at = now
            changed = True
        if applied.newly_reached is not None:
            event = _event(
                applied.newly_reached,
                interview,
                job_id=ref.job_id,
                candidate_id=ref.candidate_id,
                delivery=delivery,
            )
            events.append((event, str(interview.id), interview.version))
        results.append(Applied("applied", interview))
    if changed:
        await session.flush()
    if events:
        await unit.emit_many(events)
    return results


async def _locked_interviews(
    session: AsyncSession, keys: list[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], AiInterview]:
    """The interviews of these (application, vendor) pairs, locked in id order."""
    if not keys:
        return {}
    result = await session.execute(
        sa.select(AiInterview)
        .where(sa.tuple_(AiInterview.application_id, AiInterview.vendor).in_(keys))
        .order_by(AiInterview.id)
        .with_for_update()
    )
    return {(row.application_id, row.vendor): row for row in result.scalars()}


async def _create_interviews(
    unit: UnitOfWork, firsts: dict[tuple[uuid.UUID, str], AiInterviewDelivery]
) -> None:
    """Each pair's interview at its vendor, new, from its first delivery; version 0 until its
    first change. ON CONFLICT: a concurrent first delivery may have created one; then that one
    is used. Inserted in key order, so two batches creating the same ones wait in one order."""
    now = unit.clock.now()
    await unit.session.execute(
        _CREATE_INTERVIEW,
        [
            {
                "id": uuid.uuid4(),
                "application_id": application_id,
                "vendor": vendor,
                "external_id": delivery.interview_id,
                "status": delivery.type,
                "version": 0,
                "created_at": now,
                "updated_at": now,
            }
            for (application_id, vendor), delivery in sorted(firsts.items())
        ],
    )


async def _keep_unmatched(
    unit: UnitOfWork,
    item: Incoming,
    reason: Literal["unknown_application", "interview_mismatch"],
) -> None:
    await unit.session.execute(
        pg_insert(_UNMATCHED)
        .values(
            vendor=item.vendor,
            webhook_id=item.webhook_id,
            payload=item.payload,
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
