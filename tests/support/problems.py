"""Asserting that a response is an RFC 9457 problem document."""

from __future__ import annotations

from typing import Any

import httpx

from shared.problems import PROBLEM_CONTENT_TYPE, ProblemDetail, problem_type


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """The problem document of ``response``, after checking its status, media type, shape,
    request id and (when given) its type slug."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    ProblemDetail.model_validate(body)
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    if slug is not None:
        assert body["type"] == problem_type(slug)
    return body
