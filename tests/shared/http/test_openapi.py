"""The published OpenAPI documents of the four services: problem details for every error,
the operational endpoints, and a summary on every operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from shared.http.app import create_app, routers_of
from shared.problems import PROBLEM_CONTENT_TYPE
from shared.service import ServiceSpec
from talentpool.app import spec as talentpool_spec

SPECS = [pipeline_spec, scheduler_spec, notifier_spec, talentpool_spec]
PROBLEM_REF = "#/components/schemas/ProblemDetail"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(params=SPECS, ids=[spec.name for spec in SPECS])
def spec(request: pytest.FixtureRequest) -> ServiceSpec:
    chosen: ServiceSpec = request.param
    return chosen


@pytest.fixture
def document(spec: ServiceSpec) -> dict[str, Any]:
    return create_app(spec).openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_error_response_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    errors = [
        (method, path, status, response)
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5"))
    ]

    assert errors
    for method, path, status, response in errors:
        assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}, (
            f"{method} {path} {status}"
        )
        assert response.get("description"), f"{method} {path} {status}"


def test_problem_schema_is_rfc_9457_shaped(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["ProblemDetail"]

    assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(
        problem["properties"]
    )
    assert set(problem["required"]) == {"type", "title", "status"}
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"

    for ref in _refs(document):
        assert ref.startswith(prefix), ref
        assert ref.removeprefix(prefix) in schemas, ref


def test_operational_endpoints_are_published(document: dict[str, Any]) -> None:
    for path in ("/livez", "/readyz", "/metrics"):
        assert "get" in document["paths"][path], path
    readyz = document["paths"]["/readyz"]["get"]["responses"]
    assert readyz["503"]["content"] == {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def test_every_operation_has_a_summary(document: dict[str, Any]) -> None:
    operations = list(_operations(document))

    assert len(operations) > 3
    for method, path, operation in operations:
        assert operation.get("summary", "").strip(), f"{method} {path}"


def test_every_route_states_its_summary_rather_than_a_generated_one(spec: ServiceSpec) -> None:
    # FastAPI would otherwise make one up from the function name.
    routes = [
        route
        for router in routers_of(spec)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]

    assert routes
    assert [f"{route.methods} {route.path}" for route in routes if not route.summary] == []


def test_every_operation_documents_its_validation_problem(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        has_input = bool(operation.get("parameters") or operation.get("requestBody"))
        if has_input:
            assert "422" in operation["responses"], f"{method} {path}"
            assert "`errors`" in operation["responses"]["422"]["description"]


def test_routes_served_from_the_app_router_publish_what_include_router_would(
    spec: ServiceSpec,
) -> None:
    # create_app serves the routers' routes from one flat list (cheaper to match than
    # FastAPI's included routers); the published operations must be exactly the same.
    included = FastAPI(title=spec.title, version=spec.version)
    for router in routers_of(spec):
        included.include_router(router)
    flat = create_app(spec)
    assert get_openapi(title=spec.title, version=spec.version, routes=flat.routes) == (
        get_openapi(title=spec.title, version=spec.version, routes=included.routes)
    )
