"""Busy blocks: one by one for interviewers and rooms, listed by range, removed, upserted in bulk
by external id with per-row results; and who may do each."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.scheduler.resources_support import (
    ADMIN,
    HR,
    INTERVIEWER_SUB,
    insert_interviewer,
    insert_room,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)
AS_IVAN = auth("interviewer", INTERVIEWER_SUB)
AS_OLGA = auth("interviewer", "int-olga")
BLOCK = {"starts_at": "2026-03-09T14:00:00+08:00", "ends_at": "2026-03-09T15:30:00+08:00"}
WEEK = "start=2026-03-09T00:00:00%2B08:00&end=2026-03-16T00:00:00%2B08:00"


def bulk_row(resource_id: uuid.UUID, external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "resource_kind": "interviewer",
        "resource_id": str(resource_id),
        "external_id": external_id,
        **BLOCK,
        **fields,
    }


async def test_interviewer_marks_themselves_busy_and_reads_it_back(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    path = f"/v1/interviewers/{ivan}/busy-blocks"

    created = await scheduler_http.client.post(
        path, json={**BLOCK, "external_id": "dentist"}, headers=AS_IVAN
    )
    listed = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_IVAN)
    seen_by_hr = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_HR)

    assert created.status_code == 201, created.text
    block = created.json()
    assert created.headers["location"] == f"{path}/{block['id']}"
    assert (block["starts_at"], block["ends_at"]) == (
        "2026-03-09T06:00:00Z",
        "2026-03-09T07:30:00Z",
    )
    assert (block["resource_kind"], block["resource_id"]) == ("interviewer", str(ivan))
    assert (block["source"], block["feed_name"], block["external_id"]) == ("api", None, "dentist")
    assert listed.json() == {"items": [block], "next_cursor": None}
    assert seen_by_hr.json()["items"] == [block]


async def test_blocks_are_listed_by_start_within_the_range_and_paged(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)
    path = f"/v1/interviewers/{ivan}/busy-blocks"
    for day in (11, 9, 10, 20):
        await scheduler_http.client.post(
            path,
            json={
                "starts_at": f"2026-03-{day:02d}T10:00:00Z",
                "ends_at": f"2026-03-{day:02d}T11:00:00Z",
            },
            headers=AS_ADMIN,
        )

    first = await scheduler_http.client.get(f"{path}?{WEEK}&limit=2", headers=AS_ADMIN)
    rest = await scheduler_http.client.get(
        f"{path}?{WEEK}&limit=2&cursor={first.json()['next_cursor']}", headers=AS_ADMIN
    )

    assert rest.status_code == 200, rest.text
    starts = [b["starts_at"] for b in first.json()["items"] + rest.json()["items"]]
    assert starts == ["2026-03-09T10:00:00Z", "2026-03-10T10:00:00Z", "2026-03-11T10:00:00Z"]
    assert rest.json()["next_cursor"] is None


async def test_a_block_is_deleted_once(scheduler_http: Running, db: asyncpg.Connection) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    path = f"/v1/interviewers/{ivan}/busy-blocks"
    block = (await scheduler_http.client.post(path, json=BLOCK, headers=AS_IVAN)).json()

    deleted = await scheduler_http.client.delete(f"{path}/{block['id']}", headers=AS_IVAN)
    again = await scheduler_http.client.delete(f"{path}/{block['id']}", headers=AS_IVAN)

    assert deleted.status_code == 204
    assert_problem(again, 404, "not-found")


async def test_a_taken_external_id_conflicts_and_feed_ids_are_reserved(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)
    path = f"/v1/interviewers/{ivan}/busy-blocks"
    await scheduler_http.client.post(path, json={**BLOCK, "external_id": "x"}, headers=AS_ADMIN)

    taken = await scheduler_http.client.post(
        path, json={**BLOCK, "external_id": "x"}, headers=AS_ADMIN
    )
    reserved = await scheduler_http.client.post(
        path, json={**BLOCK, "external_id": "feed:outlook:1"}, headers=AS_ADMIN
    )

    assert_problem(taken, 409, "busy-block-exists")
    assert [e["field"] for e in assert_problem(reserved, 422)["errors"]] == ["external_id"]


async def test_bad_ranges_are_refused(scheduler_http: Running, db: asyncpg.Connection) -> None:
    ivan = await insert_interviewer(db)
    path = f"/v1/interviewers/{ivan}/busy-blocks"

    backwards = await scheduler_http.client.post(
        path, json={**BLOCK, "ends_at": "2026-03-09T13:00:00+08:00"}, headers=AS_ADMIN
    )
    too_long = await scheduler_http.client.post(
        path, json={**BLOCK, "ends_at": "2026-09-30T13:00:00+08:00"}, headers=AS_ADMIN
    )
    query_backwards = await scheduler_http.client.get(
        f"{path}?start=2026-03-10T00:00:00Z&end=2026-03-09T00:00:00Z", headers=AS_ADMIN
    )
    query_too_long = await scheduler_http.client.get(
        f"{path}?start=2026-03-10T00:00:00Z&end=2026-09-07T00:00:01Z", headers=AS_ADMIN
    )
    query_missing = await scheduler_http.client.get(path, headers=AS_ADMIN)

    assert [e["field"] for e in assert_problem(backwards, 422)["errors"]] == ["ends_at"]
    assert "180 days" in assert_problem(too_long, 422)["errors"][0]["message"]
    assert_problem(query_backwards, 422, "validation-error")
    assert "180 days" in assert_problem(query_too_long, 422)["detail"]
    assert_problem(query_missing, 422, "validation-error")


async def test_room_blocks_are_written_by_admins_and_read_by_staff(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    room = await insert_room(db)
    path = f"/v1/rooms/{room}/busy-blocks"

    created = await scheduler_http.client.post(path, json=BLOCK, headers=AS_ADMIN)
    by_hr = await scheduler_http.client.post(path, json=BLOCK, headers=AS_HR)
    listed = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_HR)
    by_interviewer = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_IVAN)
    deleted_by_hr = await scheduler_http.client.delete(
        f"{path}/{created.json()['id']}", headers=AS_HR
    )
    deleted = await scheduler_http.client.delete(f"{path}/{created.json()['id']}", headers=AS_ADMIN)
    unknown_room = await scheduler_http.client.post(
        f"/v1/rooms/{uuid.uuid4()}/busy-blocks", json=BLOCK, headers=AS_ADMIN
    )

    assert created.status_code == 201
    assert created.json()["resource_kind"] == "room"
    assert [b["id"] for b in listed.json()["items"]] == [created.json()["id"]]
    assert_problem(by_hr, 403, "forbidden")
    assert_problem(by_interviewer, 403, "forbidden")
    assert_problem(deleted_by_hr, 403, "forbidden")
    assert deleted.status_code == 204
    assert_problem(unknown_room, 404, "not-found")


async def test_interviewer_busy_time_access_matrix(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    await insert_interviewer(db, subject="int-olga")
    path = f"/v1/interviewers/{ivan}/busy-blocks"
    block = (await scheduler_http.client.post(path, json=BLOCK, headers=AS_ADMIN)).json()
    client = scheduler_http.client

    # Another interviewer does not learn that Ivan exists.
    assert_problem(await client.post(path, json=BLOCK, headers=AS_OLGA), 404, "not-found")
    assert_problem(await client.get(f"{path}?{WEEK}", headers=AS_OLGA), 404, "not-found")
    assert_problem(await client.delete(f"{path}/{block['id']}", headers=AS_OLGA), 404)
    # HR read, but do not write.
    assert_problem(await client.post(path, json=BLOCK, headers=AS_HR), 403, "forbidden")
    assert_problem(await client.delete(f"{path}/{block['id']}", headers=AS_HR), 403)
    # Nobody without a token.
    assert_problem(await client.post(path, json=BLOCK), 401, "unauthorized")
    assert_problem(await client.get(f"{path}?{WEEK}"), 401, "unauthorized")
    assert_problem(await client.delete(f"{path}/{block['id']}"), 401, "unauthorized")
    # A block of one interviewer cannot be deleted through another's path.
    olga_id = await db.fetchval("SELECT id FROM scheduler.interviewers WHERE subject = 'int-olga'")
    assert_problem(
        await client.delete(
            f"/v1/interviewers/{olga_id}/busy-blocks/{block['id']}", headers=AS_ADMIN
        ),
        404,
    )


# Bulk upsert.


async def test_bulk_upsert_creates_updates_and_leaves_unchanged_rows_with_results(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)
    room = await insert_room(db)
    first = await scheduler_http.client.put(
        "/v1/busy-blocks",
        json={
            "blocks": [
                bulk_row(ivan, "a"),
                bulk_row(ivan, "b"),
                bulk_row(room, "a", resource_kind="room"),
            ]
        },
        headers=AS_ADMIN,
    )

    second = await scheduler_http.client.put(
        "/v1/busy-blocks",
        json={
            "blocks": [
                bulk_row(ivan, "a"),
                bulk_row(ivan, "b", ends_at="2026-03-09T16:00:00+08:00"),
                bulk_row(ivan, "c"),
            ]
        },
        headers=AS_ADMIN,
    )

    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["created"] * 3
    assert second.status_code == 200
    body = second.json()
    assert [r["status"] for r in body["results"]] == ["unchanged", "updated", "created"]
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (1, 1, 1, 0)
    assert body["results"][0]["id"] == first.json()["results"][0]["id"]
    assert body["results"][1]["id"] == first.json()["results"][1]["id"]
    ends = await db.fetchval(
        "SELECT upper(during) FROM scheduler.busy_blocks"
        " WHERE resource_id = $1 AND external_id = 'b'",
        ivan,
    )
    assert ends.isoformat() == "2026-03-09T08:00:00+00:00"
    assert await db.fetchval("SELECT count(*) FROM scheduler.busy_blocks") == 4


async def test_bulk_upsert_rejects_bad_rows_and_applies_the_others(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)

    response = await scheduler_http.client.put(
        "/v1/busy-blocks",
        json={
            "blocks": [
                bulk_row(ivan, "ok"),
                bulk_row(uuid.uuid4(), "ghost"),
                bulk_row(ivan, "ok"),
                bulk_row(ivan, "backwards", ends_at="2026-03-09T13:00:00+08:00"),
                bulk_row(ivan, "room-id-as-interviewer", resource_kind="room"),
            ]
        },
        headers=AS_ADMIN,
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 4
    assert "no interviewer" in results[1]["error"]
    assert "earlier in this request" in results[2]["error"]
    assert "after starts_at" in results[3]["error"]
    assert "no room" in results[4]["error"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert await db.fetchval("SELECT count(*) FROM scheduler.busy_blocks") == 1


async def test_bulk_upsert_of_more_than_1000_blocks_is_refused(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)

    response = await scheduler_http.client.put(
        "/v1/busy-blocks",
        json={"blocks": [bulk_row(ivan, f"k{i}") for i in range(1001)]},
        headers=AS_ADMIN,
    )

    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["blocks"]


async def test_bulk_upsert_of_1000_blocks_applies_them_all(
    scheduler_http: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)

    response = await scheduler_http.client.put(
        "/v1/busy-blocks",
        json={"blocks": [bulk_row(ivan, f"k{i}") for i in range(1000)]},
        headers=AS_ADMIN,
    )

    assert response.status_code == 200
    assert response.json()["created"] == 1000


async def test_only_admins_bulk_upsert(scheduler_http: Running, db: asyncpg.Connection) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    body = {"blocks": [bulk_row(ivan, "a")]}

    assert_problem(await scheduler_http.client.put("/v1/busy-blocks", json=body), 401)
    for headers in (AS_HR, AS_IVAN):
        response = await scheduler_http.client.put("/v1/busy-blocks", json=body, headers=headers)
        assert_problem(response, 403, "forbidden")
