from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from notifier.rules import service
from notifier.rules.models import Rule
from notifier.rules.schemas import RuleRead, RuleWrite
from shared.http.app import json_response
from shared.http.dependencies import Admin, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, error_responses

router = APIRouter(prefix="/v1/rules", tags=["rules"])


_KIND = Path(
    max_length=64, description="A notification kind (`notifier.kinds`).", examples=["offer"]
)
_AUDIENCE = Path(
    max_length=32,
    description="candidate, hr or interviewers: one the kind has.",
    examples=["candidate"],
)
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": RuleRead, "description": "Created (the rule had been removed)"}
}


def _no_rule(kind: str, audience: str) -> Problem:
    return Problem(
        404, "Not found", f"No rule for kind {kind!r} and audience {audience!r}.", slug="not-found"
    )


def _known(kind: str, audience: str) -> None:
    if not service.is_known(kind, audience):
        raise _no_rule(kind, audience)


def _read(rule: Rule, *, status_code: int = 200) -> Response:
    return json_response(
        RuleRead.of(rule), status_code=status_code, headers={"ETag": f'"{rule.version}"'}
    )


@router.get(
    "",
    response_model=Page[RuleRead],
    summary="Every rule: who is told of each kind, on which channels, and what follows",
    responses=error_responses(400, 401, 403, 422),
)
async def list_rules(unit: Unit, _: Staff, page: PageQuery) -> Page[RuleRead]:
    rules, next_cursor = await service.list_page(unit.session, params=page)
    return Page[RuleRead](items=[RuleRead.of(rule) for rule in rules], next_cursor=next_cursor)


@router.get(
    "/{kind}/{audience}",
    response_model=RuleRead,
    summary="One rule; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_rule(
    unit: Unit,
    _: Staff,
    kind: Annotated[str, _KIND],
    audience: Annotated[str, _AUDIENCE],
) -> Response:
    _known(kind, audience)
    rule = await service.get_rule(unit.session, kind, audience)
    if rule is None:
        raise _no_rule(kind, audience)
    return _read(rule)


@router.put(
    "/{kind}/{audience}",
    response_model=RuleRead,
    summary="Replace a rule (If-Match: its version); applies to notifications planned from now",
    responses={**_CREATED, **error_responses(400, 401, 403, 404, 409, 412, 422)},
)
async def put_rule(
    body: RuleWrite,
    unit: Unit,
    principal: Admin,
    expected_version: IfMatch,
    kind: Annotated[str, _KIND],
    audience: Annotated[str, _AUDIENCE],
) -> Response:
    _known(kind, audience)
    rule, created = await service.put(
        unit=unit,
        kind=kind,
        audience=audience,
        body=body,
        expected_version=expected_version,
        actor=principal.subject,
    )
    return _read(rule, status_code=201 if created else 200)
