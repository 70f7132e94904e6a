from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, KeyringDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from talentpool.profiles import service
from talentpool.profiles.dependencies import LiveProfile, VisibleProfile
from talentpool.profiles.schemas import (
    MergeCreate,
    MergeRead,
    NoteCreate,
    NoteRead,
    ProfileChange,
    ProfileRead,
    ProfileSummary,
    UnmergeCreate,
)

router = APIRouter(prefix="/v1/profiles", tags=["profiles"])

_NO_STORE = {"Cache-Control": "no-store"}


def _respond(profile: ProfileRead, *, status_code: int = 200) -> Response:
    # Contact data is personal: no cache (browser, proxy) may keep a copy.
    return json_response(
        profile, status_code=status_code, headers={"ETag": f'"{profile.version}"', **_NO_STORE}
    )


@router.get(
    "",
    response_model=Page[ProfileSummary],
    summary="People in the pool you may see, most recently active first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_profiles(
    unit: Unit,
    principal: Staff,
    keyring: KeyringDep,
    page: PageQuery,
    email: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=254,
            description="Exact match on the normalized address (by its blind index).",
            examples=["han.meimei@example.com"],
        ),
    ] = None,
    phone: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=40,
            description="Exact match on the number in E.164 (by its blind index); a number "
            "without a country code is read as a mainland China one.",
            examples=["13812345678"],
        ),
    ] = None,
    candidate_id: Annotated[
        uuid.UUID | None,
        Query(description="The profile holding this pipeline candidate."),
    ] = None,
) -> Response:
    """Admins and HR with the `talentpool:search` scope see the whole pool; other HR only people
    who applied to a job they own. Profiles merged into another are not listed."""
    items, next_cursor = await service.listing(
        unit.session,
        principal=principal,
        keyring=keyring,
        params=page,
        now=unit.clock.now(),
        email=email,
        phone=phone,
        candidate_id=candidate_id,
    )
    return json_response(
        Page[ProfileSummary](items=items, next_cursor=next_cursor), headers=_NO_STORE
    )


@router.get(
    "/{profile_id}",
    response_model=ProfileRead,
    summary="A person: contact data, skills, engagement with its parts, furthest stage, tags",
    responses=error_responses(401, 403, 404, 422),
)
async def get_profile(profile: VisibleProfile, unit: Unit, keyring: KeyringDep) -> Response:
    """A profile merged into another answers 200 with `merged_into` set (and no members): the
    person is now that profile, which the client should follow. Its ETag is its version."""
    return _respond(await service.read(unit.session, profile, keyring, unit.clock.now()))


@router.patch(
    "/{profile_id}",
    response_model=ProfileRead,
    summary="Change a person's skills, location, language or resume text",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def change_profile(
    profile: LiveProfile,
    body: ProfileChange,
    unit: Unit,
    keyring: KeyringDep,
    expected_version: IfMatch,
) -> Response:
    """Only the fields sent change. Send the version read as `If-Match` (412 when someone changed
    it since). A merged or anonymized profile cannot be changed (409)."""
    changed = await service.change(
        unit=unit, keyring=keyring, profile=profile, body=body, expected_version=expected_version
    )
    return _respond(await service.read(unit.session, changed, keyring, unit.clock.now()))


@router.post(
    "/{profile_id}/notes",
    status_code=201,
    response_model=NoteRead,
    summary="Write a note on a person (stored encrypted, searchable)",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def add_note(
    profile: LiveProfile,
    body: NoteCreate,
    unit: Unit,
    principal: Staff,
    keyring: KeyringDep,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        note = await service.add_note(
            unit=unit, keyring=keyring, profile=profile, author=principal.subject, body=body.body
        )
        return json_response(service.note_read(note, keyring), status_code=201, headers=_NO_STORE)

    return await idempotency.run(unit, produce)


@router.get(
    "/{profile_id}/notes",
    response_model=Page[NoteRead],
    summary="Notes on a person (and on profiles merged into it), newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_notes(
    profile: VisibleProfile, unit: Unit, keyring: KeyringDep, page: PageQuery
) -> Response:
    found, next_cursor = await service.notes(unit.session, profile_id=profile.id, params=page)
    return json_response(
        Page[NoteRead](
            items=[service.note_read(note, keyring) for note in found], next_cursor=next_cursor
        ),
        headers=_NO_STORE,
    )


@router.post(
    "/{profile_id}/merge",
    status_code=201,
    response_model=MergeRead,
    summary="Merge another profile of the same person into this one",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def merge_profile(
    profile: VisibleProfile,
    body: MergeCreate,
    unit: Unit,
    principal: Staff,
    keyring: KeyringDep,
    idempotency: IdempotencyDep,
) -> Response:
    """The other profile's candidates (and so their timelines and applications) move to this one;
    the other keeps its row with `merged_into` set. Merging a profile with itself is 422; with
    one already merged or anonymized, 409. Undo with `POST .../unmerge`."""

    async def produce() -> Response:
        record = await service.merge_by_hr(
            unit=unit,
            keyring=keyring,
            principal=principal,
            profile=profile,
            other_id=body.other_profile_id,
        )
        return json_response(service.merge_read(record), status_code=201)

    return await idempotency.run(unit, produce)


@router.post(
    "/{profile_id}/unmerge",
    response_model=MergeRead,
    summary="Undo a merge into this profile: the candidates it moved go back",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def unmerge_profile(
    profile: VisibleProfile,
    body: UnmergeCreate,
    unit: Unit,
    principal: Staff,
    keyring: KeyringDep,
) -> MergeRead:
    """Merges are undone latest first: a profile that was itself merged since cannot be
    unmerged from (409, unmerge it first). Undoing a merge twice is 409."""
    record = await service.unmerge(
        unit=unit, keyring=keyring, principal=principal, profile=profile, merge_id=body.merge_id
    )
    return service.merge_read(record)


@router.get(
    "/{profile_id}/merges",
    response_model=Page[MergeRead],
    summary="Merges into and out of a profile, newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_merges(profile: VisibleProfile, unit: Unit, page: PageQuery) -> Page[MergeRead]:
    found, next_cursor = await service.merges(unit.session, profile_id=profile.id, params=page)
    return Page[MergeRead](
        items=[service.merge_read(record) for record in found], next_cursor=next_cursor
    )
