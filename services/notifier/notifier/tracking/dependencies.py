"""What the tracking, inbox and receipt routes need: the notifier's settings, its link signer,
and who may call (a staff member for their own inbox, a candidate inbox token for a
candidate's, admins and the candidate portal's back-end to mint such tokens)."""

from __future__ import annotations

import uuid
from typing import Annotated, cast
from weakref import WeakKeyDictionary

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.settings import NotifierSettings
from notifier.tracking.links import BadLink, LinkSigner
from shared.auth.principal import Principal, Role
from shared.http.dependencies import CurrentPrincipal, RuntimeDep, require_role
from shared.problems import forbidden, unauthorized
from shared.service import Runtime

INBOX_SCOPE = "notifications:inbox"

_signers: WeakKeyDictionary[Runtime, LinkSigner] = WeakKeyDictionary()


async def get_settings(runtime: RuntimeDep) -> NotifierSettings:
    return cast(NotifierSettings, runtime.settings)


Settings = Annotated[NotifierSettings, Depends(get_settings)]


async def get_signer(runtime: RuntimeDep) -> LinkSigner:
    """One signer per runtime (deriving the key on every request would be waste)."""
    signer = _signers.get(runtime)
    if signer is None:
        signer = _signers[runtime] = LinkSigner(cast(NotifierSettings, runtime.settings))
    return signer


Signer = Annotated[LinkSigner, Depends(get_signer)]


async def staff_recipient(
    principal: Annotated[Principal, Depends(require_role(Role.HR, Role.ADMIN, Role.INTERVIEWER))],
) -> tuple[str, str]:
    """A staff member's own inbox (HR, admins, and interviewers, whom the scheduler's events
    name by their subject): the recipient ``("staff", subject)``."""
    return "staff", principal.subject


StaffInbox = Annotated[tuple[str, str], Depends(staff_recipient)]

_candidate_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CandidateInboxToken",
    bearerFormat="opaque",
    description="A candidate inbox token from `POST /v1/candidate-inbox-links`, minted for the "
    "candidate portal's back-end; it opens one candidate's in-app inbox until it expires.",
)


async def candidate_recipient(
    runtime: RuntimeDep,
    signer: Signer,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_candidate_bearer)],
) -> tuple[str, str]:
    """The candidate whose inbox the bearer token opens; 401 when it is missing, forged or
    expired (the same answer for each, so a guess learns nothing)."""
    if credentials is None:
        raise unauthorized("A candidate inbox token is required.")
    try:
        grant = signer.read_inbox_token(credentials.credentials)
    except BadLink:
        raise unauthorized("The candidate inbox token is not valid.") from None
    if grant.expires_at <= runtime.clock.now():
        raise unauthorized("The candidate inbox token has expired.")
    return "candidate", str(grant.candidate_id)


CandidateInbox = Annotated[tuple[str, str], Depends(candidate_recipient)]


async def inbox_link_issuer(principal: CurrentPrincipal) -> Principal:
    """Admins, and the suite's services holding the inbox scope (the candidate portal's
    back-end): a token opens a candidate's messages, so HR do not mint them."""
    if principal.role is Role.ADMIN or (
        principal.role is Role.SERVICE and INBOX_SCOPE in principal.scopes
    ):
        return principal
    raise forbidden(f"This needs the admin role, or the service role with the scope {INBOX_SCOPE}.")


InboxLinkIssuer = Annotated[Principal, Depends(inbox_link_issuer)]


def parse_uuid(text: str) -> uuid.UUID | None:
    """A path segment as a UUID, or None (tracking links answer a bad id as a bad link)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
