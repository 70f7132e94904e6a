"""Every response names its request id; a caller's own id is kept only when it is safe to log."""

from __future__ import annotations

import re

import pytest

from tests.support.running import Running
from tests.support.tokens import auth

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers.items()]


@pytest.mark.parametrize(
    ("method", "path", "expected_status"),
    [
        ("GET", "/livez", 200),
        ("GET", "/v1/notes", 200),
        ("GET", "/v1/nowhere", 404),
        ("DELETE", "/v1/notes", 405),
        ("POST", "/v1/boom", 500),
    ],
)
async def test_every_response_carries_a_fresh_request_id(
    service: Running, method: str, path: str, expected_status: int
) -> None:
    first = await service.client.request(method, path, headers=auth())
    second = await service.client.request(method, path, headers=auth())

    assert first.status_code == expected_status
    assert GENERATED_ID.match(first.headers["x-request-id"])
    assert GENERATED_ID.match(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_clean_client_request_id_is_echoed(service: Running) -> None:
    supplied = "client-42.retry:1_A"
    response = await service.client.get("/v1/notes", headers={**auth(), "X-Request-ID": supplied})

    assert response.headers["x-request-id"] == supplied
    assert response.headers["x-correlation-id"] == supplied


async def test_problem_documents_quote_the_echoed_request_id(service: Running) -> None:
    response = await service.client.get("/v1/nowhere", headers={"X-Request-ID": "trace-me"})

    assert response.json()["request_id"] == "trace-me"


@pytest.mark.parametrize(
    "unsafe",
    [
        "has spaces in it",
        "line\nbreak",
        "x" * 500,
        'quote"and<angle>',
        "",
    ],
    ids=["spaces", "newline", "500-chars", "punctuation", "empty"],
)
async def test_unsafe_client_request_id_is_replaced(service: Running, unsafe: str) -> None:
    response = await service.client.get(
        "/v1/notes", headers=[(b"x-request-id", unsafe.encode()), *_raw(auth())]
    )

    assert response.status_code == 200
    assert GENERATED_ID.match(response.headers["x-request-id"])


async def test_correlation_id_defaults_to_the_request_id_and_keeps_a_clean_one(
    service: Running,
) -> None:
    alone = await service.client.get("/livez")
    correlated = await service.client.get("/livez", headers={"X-Correlation-ID": "flow-7"})

    assert alone.headers["x-correlation-id"] == alone.headers["x-request-id"]
    assert correlated.headers["x-correlation-id"] == "flow-7"
    assert correlated.headers["x-request-id"] != "flow-7"
