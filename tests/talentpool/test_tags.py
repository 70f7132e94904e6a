"""A person's tags through HTTP: HR put and remove them, one at a time or a thousand at once;
every change is in the tag history and is announced by ``candidate_tagged``; an on-hold tag
needs a date, keeps the profile's hold date in step and ends by itself."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.clock import ManualClock
from shared.events.talentpool import CandidateTaggedV1
from talentpool.app import spec as talentpool_spec
from talentpool.tags import service
from tests.support.broker import take, tap
from tests.support.problems import assert_problem
from tests.support.running import Running, api, running, wait_for
from tests.talentpool.concurrency_support import blocked_or_done
from tests.talentpool.tags_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_OWNER,
    AS_POOL_HR,
    AS_SERVICE,
    OWNER,
    Person,
    a_person,
    history_of,
    put_tag,
    tags_of,
)

IN_A_MONTH = datetime.now(UTC) + timedelta(days=30)


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    async with api(talentpool_spec) as service:
        yield service


async def _events(db: asyncpg.Connection, person: Person) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM talentpool.outbox WHERE event_type = $1 AND subject = $2 ORDER BY id",
        CandidateTaggedV1.event_type,
        str(person.profile_id),
    )
    return [_json(row["payload"])["data"] for row in rows]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


# Putting and removing one tag


async def test_hr_puts_a_tag_and_sees_it_with_its_history(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await put_tag(
        pool, person, "re_invite", {"note": "Strong in system design."}, headers=AS_OWNER
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tag"] == "re_invite"
    assert body["source"] == "manual"
    assert body["until"] is None
    assert body["note"] == "Strong in system design."
    assert body["added_by"] == OWNER
    assert list(await tags_of(pool, person)) == ["re_invite"]
    [change] = await history_of(pool, person)
    assert change["action"] == "added"
    assert change["source"] == "manual"
    assert change["actor"] == OWNER
    assert change["rule_id"] is None


async def test_putting_a_tag_the_person_has_again_changes_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    body = {"until": IN_A_MONTH.isoformat()}
    assert (await put_tag(pool, person, "on_hold", body)).status_code == 201

    again = await put_tag(pool, person, "on_hold", body)

    assert again.status_code == 200, again.text
    assert len(await history_of(pool, person)) == 1
    assert len(await _events(db, person)) == 1


async def test_a_new_note_on_a_tag_is_a_change(pool: Running, db: asyncpg.Connection) -> None:
    person = await a_person(db)
    await put_tag(pool, person, "re_invite", {"note": "Good at Go."})

    response = await put_tag(pool, person, "re_invite", {"note": "Good at Go and Rust."})
    kept = await put_tag(pool, person, "re_invite")

    assert response.status_code == kept.status_code == 200
    assert kept.json()["note"] == "Good at Go and Rust."
    assert [c["action"] for c in await history_of(pool, person)] == ["changed", "added"]


async def test_changing_a_tags_date_is_a_change_in_its_history(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    await put_tag(pool, person, "on_hold", {"until": IN_A_MONTH.isoformat()})
    later = IN_A_MONTH + timedelta(days=30)

    response = await put_tag(pool, person, "on_hold", {"until": later.isoformat()})

    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["until"]) == later
    changes = await history_of(pool, person)
    assert [c["action"] for c in changes] == ["changed", "added"]
    assert datetime.fromisoformat(changes[0]["until"]) == later
    assert [e["action"] for e in await _events(db, person)] == ["added", "changed"]


async def test_on_hold_sets_the_profiles_hold_date_and_removing_it_clears_it(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    hold = "SELECT on_hold_until FROM talentpool.profiles WHERE id = $1"

    await put_tag(pool, person, "on_hold", {"until": IN_A_MONTH.isoformat()})
    assert await db.fetchval(hold, person.profile_id) == IN_A_MONTH

    removed = await pool.client.delete(
        f"/v1/profiles/{person.profile_id}/tags/on_hold", headers=AS_OWNER
    )

    assert removed.status_code == 204
    assert await db.fetchval(hold, person.profile_id) is None
    assert await tags_of(pool, person) == {}
    [removal, _] = await history_of(pool, person)
    assert removal["action"] == "removed"
    assert removal["actor"] == OWNER


async def test_tagging_announces_it_with_every_candidate_id_of_the_person(
    db: asyncpg.Connection, amqp: AbstractRobustConnection
) -> None:
    person = await a_person(db, candidate_ids=2)
    members = await db.fetch(
        "SELECT candidate_id FROM talentpool.profile_members WHERE profile_id = $1",
        person.profile_id,
    )
    async with (
        tap(amqp, CandidateTaggedV1.event_type) as queue,
        running(talentpool_spec, run_consumers=False, run_timers=False, run_workers=False) as pool,
    ):
        await put_tag(pool, person, "set_aside")

        async def published() -> list[Any]:
            return [orjson.loads(m.body) for m in await take(queue)]

        [message] = await wait_for(published, what="candidate_tagged")

    assert message["subject"] == str(person.profile_id)
    data = message["data"]
    assert data["tag"] == "set_aside"
    assert data["action"] == "added"
    assert data["source"] == "manual"
    assert sorted(data["candidate_ids"]) == sorted(str(m["candidate_id"]) for m in members)


async def test_removing_a_tag_the_person_does_not_have_changes_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await pool.client.delete(
        f"/v1/profiles/{person.profile_id}/tags/no_show", headers=AS_ADMIN
    )

    assert response.status_code == 204
    assert await history_of(pool, person) == []
    assert await _events(db, person) == []


async def test_tag_history_pages_newest_first_and_filters_by_tag(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    for tag in ("re_invite", "set_aside", "runner_up"):
        await put_tag(pool, person, tag)
    await pool.client.delete(f"/v1/profiles/{person.profile_id}/tags/set_aside", headers=AS_ADMIN)

    pages, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await pool.client.get(
            f"/v1/profiles/{person.profile_id}/tag-history", params=params, headers=AS_ADMIN
        )
        assert response.status_code == 200, response.text
        pages.append([(c["tag"], c["action"]) for c in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert pages == [
        [("set_aside", "removed"), ("runner_up", "added"), ("set_aside", "added")],
        [("re_invite", "added")],
    ]
    only = await history_of(pool, person, tag="set_aside")
    assert [c["action"] for c in only] == ["removed", "added"]


# Bad input


async def test_on_hold_without_a_date_is_refused_naming_until(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await put_tag(pool, person, "on_hold", {"note": "Abroad for a while."})

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["until"]
    assert await tags_of(pool, person) == {}


async def test_a_date_in_the_past_is_refused(pool: Running, db: asyncpg.Connection) -> None:
    person = await a_person(db)
    yesterday = datetime.now(UTC) - timedelta(days=1)

    response = await put_tag(pool, person, "on_hold", {"until": yesterday.isoformat()})

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["until"]
    assert await history_of(pool, person) == []


async def test_a_date_without_a_time_zone_is_refused(pool: Running, db: asyncpg.Connection) -> None:
    person = await a_person(db)

    response = await put_tag(pool, person, "on_hold", {"until": "2030-01-01T00:00:00"})

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "until"


@pytest.mark.parametrize("tag", ["No_Show", "no-show", "x", "9lives", "a" * 41])
async def test_a_tag_that_is_not_a_lowercase_slug_is_refused(
    pool: Running, db: asyncpg.Connection, tag: str
) -> None:
    person = await a_person(db)

    response = await put_tag(pool, person, tag)

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "tag"
    assert problem["errors"][0]["location"] == "path"


async def test_an_unknown_field_in_the_body_is_refused_naming_it(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await put_tag(pool, person, "re_invite", {"colour": "red"})

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "colour"


async def test_an_unknown_profile_is_404(pool: Running) -> None:
    unknown = Person()

    for response in (
        await put_tag(pool, unknown, "re_invite"),
        await pool.client.get(f"/v1/profiles/{unknown.profile_id}/tags", headers=AS_ADMIN),
        await pool.client.get(f"/v1/profiles/{unknown.profile_id}/tag-history", headers=AS_ADMIN),
        await pool.client.delete(
            f"/v1/profiles/{unknown.profile_id}/tags/re_invite", headers=AS_ADMIN
        ),
    ):
        assert_problem(response, 404, "not-found")


async def test_a_merged_profile_is_not_tagged_409(pool: Running, db: asyncpg.Connection) -> None:
    survivor, merged = await a_person(db), await a_person(db)
    await db.execute(
        "UPDATE talentpool.profiles SET merged_into = $1 WHERE id = $2",
        survivor.profile_id,
        merged.profile_id,
    )

    response = await put_tag(pool, merged, "re_invite")

    assert_problem(response, 409, "profile-merged")


# Bulk


async def test_bulk_tags_many_people_in_one_call(pool: Running, db: asyncpg.Connection) -> None:
    people = [await a_person(db) for _ in range(3)]
    await put_tag(pool, people[0], "set_aside")

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={
            "profile_ids": [str(p.profile_id) for p in people],
            "tag": "set_aside",
            "action": "add",
        },
        headers=AS_OWNER,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"changed": 2, "unchanged": 1}
    for person in people:
        assert "set_aside" in await tags_of(pool, person)
    assert [c["actor"] for c in await history_of(pool, people[1])] == [OWNER]


async def test_two_bulk_adds_of_the_same_tag_at_once_record_one_addition_each(
    pool: Running, db: asyncpg.Connection
) -> None:
    people = [await a_person(db) for _ in range(50)]
    body = {"profile_ids": [str(p.profile_id) for p in people], "tag": "set_aside", "action": "add"}

    responses = await asyncio.gather(
        *(pool.client.post("/v1/tags/bulk", json=body, headers=AS_OWNER) for _ in range(2))
    )

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sum(r.json()["changed"] for r in responses) == len(people)
    added = await db.fetchval(
        "SELECT count(*) FROM talentpool.tag_changes WHERE tag = 'set_aside' AND action = 'added'"
    )
    assert added == len(people)
    assert await db.fetchval(
        "SELECT count(*) FROM talentpool.outbox WHERE event_type = $1",
        CandidateTaggedV1.event_type,
    ) == len(people)


async def _add(
    pool: Running,
    person: Person,
    until: datetime,
    *,
    hold: tuple[asyncio.Event, asyncio.Event] | None = None,
) -> int:
    """HR add ``re_invite`` until ``until`` in a transaction of their own. With ``hold``
    (signalled, release) it signals once the tag row is written and waits, uncommitted, until
    released."""
    async with pool.runtime.db.transaction() as session:
        changed = await service.apply(
            pool.runtime.unit(session),
            profile_ids=[person.profile_id],
            tag="re_invite",
            action="add",
            source="manual",
            actor=OWNER,
            until=until,
        )
        if hold is not None:
            signalled, release = hold
            signalled.set()
            await release.wait()
    return changed


async def test_an_add_that_waited_for_a_concurrent_identical_add_changes_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    first_done, release = asyncio.Event(), asyncio.Event()

    first = asyncio.create_task(_add(pool, person, IN_A_MONTH, hold=(first_done, release)))
    await first_done.wait()
    # The second finds no row (the first's is not committed) and runs into it when inserting.
    second = asyncio.create_task(_add(pool, person, IN_A_MONTH))
    await blocked_or_done(db, second)
    release.set()
    changed = list(await asyncio.gather(first, second))

    assert changed == [1, 0]
    [change] = await history_of(pool, person)
    assert (change["action"], change["actor"]) == ("added", OWNER)
    assert [e["action"] for e in await _events(db, person)] == ["added"]
    assert list(await tags_of(pool, person)) == ["re_invite"]


async def test_an_add_that_waited_for_a_concurrent_add_with_another_date_changes_it_once(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    first_done, release = asyncio.Event(), asyncio.Event()
    later = IN_A_MONTH + timedelta(days=30)

    first = asyncio.create_task(_add(pool, person, IN_A_MONTH, hold=(first_done, release)))
    await first_done.wait()
    second = asyncio.create_task(_add(pool, person, later))
    await blocked_or_done(db, second)
    release.set()

    assert list(await asyncio.gather(first, second)) == [1, 1]
    # As if one had come after the other: added, then changed to the second's date.
    assert [c["action"] for c in await history_of(pool, person)] == ["changed", "added"]
    tag = (await tags_of(pool, person))["re_invite"]
    assert datetime.fromisoformat(tag["until"]) == later


async def test_bulk_removal_takes_the_tag_from_those_who_have_it(
    pool: Running, db: asyncpg.Connection
) -> None:
    people = [await a_person(db) for _ in range(2)]
    await put_tag(pool, people[0], "re_invite")

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={
            "profile_ids": [str(p.profile_id) for p in people],
            "tag": "re_invite",
            "action": "remove",
        },
        headers=AS_ADMIN,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"changed": 1, "unchanged": 1}
    assert await tags_of(pool, people[0]) == {}


async def test_bulk_with_unknown_or_invisible_ids_is_refused_listing_them_and_changes_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    mine = await a_person(db)
    someone_elses = await a_person(db, owner="hr-carol")
    unknown = uuid.uuid4()

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={
            "profile_ids": [str(mine.profile_id), str(someone_elses.profile_id), str(unknown)],
            "tag": "set_aside",
            "action": "add",
        },
        headers=AS_OWNER,
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["profile_ids"] == [str(someone_elses.profile_id), str(unknown)]
    assert [e["field"] for e in problem["errors"]] == ["profile_ids.1", "profile_ids.2"]
    assert await tags_of(pool, mine) == {}


async def test_bulk_on_hold_needs_a_date(pool: Running, db: asyncpg.Connection) -> None:
    person = await a_person(db)

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={"profile_ids": [str(person.profile_id)], "tag": "on_hold", "action": "add"},
        headers=AS_ADMIN,
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["until"]


async def test_bulk_of_more_than_a_thousand_people_is_refused(pool: Running) -> None:
    response = await pool.client.post(
        "/v1/tags/bulk",
        json={
            "profile_ids": [str(uuid.uuid4()) for _ in range(1001)],
            "tag": "set_aside",
            "action": "add",
        },
        headers=AS_ADMIN,
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "profile_ids"


async def test_bulk_retried_with_its_idempotency_key_answers_the_same(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    body = {"profile_ids": [str(person.profile_id)], "tag": "set_aside", "action": "add"}
    headers = {**AS_ADMIN, "Idempotency-Key": "bulk-set-aside-1"}

    first = await pool.client.post("/v1/tags/bulk", json=body, headers=headers)
    again = await pool.client.post("/v1/tags/bulk", json=body, headers=headers)

    assert first.json() == again.json() == {"changed": 1, "unchanged": 0}
    assert len(await history_of(pool, person)) == 1


# Expiry


async def test_on_hold_ends_when_its_date_passes(db: asyncpg.Connection) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with api(
        talentpool_spec, clock=clock, run_timers=True, timer_poll_interval_s=0.1
    ) as pool:
        person = await a_person(db)
        until = clock.now() + timedelta(days=7)
        await put_tag(pool, person, "on_hold", {"until": until.isoformat()})
        await put_tag(pool, person, "re_invite")

        clock.advance(timedelta(days=7, seconds=1))

        async def ended() -> bool:
            return "on_hold" not in await tags_of(pool, person) and bool(
                (await history_of(pool, person))[0]["action"] == "removed"
            )

        await wait_for(ended, what="the hold to end")
        [expiry, *_] = await history_of(pool, person)

    assert expiry["tag"] == "on_hold"
    assert expiry["reason"] == "expired"
    assert expiry["actor"] is None
    assert expiry["source"] == "manual"
    assert datetime.fromisoformat(expiry["until"]) == until
    assert (
        await db.fetchval(
            "SELECT on_hold_until FROM talentpool.profiles WHERE id = $1", person.profile_id
        )
        is None
    )
    assert [e["action"] for e in await _events(db, person) if e["tag"] == "on_hold"] == [
        "added",
        "removed",
    ]


async def test_a_hold_extended_before_its_date_does_not_end_then(db: asyncpg.Connection) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with api(
        talentpool_spec, clock=clock, run_timers=True, timer_poll_interval_s=0.1
    ) as pool:
        person = await a_person(db)
        first = clock.now() + timedelta(days=7)
        await put_tag(pool, person, "on_hold", {"until": first.isoformat()})
        await put_tag(pool, person, "on_hold", {"until": (first + timedelta(days=7)).isoformat()})

        clock.advance(timedelta(days=7, seconds=1))
        runner = pool.runtime.timer_runner
        assert runner is not None
        await runner.drain()

        assert "on_hold" in await tags_of(pool, person)
        assert [c["action"] for c in await history_of(pool, person)] == ["changed", "added"]


# Who may


def _routes(person: Person) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/v1/profiles/{person.profile_id}"
    return [
        ("GET", f"{base}/tags", None),
        ("PUT", f"{base}/tags/re_invite", {}),
        ("DELETE", f"{base}/tags/re_invite", None),
        ("GET", f"{base}/tag-history", None),
    ]


@pytest.mark.parametrize(
    ("who", "headers", "expected"),
    [
        ("nobody", {}, 401),
        ("an interviewer", AS_INTERVIEWER, 403),
        ("another service", AS_SERVICE, 403),
        ("HR of another job", AS_OTHER_HR, 404),
        ("HR owning the job", AS_OWNER, 2),
        ("HR searching the pool", AS_POOL_HR, 2),
        ("an admin", AS_ADMIN, 2),
    ],
)
async def test_who_may_see_and_change_a_persons_tags(
    pool: Running, db: asyncpg.Connection, who: str, headers: dict[str, str], expected: int
) -> None:
    person = await a_person(db)

    for method, url, body in _routes(person):
        response = await pool.client.request(method, url, json=body, headers=headers)
        if expected == 2:
            assert response.status_code // 100 == 2, (who, method, url, response.text)
        else:
            assert_problem(response, expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403)],
)
async def test_who_may_not_tag_in_bulk(
    pool: Running, db: asyncpg.Connection, headers: dict[str, str], expected: int
) -> None:
    person = await a_person(db)

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={"profile_ids": [str(person.profile_id)], "tag": "set_aside", "action": "add"},
        headers=headers,
    )

    assert_problem(response, expected)
    assert await history_of(pool, person) == []


async def test_hr_searching_the_pool_tags_anyone_in_bulk(
    pool: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db, owner="hr-carol")

    response = await pool.client.post(
        "/v1/tags/bulk",
        json={"profile_ids": [str(person.profile_id)], "tag": "set_aside", "action": "add"},
        headers=AS_POOL_HR,
    )

    assert response.status_code == 200, response.text
    assert response.json()["changed"] == 1
