"""Dependencies every service's routes use: the unit of work (one transaction per request,
committed before the response is sent), the caller, and idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.principal import Principal, Role
from shared.crypto import Keyring
from shared.http.idempotency import Idempotency, check_key
from shared.problems import Problem, forbidden, unauthorized
from shared.service import Runtime
from shared.unit import UnitOfWork


async def get_runtime(request: Request) -> Runtime:
    # async so FastAPI calls it inline; a plain ``def`` dependency is run in the thread pool,
    # a thread hop on every request for an attribute read.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_unit(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    """Commit when the route returns, roll back when it raises; before the response is sent."""
    # Spelled out rather than ``async with sessionmaker() as s, s.begin()``: the transaction
    # begins with the first statement either way, and this saves a greenlet switch for the
    # explicit begin and the task the session's ``__aexit__`` creates to shield its close
    # (FastAPI already shields this exit). Small (about 1% of a request), but on every one.
    session = runtime.db.sessionmaker()
    try:
        yield runtime.unit(session)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


Unit = Annotated[UnitOfWork, Depends(get_unit, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT with `sub`, `role` (hr, interviewer, admin; service for the suite's "
    "own services) and `scope`.",
)


async def optional_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    principal = await runtime.tokens.verify(credentials.credentials)
    request.state.principal_subject = principal.subject
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise unauthorized("A bearer token is required.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only the given roles."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise forbidden(f"This needs one of the roles: {', '.join(sorted(allowed))}.")
        return principal

    return dependency


def require_scopes(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    needed = frozenset(scopes)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = needed - principal.scopes
        if missing:
            raise forbidden(f"Missing scope(s): {', '.join(sorted(missing))}.")
        return principal

    return dependency


async def get_idempotency(
    request: Request,
    runtime: RuntimeDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Makes this POST safe to retry: a repeat with the same key and body "
            "returns the first answer; the same key with another body is refused (422).",
            examples=["5f0c6c1e-6a43-4b8e-9a53-1f1c9e1fb0f1"],
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(
        table=runtime.spec.infra.idempotency_keys,
        key=check_key(idempotency_key),
        principal=principal.subject if principal else "anonymous",
        method=request.method,
        path=request.url.path,
        body=await request.body(),
        retention=timedelta(hours=runtime.settings.idempotency_retention_hours),
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]


async def if_match_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The version you last read, as its ETag (`"3"`); refused with 412 if '
            "the resource has changed since.",
            examples=['"3"'],
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        # "*" matches any current version of a resource that exists, i.e. no version check.
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise Problem(
            400,
            "Bad request",
            'If-Match must be "*" or one version ETag such as "3".',
            slug="invalid-if-match",
        )
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match_version)]


Staff = Annotated[Principal, Depends(require_role(Role.HR, Role.ADMIN))]
"""HR users and admins (object-level checks still apply on top of this)."""

Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
"""Admins only."""


async def get_keyring(request: Request, runtime: RuntimeDep) -> Keyring:
    """The keyring of the service's personal-data keys, built once per app."""
    keyring: Keyring | None = getattr(request.app.state, "pii_keyring", None)
    if keyring is None:
        keyring = Keyring.from_settings(runtime.settings)
        request.app.state.pii_keyring = keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
