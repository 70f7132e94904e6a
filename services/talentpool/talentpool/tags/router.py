from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from talentpool.profiles.dependencies import LiveProfile, VisibleProfile
from talentpool.tags import rule_service, service
from talentpool.tags.dependencies import RuleManager, TagPath
from talentpool.tags.models import TagRule
from talentpool.tags.names import TagName
from talentpool.tags.rules import Trigger
from talentpool.tags.schemas import (
    RULE_EXAMPLES,
    BulkTagRequest,
    BulkTagResult,
    ProfileTagRead,
    ProfileTags,
    TagChangeRead,
    TagPut,
    TagRuleRead,
    TagRuleWrite,
)

router = APIRouter(tags=["tags"])

RuleId = Annotated[
    uuid.UUID,
    Path(description="The rule's id.", examples=["0193b0a5-0000-7000-8000-000000000004"]),
]
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": ProfileTagRead, "description": "The person did not have the tag before"}
}


# A person's tags


@router.get(
    "/v1/profiles/{profile_id}/tags",
    response_model=ProfileTags,
    summary="A person's tags now (a tag whose date has passed is not shown)",
    responses=error_responses(401, 403, 404, 422),
)
async def list_profile_tags(profile: VisibleProfile, unit: Unit) -> ProfileTags:
    tags = await service.current_tags(unit.session, profile_id=profile.id, now=unit.clock.now())
    return ProfileTags(
        profile_id=profile.id, items=[ProfileTagRead.model_validate(tag) for tag in tags]
    )


@router.put(
    "/v1/profiles/{profile_id}/tags/{tag}",
    response_model=ProfileTagRead,
    summary="Give a person a tag, or change its date or note (added: 201, else 200)",
    description="`on_hold` needs `until` (in the future); any `until` ends the tag then. "
    "Putting a tag the person has with the same date and note changes nothing (no history "
    "row, no event). A merged or anonymized profile answers 409.",
    responses={**_CREATED, **error_responses(401, 403, 404, 409, 422)},
)
async def put_profile_tag(
    profile: LiveProfile, tag: TagPath, body: TagPut, unit: Unit, principal: Staff
) -> Response:
    had = await service.current_tag(unit.session, profile_id=profile.id, tag=tag)
    await service.apply(
        unit,
        profile_ids=[profile.id],
        tag=tag,
        action="add",
        source="manual",
        actor=principal.subject,
        until=body.until,
        note=body.note,
    )
    stored = await service.current_tag(unit.session, profile_id=profile.id, tag=tag)
    assert stored is not None
    return json_response(ProfileTagRead.model_validate(stored), status_code=200 if had else 201)


@router.delete(
    "/v1/profiles/{profile_id}/tags/{tag}",
    status_code=204,
    summary="Take a tag away from a person (204 also when they did not have it)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delete_profile_tag(
    profile: LiveProfile, tag: TagPath, unit: Unit, principal: Staff
) -> Response:
    await service.apply(
        unit,
        profile_ids=[profile.id],
        tag=tag,
        action="remove",
        source="manual",
        actor=principal.subject,
    )
    return Response(status_code=204)


