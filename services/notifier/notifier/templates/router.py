from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from notifier.kinds import KINDS
from notifier.templates import service
from notifier.templates.dependencies import Editor, Key, TemplateKey
from notifier.templates.models import Template
from notifier.templates.rendering import (
    CHANNEL_PARTS,
    FILTERS,
    REQUIRED_PARTS,
    Source,
    TemplateProblem,
)
from notifier.templates.schemas import (
    PreviewIn,
    PreviewRead,
    TemplateList,
    TemplateRead,
    TemplateSourceIn,
    TemplateSummary,
    TemplateVersionRead,
    TemplateVersionSummary,
)
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, Staff, Unit
from shared.problems import Problem, error_responses, not_found

router = APIRouter(prefix="/v1/templates", tags=["templates"])

VersionPath = Annotated[
    int, Path(ge=0, le=1_000_000, description="A saved version; 0 is the default.", examples=[2])
]


def _invalid(problems: list[TemplateProblem], *, prefix: str = "") -> Problem:
    return Problem(
        422,
        "Invalid template",
        f"{len(problems)} problem(s): " + "; ".join(f"{p.field} {p}" for p in problems[:10]),
        slug="invalid-template",
        errors=[
            {
                # Data problems name their variable (data.x); source problems their part.
                "field": problem.field
                if problem.field.startswith("data.")
                else f"{prefix}{problem.field}",
                "location": "body",
                "message": str(problem),
                "code": problem.code,
                "line": problem.line,
            }
            for problem in problems
        ],
    )


def _render_failed(error: service.TemplateRenderError) -> Problem:
    return Problem(422, "Cannot render", str(error), slug="render-failed")


def _source(body: TemplateSourceIn) -> Source:
    return Source(subject=body.subject, body=body.body, html=body.html)


async def _read(unit: Unit, key: TemplateKey) -> Response:
    kind, channel, locale = key.kind, key.channel, key.locale
    in_force = await service.current(unit.session, kind=kind.name, channel=channel, locale=locale)
    versions = await service.list_versions(
        unit.session, kind=kind.name, channel=channel, locale=locale
    )
    body = TemplateRead(
        kind=kind.name,
        channel=channel,
        locale=locale,
        description=kind.description,
        parts=list(CHANNEL_PARTS[channel]),
        required_parts=list(REQUIRED_PARTS[channel]),
        variables=kind.all_variables(),
        sample_data=kind.sample_data(),
        filters=sorted(FILTERS),
        current_version=in_force.version,
        subject=in_force.source.subject,
        body=in_force.source.body,
        html=in_force.source.html,
        versions=[TemplateVersionSummary.model_validate(v) for v in versions],
    )
    return json_response(body, headers={"ETag": f'"{in_force.version}"'})


def _read_version(template: Template, *, status_code: int = 200) -> Response:
    body = TemplateVersionRead.model_validate(template)
    headers = {"ETag": f'"{template.version}"'}
    if status_code == 201:
        headers["Location"] = (
            f"/v1/templates/{template.kind}/{template.channel}/{template.locale}"
            f"/versions/{template.version}"
        )
    return json_response(body, status_code=status_code, headers=headers)


@router.get(
    "",
    response_model=TemplateList,
    summary="Every kind, channel and locale with the template version in force (0: default)",
    responses=error_responses(401, 403),
)
async def list_templates(unit: Unit, _: Staff) -> TemplateList:
    statuses = await service.overview(unit.session)
    return TemplateList(
        items=[
            TemplateSummary(
                kind=status.kind,
                channel=status.channel,
                locale=status.locale,
                description=KINDS[status.kind].description,
                current_version=status.current_version,
                latest_version=status.latest_version,
            )
            for status in statuses
        ]
    )


@router.get(
    "/{kind}/{channel}/{locale}",
    response_model=TemplateRead,
    summary="The template in force, what it may use, and its saved versions; ETag: the version",
    responses=error_responses(401, 403, 404),
)
async def get_template(unit: Unit, _: Staff, key: Key) -> Response:
    return await _read(unit, key)


@router.get(
    "/{kind}/{channel}/{locale}/versions/{version}",
    response_model=TemplateVersionRead,
    summary="One saved version's source; version 0 is the built-in default",
    responses=error_responses(401, 403, 404, 422),
)
async def get_template_version(unit: Unit, _: Staff, key: Key, version: VersionPath) -> Response:
    kind, channel, locale = key.kind.name, key.channel, key.locale
    if version == 0:
        in_force = await service.current(unit.session, kind=kind, channel=channel, locale=locale)
        default = service.default_source(kind, channel, locale)
        body = TemplateVersionRead(
            kind=kind,
            channel=channel,
            locale=locale,
            version=0,
            active=in_force.version == 0,
            subject=default.subject,
            body=default.body,
            html=default.html,
            created_by=None,
            created_at=None,
        )
        return json_response(body, headers={"ETag": '"0"'})
    template = await service.get_version(
        unit.session, kind=kind, channel=channel, locale=locale, version=version
    )
    if template is None:
        raise not_found(f"version of the {kind} {channel} {locale} template", version)
    return _read_version(template)


@router.post(
    "/{kind}/{channel}/{locale}/versions",
    status_code=201,
    response_model=TemplateVersionRead,
    summary="Save a new version, which is put in force; refused with each problem and its line",
    responses=error_responses(400, 401, 403, 404, 412, 413, 422),
)
async def save_template_version(
    unit: Unit,
    principal: Editor,
    key: Key,
    body: TemplateSourceIn,
    expected_version: IfMatch,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        try:
            template = await service.save(
                unit,
                kind=key.kind,
                channel=key.channel,
                locale=key.locale,
                source=_source(body),
                created_by=principal.subject,
                expected_version=expected_version,
            )
        except service.InvalidTemplate as error:
            raise _invalid(error.problems) from None
        return _read_version(template, status_code=201)

    return await idempotency.run(unit, produce)


@router.post(
    "/{kind}/{channel}/{locale}/versions/{version}/activate",
    response_model=TemplateRead,
    summary="Put an earlier version back in force; version 0 goes back to the default",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def activate_template_version(
    unit: Unit, _: Editor, key: Key, version: VersionPath, expected_version: IfMatch
) -> Response:
    await service.activate(
        unit,
        kind=key.kind,
        channel=key.channel,
        locale=key.locale,
        version=version,
        expected_version=expected_version,
    )
    return await _read(unit, key)


@router.post(
    "/{kind}/{channel}/{locale}/preview",
    response_model=PreviewRead,
    summary="Render a posted source (not saved) or the template in force, with sample data",
    responses=error_responses(401, 403, 404, 413, 422),
)
async def preview_template(unit: Unit, _: Staff, key: Key, body: PreviewIn) -> PreviewRead:
    try:
        rendered = await service.preview(
            unit.session,
            kind=key.kind,
            channel=key.channel,
            locale=key.locale,
            source=_source(body.source) if body.source is not None else None,
            data=body.data,
        )
    except service.InvalidTemplate as error:
        raise _invalid(error.problems, prefix="source.") from None
    except service.TemplateRenderError as error:
        raise _render_failed(error) from None
    return PreviewRead(
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        version=None if body.source is not None else rendered.version,
    )
