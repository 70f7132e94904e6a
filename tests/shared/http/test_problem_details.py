"""Every error a client can provoke comes back as an RFC 9457 problem document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support import testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

SMALL_LIMIT = 1024


def _fields(body: dict[str, object]) -> dict[str, str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return {f"{e['location']}.{e['field']}": e["code"] for e in errors}


async def test_malformed_json_is_a_422_problem(service: Running) -> None:
    response = await service.client.post(
        "/v1/notes",
        content=b'{"text": "unterminated',
        headers={**auth(), "Content-Type": "application/json"},
    )

    body = assert_problem(response, 422, "validation-error")
    assert [e["code"] for e in body["errors"]] == ["json_invalid"]
    assert body["errors"][0]["message"].startswith("Malformed JSON")


async def test_every_field_of_the_wrong_type_is_named(service: Running) -> None:
    response = await service.client.post(
        "/v1/notes", json={"text": 5, "count": "many"}, headers=auth()
    )

    body = assert_problem(response, 422, "validation-error")
    assert _fields(body) == {"body.text": "string_type", "body.count": "int_parsing"}
    assert "body.text" in body["detail"]
    assert "body.count" in body["detail"]


async def test_unknown_fields_are_refused_and_named(service: Running) -> None:
    response = await service.client.post(
        "/v1/notes", json={"text": "hi", "colour": "red", "size": 3}, headers=auth()
    )

    body = assert_problem(response, 422, "validation-error")
    assert _fields(body) == {"body.colour": "extra_forbidden", "body.size": "extra_forbidden"}


async def test_missing_required_field_is_named(service: Running) -> None:
    response = await service.client.post("/v1/notes", json={}, headers=auth())

    body = assert_problem(response, 422, "validation-error")
    assert _fields(body) == {"body.text": "missing"}


async def test_bad_query_parameter_is_a_422_problem(service: Running) -> None:
    response = await service.client.get("/v1/notes", params={"limit": "lots"}, headers=auth())

    body = assert_problem(response, 422, "validation-error")
    assert _fields(body) == {"query.limit": "int_parsing"}


async def test_bad_path_parameter_is_a_422_problem(service: Running) -> None:
    response = await service.client.get("/v1/notes/not-a-uuid", headers=auth())

    body = assert_problem(response, 422, "validation-error")
    assert _fields(body) == {"path.note_id": "uuid_parsing"}


async def test_unknown_route_is_a_404_problem(service: Running) -> None:
    response = await service.client.get("/v1/no-such-thing")

    body = assert_problem(response, 404)
    assert body["instance"] == "/v1/no-such-thing"


async def test_missing_resource_is_a_404_problem(service: Running) -> None:
    note_id = "0193e0c4-0000-7000-8000-000000000000"
    response = await service.client.get(f"/v1/notes/{note_id}", headers=auth())

    body = assert_problem(response, 404, "not-found")
    assert note_id in body["detail"]


async def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(service: Running) -> None:
    response = await service.client.delete("/v1/notes")

    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_body_over_the_declared_content_length_limit_is_a_413_problem() -> None:
    async with api(testkit.spec, max_body_bytes=SMALL_LIMIT) as service:
        response = await service.client.post(
            "/v1/notes",
            content=b'{"text": "' + b"x" * (SMALL_LIMIT + 1) + b'"}',
            headers={**auth(), "Content-Type": "application/json"},
        )

        assert "content-length" in response.request.headers
        body = assert_problem(response, 413, "payload-too-large")
        assert str(SMALL_LIMIT) in body["detail"]
        listed = await service.client.get("/v1/notes", headers=auth())
        assert listed.json()["items"] == []


async def test_chunked_body_without_content_length_over_the_limit_is_a_413_problem() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(4):
            yield b"x" * 512
        yield b'"}'

    async with api(testkit.spec, max_body_bytes=SMALL_LIMIT) as service:
        response = await service.client.post(
            "/v1/notes",
            content=chunks(),
            headers={**auth(), "Content-Type": "application/json"},
        )

        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_problem(response, 413, "payload-too-large")
        listed = await service.client.get("/v1/notes", headers=auth())
        assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "extra_headers"),
    [
        ("/v1/webhooks/acme", {}),
        ("/v1/notes", {"Idempotency-Key": "big-body"}),
    ],
    ids=["route-reading-the-raw-body", "idempotency-dependency-reading-the-body"],
)
async def test_chunked_body_over_the_limit_is_a_413_wherever_it_is_read(
    db: asyncpg.Connection, path: str, extra_headers: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 512

    async with api(testkit.spec, max_body_bytes=SMALL_LIMIT) as service:
        response = await service.client.post(
            path,
            content=chunks(),
            headers={**auth(), **extra_headers, "Content-Type": "application/json"},
        )

    assert_problem(response, 413, "payload-too-large")
    assert await db.fetchval("SELECT count(*) FROM testkit.webhook_receipts") == 0
    assert await db.fetchval("SELECT count(*) FROM testkit.idempotency_keys") == 0


async def test_body_within_the_limit_is_accepted() -> None:
    async with api(testkit.spec, max_body_bytes=SMALL_LIMIT) as service:
        response = await service.client.post("/v1/notes", json={"text": "x" * 100}, headers=auth())

        assert response.status_code == 201, response.text


async def test_unexpected_exception_is_a_500_problem_without_internals(service: Running) -> None:
    response = await service.client.post("/v1/boom", headers=auth())

    body = assert_problem(response, 500)
    assert body["request_id"]
    text = response.text
    assert "secret internal detail" not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text
    assert "testkit.py" not in text


async def test_a_refused_connection_to_a_third_party_is_a_500_not_a_database_outage(
    service: Running,
) -> None:
    response = await service.client.post("/v1/vendor-down", headers=auth())

    body = assert_problem(response, 500)
    assert "database" not in body.get("detail", "").lower()
    assert "10.0.0.9" not in response.text
