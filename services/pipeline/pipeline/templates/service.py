"""Stage templates: reusable, versioned lists of stages. A version is never changed once
written; editing a template adds a version, and jobs keep a copy of the version they used."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.templates.models import StageTemplate, StageTemplateVersion
from pipeline.templates.schemas import StageIn, TemplateCreate
from shared.auth.principal import Principal, Role
from shared.http.pagination import PageParams, paginate
from shared.problems import conflict, forbidden, version_mismatch
from shared.unit import UnitOfWork


def stage_rows(stages: list[StageIn]) -> list[dict[str, Any]]:
    return [stage.model_dump() for stage in stages]


async def create(
    *, unit: UnitOfWork, principal: Principal, template_in: TemplateCreate
) -> tuple[StageTemplate, StageTemplateVersion]:
    now = unit.clock.now()
    template = StageTemplate(
        id=uuid.uuid4(),
        name=template_in.name,
        description=template_in.description,
        latest_version=1,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    version = StageTemplateVersion(
        template_id=template.id,
        version=1,
        stages=stage_rows(template_in.stages),
        created_by=principal.subject,
        created_at=now,
    )
    unit.session.add(template)
    await unit.session.flush()  # the version's foreign key needs the template first
    unit.session.add(version)
    await unit.session.flush()
    return template, version


async def get(
    *, session: AsyncSession, template_id: uuid.UUID, for_update: bool = False
) -> StageTemplate | None:
    statement = sa.select(StageTemplate).where(StageTemplate.id == template_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def versions(*, session: AsyncSession, template_id: uuid.UUID) -> list[StageTemplateVersion]:
    result = await session.execute(
        sa.select(StageTemplateVersion)
        .where(StageTemplateVersion.template_id == template_id)
        .order_by(StageTemplateVersion.version)
    )
    return list(result.scalars())


async def get_version(
    *, session: AsyncSession, template_id: uuid.UUID, version: int
) -> StageTemplateVersion | None:
    return await session.get(StageTemplateVersion, (template_id, version))


async def list_templates(
    *, session: AsyncSession, params: PageParams, include_archived: bool
) -> tuple[list[StageTemplate], str | None]:
    statement = sa.select(StageTemplate)
    if not include_archived:
        statement = statement.where(StageTemplate.archived_at.is_(None))
    return await paginate(
        session,
        statement,
        order_by=[StageTemplate.created_at, StageTemplate.id],
        params=params,
        descending=True,
    )


def _check_may_edit(principal: Principal, template: StageTemplate) -> None:
    # Templates are shared configuration every staff member may read (so not hidden with a
    # 404); changing one is for the HR user who created it, or an admin.
    if principal.role is not Role.ADMIN and principal.subject != template.created_by:
        raise forbidden("Only the template's creator or an admin may change it.")


async def add_version(
    *,
    unit: UnitOfWork,
    principal: Principal,
    template: StageTemplate,
    expected_version: int | None,
    stages: list[StageIn],
) -> StageTemplateVersion:
    """The template's next version; ``template`` must be locked (``LockedTemplate``)."""
    _check_may_edit(principal, template)
    if expected_version is not None and expected_version != template.latest_version:
        raise version_mismatch(template.latest_version)
    if template.archived_at is not None:
        raise conflict("The template is archived; it takes no new versions.", slug="archived")
    now = unit.clock.now()
    template.latest_version += 1
    template.updated_at = now
    version = StageTemplateVersion(
        template_id=template.id,
        version=template.latest_version,
        stages=stage_rows(stages),
        created_by=principal.subject,
        created_at=now,
    )
    unit.session.add(version)
    await unit.session.flush()
    return version


async def archive(
    *,
    unit: UnitOfWork,
    principal: Principal,
    template: StageTemplate,
    expected_version: int | None,
) -> StageTemplate:
    """Archived templates stay readable (jobs name them) but no new job may use them.
    Archiving an archived template changes nothing."""
    _check_may_edit(principal, template)
    if expected_version is not None and expected_version != template.latest_version:
        raise version_mismatch(template.latest_version)
    if template.archived_at is None:
        now = unit.clock.now()
        template.archived_at = now
        template.updated_at = now
        await unit.session.flush()
    return template
