"""Cursor pagination: every row exactly once, in a stable order, even when sort keys tie."""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson
import pytest

from shared.clock import ManualClock
from shared.http.pagination import MAX_LIMIT
from tests.support import testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


async def _create(service: Running, count: int, prefix: str) -> list[str]:
    ids = []
    for n in range(count):
        response = await service.client.post(
            "/v1/notes", json={"text": f"{prefix}-{n}"}, headers=auth()
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _walk(service: Running, limit: int) -> list[list[dict[str, str]]]:
    pages = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        response = await service.client.get("/v1/notes", params=params, headers=auth())
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        if page["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": page["next_cursor"]}


async def test_walking_all_pages_returns_each_row_once_when_timestamps_tie() -> None:
    clock = ManualClock()
    async with api(testkit.spec, clock=clock) as service:
        tied = await _create(service, 7, "tied")
        clock.advance(timedelta(seconds=1))
        later = await _create(service, 3, "later")

        pages = await _walk(service, limit=3)

        assert [len(page) for page in pages] == [3, 3, 3, 1]
        seen = [note["id"] for page in pages for note in page]
        assert len(seen) == len(set(seen)) == 10
        # Ties on created_at are broken by id, so the order is the same on every walk.
        assert seen == sorted(tied) + sorted(later)
        assert [p for page in await _walk(service, limit=3) for p in page] == [
            note for page in pages for note in page
        ]


async def test_page_boundary_exactly_at_the_end_has_no_next_cursor() -> None:
    async with api(testkit.spec, clock=ManualClock()) as service:
        await _create(service, 4, "even")

        pages = await _walk(service, limit=2)

        assert [len(page) for page in pages] == [2, 2]


async def test_rows_added_behind_the_cursor_do_not_shift_later_pages() -> None:
    clock = ManualClock()
    async with api(testkit.spec, clock=clock) as service:
        await _create(service, 4, "first")
        first = await service.client.get("/v1/notes", params={"limit": 2}, headers=auth())
        cursor = first.json()["next_cursor"]
        clock.advance(timedelta(seconds=-10))
        await _create(service, 2, "earlier")

        rest = await service.client.get(
            "/v1/notes", params={"limit": 10, "cursor": cursor}, headers=auth()
        )

        first_ids = {n["id"] for n in first.json()["items"]}
        rest_texts = [n["text"] for n in rest.json()["items"]]
        assert len(rest_texts) == 2
        assert all(text.startswith("first-") for text in rest_texts)
        assert not first_ids & {n["id"] for n in rest.json()["items"]}


async def test_default_page_size_is_applied(service: Running) -> None:
    response = await service.client.get("/v1/notes", headers=auth())

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", [MAX_LIMIT + 1, 0, -1])
async def test_limit_outside_the_allowed_range_is_a_422(service: Running, limit: int) -> None:
    response = await service.client.get("/v1/notes", params={"limit": limit}, headers=auth())

    body = assert_problem(response, 422, "validation-error")
    assert [(e["location"], e["field"]) for e in body["errors"]] == [("query", "limit")]


async def test_largest_allowed_limit_is_accepted(service: Running) -> None:
    response = await service.client.get("/v1/notes", params={"limit": MAX_LIMIT}, headers=auth())

    assert response.status_code == 200


@pytest.mark.parametrize(
    "cursor",
    ["!!!not base64!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b"\xff\xfe").decode()],
    ids=["not-base64", "not-json", "not-utf8"],
)
async def test_garbage_cursor_is_a_400_invalid_cursor(service: Running, cursor: str) -> None:
    response = await service.client.get("/v1/notes", params={"cursor": cursor}, headers=auth())

    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.parametrize(
    "values",
    [
        {"created_at": "2026-01-01T00:00:00+00:00"},
        ["2026-01-01T00:00:00+00:00"],
        ["2026-01-01T00:00:00+00:00", "0193e0c4-0000-7000-8000-000000000000", "extra"],
        ["yesterday", "0193e0c4-0000-7000-8000-000000000000"],
        ["2026-01-01T00:00:00+00:00", "not-a-uuid"],
        [1, 2],
        [None, None],
        "a string",
    ],
    ids=[
        "object",
        "too-short",
        "too-long",
        "bad-timestamp",
        "bad-uuid",
        "numbers",
        "nulls",
        "scalar",
    ],
)
async def test_cursor_of_the_wrong_shape_is_a_400_invalid_cursor(
    service: Running, values: object
) -> None:
    response = await service.client.get(
        "/v1/notes", params={"cursor": _cursor(values)}, headers=auth()
    )

    assert_problem(response, 400, "invalid-cursor")


async def test_cursor_longer_than_allowed_is_a_422(service: Running) -> None:
    response = await service.client.get("/v1/notes", params={"cursor": "A" * 513}, headers=auth())

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "cursor"
