from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from pipeline.templates import service
from pipeline.templates.dependencies import LockedTemplate, VisibleTemplate
from pipeline.templates.models import StageTemplate, StageTemplateVersion
from pipeline.templates.schemas import (
    StageOut,
    TemplateCreate,
    TemplateRead,
    TemplateSummary,
    TemplateVersionCreate,
    TemplateVersionRead,
    TemplateVersionSummary,
)
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(prefix="/v1/stage-templates", tags=["templates"])


def _read(
    template: StageTemplate,
    versions: list[StageTemplateVersion],
    *,
    status_code: int = 200,
    location: bool = False,
) -> Response:
    latest = versions[-1]
    body = TemplateRead.model_validate(
        {
            **TemplateSummary.model_validate(template).model_dump(),
            "stages": [StageOut.model_validate(stage) for stage in latest.stages],
            "versions": [TemplateVersionSummary.model_validate(v) for v in versions],
        }
    )
    headers = {"ETag": f'"{template.latest_version}"'}
    if location:
        headers["Location"] = f"/v1/stage-templates/{template.id}"
    return json_response(body, status_code=status_code, headers=headers)


def _read_version(version: StageTemplateVersion, *, status_code: int = 200) -> Response:
    body = TemplateVersionRead.model_validate(version)
    headers = {"ETag": f'"{version.version}"'}
    if status_code == 201:
        headers["Location"] = (
            f"/v1/stage-templates/{version.template_id}/versions/{version.version}"
        )
    return json_response(body, status_code=status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=TemplateRead,
    summary="Create a stage template (its version 1)",
    responses=error_responses(401, 403, 413, 422),
)
async def create_template(
    body: TemplateCreate, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        template, version = await service.create(unit=unit, principal=principal, template_in=body)
        return _read(template, [version], status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[TemplateSummary],
    summary="Stage templates, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_templates(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    include_archived: Annotated[bool, Query(description="Also list archived templates.")] = False,
) -> Page[TemplateSummary]:
    templates, next_cursor = await service.list_templates(
        session=unit.session, params=page, include_archived=include_archived
    )
    return Page[TemplateSummary](
        items=[TemplateSummary.model_validate(t) for t in templates], next_cursor=next_cursor
    )


@router.get(
    "/{template_id}",
    response_model=TemplateRead,
    summary="One template: its latest stages and its versions; its ETag is the latest version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_template(template: VisibleTemplate, unit: Unit) -> Response:
    versions = await service.versions(session=unit.session, template_id=template.id)
    return _read(template, versions)


@router.get(
    "/{template_id}/versions/{version}",
    response_model=TemplateVersionRead,
    summary="One version of a template, with its stages",
    responses=error_responses(401, 403, 404, 422),
)
async def get_template_version(
    template: VisibleTemplate,
    unit: Unit,
    version: Annotated[int, Path(ge=1, description="The version number.")],
) -> Response:
    found = await service.get_version(
        session=unit.session, template_id=template.id, version=version
    )
    if found is None:
        raise not_found("version of this template", version)
    return _read_version(found)


@router.post(
    "/{template_id}/versions",
    status_code=201,
    response_model=TemplateVersionRead,
    summary="Edit a template: add its next version (jobs already created keep their stages)",
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422),
)
async def add_template_version(
    template: LockedTemplate,
    body: TemplateVersionCreate,
    unit: Unit,
    principal: Staff,
    expected_version: IfMatch,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        version = await service.add_version(
            unit=unit,
            principal=principal,
            template=template,
            expected_version=expected_version,
            stages=body.stages,
        )
        return _read_version(version, status_code=201)

    return await idempotency.run(unit, produce)


@router.post(
    "/{template_id}/archive",
    response_model=TemplateRead,
    summary="Archive a template: no new job may use it; jobs that did are unaffected",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def archive_template(
    template: LockedTemplate, unit: Unit, principal: Staff, expected_version: IfMatch
) -> Response:
    archived = await service.archive(
        unit=unit, principal=principal, template=template, expected_version=expected_version
    )
    versions = await service.versions(session=unit.session, template_id=archived.id)
    return _read(archived, versions)
