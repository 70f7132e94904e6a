"""Release policies (how a job type's results reach candidates) and rejection reasons."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.applications.models import Application, StageChange
from pipeline.jobs.models import Job
from pipeline.policies.models import RejectionReason, ReleasePolicy
from pipeline.policies.schemas import (
    RejectionReasonCreate,
    RejectionReasonUpdate,
    ReleasePolicyIn,
)
from pipeline.results.models import Result
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict, not_found, version_mismatch
from shared.unit import UnitOfWork


@dataclass(frozen=True)
class Policy:
    """The policy a decision is made under (a plain copy, so it outlives the session)."""

    job_type: str
    mode: str
    approver_ids: tuple[str, ...]
    step_sla_hours: int
    escalate_to: tuple[str, ...]

    @property
    def gated(self) -> bool:
        """Whether a person must approve before a result is released."""
        return bool(self.approver_ids)


def _default(job_type: str) -> Policy:
    # A job type nobody configured is treated like the seeded ``basic``: released at once.
    return Policy(job_type, "immediate", (), 24, ())


async def policy_for(session: AsyncSession, job_type: str) -> Policy:
    policy = await session.get(ReleasePolicy, job_type)
    if policy is None:
        return _default(job_type)
    return Policy(
        policy.job_type,
        policy.mode,
        tuple(policy.approver_ids),
        policy.step_sla_hours,
        tuple(policy.escalate_to),
    )


async def get(session: AsyncSession, job_type: str) -> ReleasePolicy:
    policy = await session.get(ReleasePolicy, job_type)
    if policy is None:
        raise not_found("release policy", job_type)
    return policy


async def list_policies(
    session: AsyncSession, params: PageParams
) -> tuple[list[ReleasePolicy], str | None]:
    return await paginate(
        session, sa.select(ReleasePolicy), order_by=[ReleasePolicy.job_type], params=params
    )


async def put(
    *,
    unit: UnitOfWork,
    job_type: str,
    policy_in: ReleasePolicyIn,
    expected_version: int | None,
    actor: str,
) -> tuple[ReleasePolicy, bool]:
    """Create or replace the job type's policy; True when it was created."""
    now = unit.clock.now()
    values = {
        "mode": policy_in.mode,
        "approver_ids": policy_in.approver_ids,
        "step_sla_hours": policy_in.step_sla_hours,
        "escalate_to": policy_in.escalate_to,
        "updated_by": actor,
        "updated_at": now,
    }
    existing = await unit.session.get(ReleasePolicy, job_type, with_for_update=True)
    if existing is None:
        if expected_version is not None:
            raise not_found("release policy", job_type)
        inserted = await unit.session.execute(
            pg_insert(ReleasePolicy)
            .values(job_type=job_type, version=1, **values)
            .on_conflict_do_nothing(index_elements=[ReleasePolicy.job_type])
            .returning(ReleasePolicy.job_type)
        )
        if inserted.first() is not None:
            return await get(unit.session, job_type), True
        # Created by a concurrent request meanwhile: replace it, as a later PUT would.
        existing = await unit.session.get(
            ReleasePolicy, job_type, with_for_update=True, populate_existing=True
        )
        assert existing is not None
    if expected_version is not None and expected_version != existing.version:
        raise version_mismatch(existing.version)
    for name, value in values.items():
        setattr(existing, name, value)
    await unit.session.flush()
    return existing, False


async def delete(*, unit: UnitOfWork, job_type: str, expected_version: int | None) -> None:
    policy = await unit.session.get(ReleasePolicy, job_type, with_for_update=True)
    if policy is None:
        raise not_found("release policy", job_type)
    if expected_version is not None and expected_version != policy.version:
        raise version_mismatch(policy.version)
    jobs = await unit.session.scalar(
        sa.select(sa.func.count()).select_from(Job).where(Job.job_type == job_type)
    )
    if jobs:
        raise conflict(
            f"{jobs} job(s) use the job type {job_type!r}; change them first.",
            slug="release-policy-in-use",
            jobs=jobs,
        )
    await unit.session.delete(policy)
    await unit.session.flush()


# Rejection reasons


async def require_active_reason(session: AsyncSession, code: str) -> None:
    """A 422 naming ``reason_code`` unless ``code`` is an active rejection reason."""
    active = await session.scalar(
        sa.select(RejectionReason.active).where(RejectionReason.code == code)
    )
    if not active:
        raise Problem(
            422,
            "Invalid request",
            f"{code!r} is not an active rejection reason; see /v1/rejection-reasons.",
            slug="unknown-rejection-reason",
            errors=[
                {
                    "field": "reason_code",
                    "location": "body",
                    "message": "Not an active rejection reason",
                    "code": "unknown_rejection_reason",
                }
            ],
        )


async def list_reasons(
    session: AsyncSession, params: PageParams, *, active: bool | None
) -> tuple[list[RejectionReason], str | None]:
    statement = sa.select(RejectionReason)
    if active is not None:
        statement = statement.where(RejectionReason.active.is_(active))
    return await paginate(session, statement, order_by=[RejectionReason.code], params=params)


async def get_reason(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> RejectionReason:
    reason = await session.get(RejectionReason, code, with_for_update=for_update)
    if reason is None:
        raise not_found("rejection reason", code)
    return reason


async def create_reason(*, unit: UnitOfWork, reason_in: RejectionReasonCreate) -> RejectionReason:
    inserted = await unit.session.execute(
        pg_insert(RejectionReason)
        .values(**reason_in.model_dump(), active=True, created_at=unit.clock.now())
        .on_conflict_do_nothing(index_elements=[RejectionReason.code])
        .returning(RejectionReason.code)
    )
    if inserted.first() is None:
        raise conflict(f"The rejection reason {reason_in.code!r} exists.", slug="duplicate")
    return await get_reason(unit.session, reason_in.code)


async def update_reason(
    *, unit: UnitOfWork, code: str, update: RejectionReasonUpdate
) -> RejectionReason:
    reason = await get_reason(unit.session, code, for_update=True)
    for name, value in update.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(reason, name, value)
    await unit.session.flush()
    return reason


async def _reason_used(session: AsyncSession, code: str) -> bool:
    uses = [
        sa.select(StageChange.id).where(StageChange.reason_code == code),
        sa.select(Application.id).where(Application.rejection_reason == code),
        sa.select(Result.id).where(Result.reason_code == code),
    ]
    for statement in uses:
        if await session.scalar(sa.select(sa.exists(statement))):
            return True
    return False


async def delete_reason(*, unit: UnitOfWork, code: str) -> RejectionReason | None:
    """Delete an unused reason (None); a used one is only deactivated (and returned), so the
    history that names it keeps its labels."""
    reason = await get_reason(unit.session, code, for_update=True)
    if await _reason_used(unit.session, code):
        reason.active = False
        await unit.session.flush()
        return reason
    await unit.session.delete(reason)
    await unit.session.flush()
    return None
