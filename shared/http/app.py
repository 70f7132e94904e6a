"""The app factory: every service's FastAPI app is built here, so all of them share health,
readiness, metrics, problem details, request ids, logging and the body size limit."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.responses import Response

from shared.clock import Clock, SystemClock
from shared.http import health, timers
from shared.http.errors import install_error_handlers
from shared.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from shared.logging import configure_logging
from shared.problems import PROBLEM_CONTENT_TYPE, ProblemDetail
from shared.service import Runtime, ServiceSpec
from shared.settings import ServiceSettings


def create_app(
    spec: ServiceSpec, settings: ServiceSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    settings = settings or spec.settings_class()
    configure_logging(spec.name, settings.log_level)
    runtime = Runtime(spec, settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        # What exists now (modules, app, engine, metadata) lives as long as the process; out of
        # the collector's sight, a full collection takes ~1 ms instead of pausing everything
        # for ~80 ms, the largest part of the event latency tail (docs/benchmarks.md).
        gc.freeze()
        try:
            yield
        finally:
            await runtime.stop()
            gc.unfreeze()

    app = FastAPI(
        title=spec.title,
        version=spec.version,
        description=spec.description,
        lifespan=lifespan,
        openapi_tags=[
            *spec.openapi_tags,
            {"name": "operations", "description": "Health and metrics."},
        ],
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    for router in routers_of(spec):
        _mount(app, router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def routers_of(spec: ServiceSpec) -> tuple[APIRouter, ...]:
    """Every router a service's app serves, in matching order: health first, the service's own,
    then the admin timer routes, which are rarely called (routes are matched in order)."""
    return (health.router, *spec.routers, timers.router)


def _mount(app: FastAPI, router: APIRouter) -> None:
    """Serve a router's routes from the app's own router.

    ``include_router`` makes FastAPI resolve the included router on every request: the app
    asks each included router in turn whether it matches, matches again inside the chosen one
    and walks every router's change counter: about 0.1 ms for a route in the eighth of the
    pipeline's thirteen routers, a twentieth of the candidate's view. Our routers are included
    without options, and a route's own prefix, tags, responses and dependencies are fixed when
    it is declared, so the routes can be served as they are: the app then matches one flat
    list, as Starlette does (the OpenAPI document is unchanged).
    """
    app.router.routes.extend(router.routes)


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response from a pydantic model (for routes that must return a ``Response``)."""
    return Response(
        content=model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error described as RFC 9457 problem details."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas["ProblemDetail"] = problem_schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem_ref = {"$ref": "#/components/schemas/ProblemDetail"}
    for path, path_item in document.get("paths", {}).items():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if path.startswith("/v1/"):
                # Every API operation may meet an unavailable database or an unexpected fault.
                responses.setdefault("500", {"description": "Unexpected fault; quote request_id"})
                responses.setdefault(
                    "503", {"description": "The database is unavailable; retry after Retry-After"}
                )
            if "requestBody" in operation:
                responses.setdefault("413", {"description": "Request body too large"})
            if any(param.get("in") == "header" for param in operation.get("parameters", [])):
                responses.setdefault("400", {"description": "A malformed header"})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}
            if "422" in responses:
                responses["422"]["description"] = "Invalid input; `errors` names each field"
            for param in operation.get("parameters", []):
                _give_example(param)
    app.openapi_schema = document
    return document


# Examples for parameters whose route gave none, derived from their type, so that every
# operation in the document can be tried as it stands.
_EXAMPLE_BY_FORMAT = {
    "uuid": "3f2b8c1e-6d4a-4f7b-9a51-2c0e8d7b6a90",
    "date": "2026-10-08",
    "date-time": "2026-10-08T09:30:00+08:00",
}
_EXAMPLE_BY_NAME = {
    "limit": 50,
    "cursor": "eyJrIjpbIjIwMjYtMTAtMDhUMDE6MzA6MDBaIl19",
}


def _give_example(param: dict[str, Any]) -> None:
    schema = param.get("schema", {})
    if "example" in param or "examples" in param or "examples" in schema:
        return
    example = _example_for(param["name"], schema)
    if example is not None:
        param["example"] = example


def _example_for(name: str, schema: dict[str, Any]) -> Any:
    if name in _EXAMPLE_BY_NAME:
        return _EXAMPLE_BY_NAME[name]
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option:
            return option["enum"][0]
        if option.get("format") in _EXAMPLE_BY_FORMAT:
            return _EXAMPLE_BY_FORMAT[option["format"]]
        if option.get("type") == "boolean":
            return True
        if option.get("type") == "integer":
            return option.get("default", max(1, option.get("minimum", 1)))
    if "default" in schema:
        return schema["default"]
    return None
