"""RFC 9457 problem details: the one error shape of every service."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:recruiting:problem:"


def problem_type(slug: str) -> str:
    return f"{PROBLEM_TYPE_PREFIX}{slug}"


class FieldError(BaseModel):
    field: str = Field(
        description="Dotted path of the offending field.", examples=["stages.0.sla_days"]
    )
    location: str = Field(description="body, query, path or header.", examples=["body"])
    message: str = Field(examples=["Input should be greater than 0"])
    code: str = Field(description="Machine-readable reason.", examples=["greater_than"])


class ProblemDetail(BaseModel):
    """The body of every error response (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:recruiting:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No application with id 0193..."])
    instance: str | None = Field(default=None, examples=["/v1/applications/0193..."])
    request_id: str | None = Field(default=None, examples=["9f1c2d3e4b5a69788796a5b4c3d2e1f0"])
    errors: list[FieldError] | None = None


class Problem(Exception):
    """Raise anywhere below a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = problem_type(slug) if slug else "about:blank"
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, *, instance: str | None, request_id: str | None) -> dict[str, Any]:
        document: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            document["detail"] = self.detail
        if instance:
            document["instance"] = instance
        if request_id:
            document["request_id"] = request_id
        document.update(self.extensions)
        return document


def not_found(resource: str, identifier: object) -> Problem:
    return Problem(404, "Not found", f"No {resource} with id {identifier}.", slug="not-found")


def conflict(detail: str, *, slug: str = "conflict", **extensions: Any) -> Problem:
    return Problem(409, "Conflict", detail, slug=slug, **extensions)


def version_mismatch(current: int) -> Problem:
    return Problem(
        412,
        "Precondition failed",
        f"The resource changed; its current version is {current}. Reload and retry.",
        slug="version-mismatch",
        current_version=current,
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "Unauthorized", detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str = "You may not do this.") -> Problem:
    return Problem(403, "Forbidden", detail, slug="forbidden")


def service_unavailable(detail: str, *, retry_after_s: int = 5) -> Problem:
    return Problem(
        503,
        "Service unavailable",
        detail,
        slug="unavailable",
        headers={"Retry-After": str(retry_after_s)},
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem answers of a route."""
    return {
        status: {
            "model": ProblemDetail,
            "content": {
                PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
            },
            "description": _DESCRIPTIONS.get(status, "Problem"),
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, expired or invalid credentials",
    403: "Authenticated but not allowed",
    404: "No such resource, or not visible to the caller",
    409: "Conflicts with the current state",
    410: "Gone: expired or revoked",
    412: "Version in If-Match is stale",
    413: "Request body too large",
    422: "Invalid input; `errors` names each field",
    428: "If-Match required",
    503: "A dependency (database, broker) is unavailable; retry later",
}