@router.get(
    "/v1/profiles/{profile_id}/tag-history",
    response_model=Page[TagChangeRead],
    summary="Every change of a person's tags, newest first: who or which rule, and why",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def tag_history(
    profile: VisibleProfile,
    unit: Unit,
    page: PageQuery,
    tag: Annotated[
        TagName | None, Query(description="Only this tag's changes.", examples=["on_hold"])
    ] = None,
) -> Page[TagChangeRead]:
    changes, next_cursor = await service.history(
        unit.session, profile_id=profile.id, tag=tag, params=page
    )
    return Page[TagChangeRead](
        items=[TagChangeRead.model_validate(change) for change in changes],
        next_cursor=next_cursor,
    )


@router.post(
    "/v1/tags/bulk",
    response_model=BulkTagResult,
    summary="Tag or untag up to 1,000 people in one call (all or none)",
    description="Every profile must exist, be visible to you and be neither merged nor "
    "anonymized; otherwise 422 lists them (`errors`, `profile_ids`) and nothing changes. "
    "Safe to retry with an `Idempotency-Key`.",
    responses=error_responses(401, 403, 413, 422),
)
async def bulk_tag(
    body: BulkTagRequest, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        profile_ids = list(dict.fromkeys(body.profile_ids))
        await service.check_bulk_targets(unit.session, principal=principal, profile_ids=profile_ids)
        changed = await service.apply(
            unit,
            profile_ids=profile_ids,
            tag=body.tag,
            action=body.action,
            source="manual",
            actor=principal.subject,
            until=body.until if body.action == "add" else None,
            note=body.note if body.action == "add" else None,
        )
        return json_response(BulkTagResult(changed=changed, unchanged=len(profile_ids) - changed))

    return await idempotency.run(unit, produce)


# Tag rules


def _rule(rule: TagRule, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"ETag": f'"{rule.version}"'}
    if location:
        headers["Location"] = f"/v1/tag-rules/{rule.id}"
    return json_response(rule_service.read(rule), status_code=status_code, headers=headers)


RuleBody = Annotated[TagRuleWrite, Body(openapi_examples=RULE_EXAMPLES)]


@router.get(
    "/v1/tag-rules",
    response_model=Page[TagRuleRead],
    summary="The tag rules, built-in ones included, oldest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_tag_rules(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    trigger: Annotated[Trigger | None, Query(examples=["application_ended"])] = None,
    tag: Annotated[TagName | None, Query(examples=["runner_up"])] = None,
    enabled: Annotated[bool | None, Query(examples=[True])] = None,
) -> Page[TagRuleRead]:
    rules, next_cursor = await rule_service.list_rules(
        unit.session, params=page, trigger=trigger, tag=tag, enabled=enabled
    )
    return Page[TagRuleRead](
        items=[rule_service.read(rule) for rule in rules], next_cursor=next_cursor
    )


@router.post(
    "/v1/tag-rules",
    status_code=201,
    response_model=TagRuleRead,
    summary="Create a tag rule: when an event of `trigger` meets `conditions`, tag the person",
    description="`trigger` picks the conditions model; an unknown field anywhere is a 422 "
    "naming it. Needs the scope `talentpool:search` (or an admin).",
    responses=error_responses(401, 403, 409, 413, 422),
)
async def create_tag_rule(
    body: RuleBody, unit: Unit, principal: RuleManager, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        rule = await rule_service.create(unit=unit, principal=principal, body=body)
        return _rule(rule, status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/tag-rules/{rule_id}",
    response_model=TagRuleRead,
    summary="One tag rule; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_tag_rule(rule_id: RuleId, unit: Unit, principal: Staff) -> Response:
    return _rule(await rule_service.get(unit.session, rule_id))


@router.put(
    "/v1/tag-rules/{rule_id}",
    response_model=TagRuleRead,
    summary="Replace a tag rule (If-Match required); disable one with `enabled: false`",
    description="A built-in rule may only be enabled, disabled or given `until_days` (409 "
    "otherwise). Changes count from the next batch of events on.",
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
async def replace_tag_rule(
    rule_id: RuleId,
    body: RuleBody,
    unit: Unit,
    principal: RuleManager,
    expected_version: IfMatch,
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    rule = await rule_service.replace(
        unit=unit,
        rule_id=rule_id,
        body=body,
        expected_version=expected_version,
        if_match_given=if_match is not None,
    )
    return _rule(rule)


@router.delete(
    "/v1/tag-rules/{rule_id}",
    status_code=204,
    summary="Delete a tag rule (a built-in one cannot be: disable it)",
    description="The tags it gave stay, and their history keeps its id.",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def delete_tag_rule(
    rule_id: RuleId, unit: Unit, principal: RuleManager, expected_version: IfMatch
) -> Response:
    await rule_service.delete(unit=unit, rule_id=rule_id, expected_version=expected_version)
    return Response(status_code=204)
