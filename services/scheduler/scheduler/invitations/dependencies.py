"""Who may touch an invitation: staff of its job (admins: all; HR: jobs they own; anyone
else 404), and the candidate holding its link (``Authorization: Bearer <link token>``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scheduler.invitations import service
from scheduler.invitations.models import Invitation
from scheduler.jobs.dependencies import can_see_job
from shared.auth.link_tokens import LinkState
from shared.http.dependencies import RuntimeDep, Staff, Unit
from shared.problems import Problem, not_found, unauthorized

InvitationId = Annotated[uuid.UUID, Path(description="The invitation's id.")]


async def visible_invitation(
    invitation_id: InvitationId, unit: Unit, principal: Staff
) -> Invitation:
    invitation = await unit.session.get(Invitation, invitation_id)
    if invitation is None or not await can_see_job(unit.session, principal, invitation.job_id):
        raise not_found("invitation", invitation_id)
    return invitation


async def locked_invitation(
    invitation_id: InvitationId, unit: Unit, principal: Staff
) -> Invitation:
    invitation = await unit.session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or not await can_see_job(unit.session, principal, invitation.job_id):
        raise not_found("invitation", invitation_id)
    return invitation


VisibleInvitation = Annotated[Invitation, Depends(visible_invitation)]
LockedInvitation = Annotated[Invitation, Depends(locked_invitation)]

_link_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="InvitationLink",
    bearerFormat="opaque",
    description="The candidate's invitation link token, as returned by `POST /v1/invitations`.",
)


def _gone(slug: str, detail: str) -> Problem:
    return Problem(410, "Gone", detail, slug=slug)


async def candidate_invitation(
    runtime: RuntimeDep,
    unit: Unit,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_link_bearer)],
) -> Invitation:
    """The invitation behind the link, locked for the request: 401 for no or an unknown token,
    410 for an expired or revoked link and for a closed or withdrawn invitation."""
    if credentials is None:
        raise unauthorized("A link token is required.")
    assert runtime.link_tokens is not None  # the scheduler defines the link_tokens table
    found = await runtime.link_tokens.lookup(
        unit.session, credentials.credentials, purpose=service.PURPOSE
    )
    if found.state is LinkState.EXPIRED:
        raise _gone("link-expired", "This link has expired. Ask the recruiter for a new one.")
    if found.state is LinkState.REVOKED:
        raise _gone("link-revoked", "This link was withdrawn. Ask the recruiter for a new one.")
    if found.grant is None:
        raise unauthorized("This link is not valid.")
    invitation = await unit.session.get(
        Invitation, uuid.UUID(found.grant.subject_id), with_for_update=True
    )
    if invitation is None:
        raise unauthorized("This link is not valid.")
    if invitation.state in ("closed", "cancelled"):
        raise service.invitation_gone(invitation)
    return invitation


CandidateInvitation = Annotated[Invitation, Depends(candidate_invitation)]
