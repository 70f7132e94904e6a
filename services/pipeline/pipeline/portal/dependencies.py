"""The candidate's access: ``Authorization: Bearer <link token>`` resolved to one application.

An unknown token (or one for another purpose) is a 401; a token that was valid but has expired
or been revoked is a 410, so the portal can tell the candidate to ask for a new link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.applications.models import Application
from pipeline.jobs.models import Job
from pipeline.portal import i18n
from pipeline.portal.service import PURPOSE
from shared.auth.link_tokens import LinkState
from shared.http.dependencies import RuntimeDep, Unit
from shared.problems import Problem, not_found, unauthorized

_link_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CandidateLink",
    bearerFormat="opaque",
    description="The candidate's link token, as issued by `POST /v1/applications/{id}/links`.",
)


@dataclass(frozen=True)
class PortalAccess:
    """Who is calling: the holder of one link, for one application."""

    application_id: uuid.UUID
    link_id: uuid.UUID


def _gone(slug: str, detail: str) -> Problem:
    return Problem(410, "Gone", detail, slug=slug)


async def portal_access(
    runtime: RuntimeDep,
    unit: Unit,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_link_bearer)],
) -> PortalAccess:
    if credentials is None:
        raise unauthorized("A link token is required.")
    assert runtime.link_tokens is not None  # the pipeline defines the link_tokens table
    found = await runtime.link_tokens.lookup(unit.session, credentials.credentials, purpose=PURPOSE)
    if found.state is LinkState.EXPIRED:
        raise _gone("link-expired", "This link has expired. Ask the recruiter for a new one.")
    if found.state is LinkState.REVOKED:
        raise _gone("link-revoked", "This link was withdrawn. Ask the recruiter for a new one.")
    if found.grant is None:
        raise unauthorized("This link is not valid.")
    return PortalAccess(application_id=uuid.UUID(found.grant.subject_id), link_id=found.grant.id)


Access = Annotated[PortalAccess, Depends(portal_access)]


@dataclass(frozen=True)
class PortalApplication:
    """The caller's application and its job, the application locked for the request."""

    application: Application
    job: Job
    link_id: uuid.UUID


_LOCKED = (
    sa.select(Application, Job)
    .join(Job, Job.id == Application.job_id)
    .where(Application.id == sa.bindparam("application_id"))
    .with_for_update(of=Application)
)


async def locked_portal_application(access: Access, unit: Unit) -> PortalApplication:
    row = (await unit.session.execute(_LOCKED, {"application_id": access.application_id})).first()
    if row is None:
        raise not_found("application", access.application_id)
    return PortalApplication(application=row[0], job=row[1], link_id=access.link_id)


LockedPortalApplication = Annotated[PortalApplication, Depends(locked_portal_application)]


async def request_locale(
    accept_language: Annotated[
        str | None,
        Header(
            description="zh-CN or en (the best match of the header); without either, the "
            "language the candidate chose when applying.",
            examples=["en-US,en;q=0.9"],
        ),
    ] = None,
) -> i18n.Locale | None:
    return i18n.requested(accept_language)


RequestLocale = Annotated[i18n.Locale | None, Depends(request_locale)]
"""The language the request asks for, or None: then the candidate's own."""
