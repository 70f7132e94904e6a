"""Candidates' contact data for the suite's own services (the notifier writes to candidates
but keeps no copy of their email or phone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from pipeline.candidates import service
from pipeline.candidates.schemas import ContactLookup, ContactsRead
from shared.auth.principal import Principal, Role
from shared.http.app import json_response
from shared.http.dependencies import KeyringDep, Unit, require_role, require_scopes
from shared.problems import error_responses

CONTACT_SCOPE = "candidates:contact"

router = APIRouter(tags=["candidates"])


@router.post(
    "/v1/candidate-contacts/lookup",
    response_model=ContactsRead,
    summary="Candidates' contact data, decrypted, for a service of the suite",
    responses=error_responses(401, 403, 413, 422),
)
async def look_up_contacts(
    body: ContactLookup,
    unit: Unit,
    keyring: KeyringDep,
    _role: Annotated[Principal, Depends(require_role(Role.SERVICE))],
    _scope: Annotated[Principal, Depends(require_scopes(CONTACT_SCOPE))],
) -> Response:
    """Only for a service token (role `service`) with the scope `candidates:contact`; people
    never call it. Unknown ids are left out of the answer; the answer must not be cached."""
    contacts = await service.read_contacts(
        session=unit.session, keyring=keyring, candidate_ids=body.candidate_ids
    )
    return json_response(ContactsRead(items=contacts), headers={"Cache-Control": "no-store"})
