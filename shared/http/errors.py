"""Exception handlers: everything a client gets back as an error is a problem document."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from shared.logging import get_logger
from shared.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type, service_unavailable

log = get_logger(__name__)

_HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_response(
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def render(request: Request, problem: Problem) -> Response:
    body = problem.body(instance=request.url.path, request_id=request_id_of(request))
    return problem_response(problem.status, body, problem.headers)


# Failures of reaching or keeping a connection, as opposed to bad SQL or violated constraints.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable; TimeoutError is one too
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
)


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection-level database failures (not bad SQL or constraint violations)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    # SQLAlchemy wraps the driver's error (``orig``), which wraps asyncpg's (``__cause__``).
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.TimeoutError):  # pool exhausted
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError):
            if current.connection_invalidated:
                return True
            if current.orig is not None:
                current = current.orig
                continue
        if isinstance(current, _UNAVAILABLE) and (
            not isinstance(current, OSError) or _raised_by_database_driver(current)
        ):
            return True
        current = current.__cause__
    return False


_DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def _raised_by_database_driver(exc: BaseException) -> bool:
    """An OSError is a database outage only if the driver raised it; a refused SMTP or vendor
    connection is not (it stays a 500 here, or is handled by the code that made it)."""
    traceback = exc.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] in _DRIVER_MODULES:
            return True
        traceback = traceback.tb_next
    return False


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:])
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            field = ""
            message = f"Malformed JSON: {error.get('ctx', {}).get('error', 'cannot be parsed')}"
        elif error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # A tagged union reports the union's place; the field at fault is its tag.
            tag = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
            field = ".".join([*loc[1:], tag]) if tag else field
        errors.append(
            {
                "field": field,
                "location": location,
                "message": message,
                "code": str(error.get("type")),
            }
        )
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        named = ", ".join(
            f"{e['location']}.{e['field']}" if e["field"] else e["location"] for e in errors[:10]
        )
        problem = Problem(
            422,
            "Invalid request",
            f"{len(errors)} invalid field(s): {named}",
            slug="validation-error",
            errors=errors,
        )
        return render(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            # Starlette names only the first route matching the path; RFC 9110 wants every
            # method the resource supports.
            headers["Allow"] = ", ".join(allowed)
        problem = Problem(
            exc.status_code,
            _HTTP_TITLES.get(exc.status_code, "Error"),
            detail,
            headers=headers,
        )
        if exc.status_code == 413:
            problem.type = problem_type("payload-too-large")
        return render(request, problem)

    for error_class in (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.TimeoutError,
        sqlalchemy.exc.DBAPIError,
        OSError,
        # Only the unavailable ones become 503s; the handler re-raises the rest (a 500).
        asyncpg.exceptions.PostgresError,
        asyncpg.exceptions.InterfaceError,
    ):
        app.add_exception_handler(error_class, _on_database_error)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    # Probed through the public ``matches`` API, one method at a time, because FastAPI's
    # included routers do not expose their routes' methods directly.
    allowed = []
    for method in _METHODS:
        probe: dict[str, Any] = {
            "type": "http",
            "method": method,
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _on_database_error(request: Request, exc: Exception) -> Response:
    if is_database_unavailable(exc):
        log.warning("db.unavailable", error=type(exc).__name__)
        return render(request, service_unavailable("The database is unavailable; retry shortly."))
    # Anything else from the database is our bug, not the client's: a 500 without details.
    raise exc
