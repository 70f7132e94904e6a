"""People in the pool over HTTP: reading them (contact data decrypted), finding them by email,
phone or candidate, editing what HR keep about them, and notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from talentpool.segments.text import query_tokens
from tests.support.running import Running
from tests.talentpool.profiles_support import (
    AS_ADMIN,
    AS_OWNER,
    T0,
    a_person,
    keyring,
)


async def test_a_profile_shows_its_contact_data_decrypted_and_is_not_cached(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(
        db, name="韩梅梅", email="Han.Meimei@Example.com", phone="+8613812345678"
    )

    response = await talentpool_http.client.get(
        f"/v1/profiles/{person.profile_id}", headers=AS_OWNER
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["full_name"], body["email"], body["phone"]) == (
        "韩梅梅",
        "Han.Meimei@Example.com",
        "+8613812345678",
    )
    assert body["candidate_ids"] == [str(person.candidate_id)]
    assert body["tags"] == []
    assert body["merged_into"] is None
    assert body["engagement"]["invited"] == 0
    assert body["engagement"]["response_rate"] is None
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert response.headers["cache-control"] == "no-store"
    stored = await db.fetchrow(
        "SELECT email_ciphertext, full_name_ciphertext FROM talentpool.profiles WHERE id = $1",
        person.profile_id,
    )
    assert b"Example" not in stored["email_ciphertext"]
    assert "韩梅梅".encode() not in stored["full_name_ciphertext"]


async def test_an_unknown_profile_is_not_found(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(f"/v1/profiles/{uuid.uuid4()}", headers=AS_ADMIN)

    assert response.status_code == 404
    assert response.json()["type"] == "urn:recruiting:problem:not-found"


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"email": "  HAN.MEIMEI@example.COM "}, True),
        ({"email": "li.lei@example.com"}, False),
        ({"phone": "138 1234 5678"}, True),
        ({"phone": "+86 138-1234-5678"}, True),
        ({"phone": "+8613912345678"}, False),
    ],
)
async def test_a_person_is_found_by_email_or_phone_however_it_is_written(
    talentpool_http: Running, db: asyncpg.Connection, params: dict[str, str], found: bool
) -> None:
    person = await a_person(db, email="han.meimei@example.com", phone="+8613812345678")
    await a_person(db, email="someone.else@example.com", phone="+8613700000000")

    response = await talentpool_http.client.get("/v1/profiles", params=params, headers=AS_ADMIN)

    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    assert ids == ([str(person.profile_id)] if found else [])


async def test_a_person_is_found_by_any_of_their_candidate_ids(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    await a_person(db)

    response = await talentpool_http.client.get(
        "/v1/profiles", params={"candidate_id": str(person.candidate_id)}, headers=AS_ADMIN
    )

    assert [item["id"] for item in response.json()["items"]] == [str(person.profile_id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+86 123"}, "phone"),
        ({"candidate_id": "nope"}, "candidate_id"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
    ],
)
async def test_a_bad_filter_is_refused_naming_it(
    talentpool_http: Running, params: dict[str, str], field: str
) -> None:
    response = await talentpool_http.client.get("/v1/profiles", params=params, headers=AS_ADMIN)

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("query", field)]


async def test_profiles_are_listed_most_recently_active_first_page_by_page_without_merged_ones(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    people = [await a_person(db, at=T0 + timedelta(days=day)) for day in range(5)]
    await a_person(db, merged_into=people[0].profile_id, at=T0 + timedelta(days=9))

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await talentpool_http.client.get("/v1/profiles", params=params, headers=AS_ADMIN)
        assert response.status_code == 200
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == [str(p.profile_id) for p in reversed(people)]


async def test_a_cursor_not_issued_by_the_list_is_refused(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(
        "/v1/profiles", params={"cursor": "garbage"}, headers=AS_ADMIN
    )

    assert response.status_code == 400
    assert response.json()["type"] == "urn:recruiting:problem:invalid-cursor"


# -- editing ---------------------------------------------------------------------------------


async def test_hr_change_skills_location_language_and_resume_which_becomes_searchable(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    read = await talentpool_http.client.get(f"/v1/profiles/{person.profile_id}", headers=AS_OWNER)

    response = await talentpool_http.client.patch(
        f"/v1/profiles/{person.profile_id}",
        json={
            # Full-width "Kafka", as a Chinese input method types it.
            "skills": ["Python", " PostgreSQL ", "python", "\uff2b\uff41\uff46\uff4b\uff41"],
            "location": "上海",
            "locale": "en",
            "resume_text": "五年后端开发经验, Python and Kafka",
        },
        headers={**AS_OWNER, "If-Match": read.headers["etag"]},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skills"] == ["python", "postgresql", "kafka"]
    assert (body["location"], body["locale"]) == ("上海", "en")
    assert body["resume_text"] == "五年后端开发经验, Python and Kafka"
    assert body["version"] == read.json()["version"] + 1
    assert response.headers["etag"] == f'"{body["version"]}"'
    stored = await db.fetchrow(
        "SELECT resume_ciphertext, search_tokens FROM talentpool.profiles WHERE id = $1",
        person.profile_id,
    )
    assert "后端".encode() not in stored["resume_ciphertext"]
    for query in ("后端开发", "python", "KAFKA"):
        assert set(query_tokens(keyring(), query)) <= set(stored["search_tokens"])
    assert not set(query_tokens(keyring(), "java")) <= set(stored["search_tokens"])


async def test_fields_left_out_are_kept_and_null_clears_one(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    path = f"/v1/profiles/{person.profile_id}"
    await talentpool_http.client.patch(
        path, json={"skills": ["go"], "location": "北京"}, headers=AS_OWNER
    )

    response = await talentpool_http.client.patch(path, json={"location": None}, headers=AS_OWNER)

    assert response.status_code == 200
    assert (response.json()["skills"], response.json()["location"]) == (["go"], None)


async def test_a_change_from_a_stale_version_is_refused(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    path = f"/v1/profiles/{person.profile_id}"
    await talentpool_http.client.patch(path, json={"location": "北京"}, headers=AS_OWNER)

    response = await talentpool_http.client.patch(
        path, json={"location": "上海"}, headers={**AS_OWNER, "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["current_version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"skils": ["go"]}, "skils"),
        ({"locale": "fr"}, "locale"),
        ({"skills": [""]}, "skills.0"),
        ({"skills": "go"}, "skills"),
        ({"location": ""}, "location"),
    ],
)
async def test_a_bad_change_is_refused_naming_the_field(
    talentpool_http: Running, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    person = await a_person(db)

    response = await talentpool_http.client.patch(
        f"/v1/profiles/{person.profile_id}", json=body, headers=AS_OWNER
    )

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("body", field)]


@pytest.mark.parametrize("state", ["merged", "anonymized"])
async def test_a_merged_or_anonymized_profile_cannot_be_changed(
    talentpool_http: Running, db: asyncpg.Connection, state: str
) -> None:
    survivor = await a_person(db)
    person = await a_person(
        db,
        merged_into=survivor.profile_id if state == "merged" else None,
        anonymized=state == "anonymized",
    )

    for method, path, body in (
        ("PATCH", "", {"location": "上海"}),
        ("POST", "/notes", {"body": "再联系"}),
    ):
        response = await talentpool_http.client.request(
            method, f"/v1/profiles/{person.profile_id}{path}", json=body, headers=AS_ADMIN
        )

        assert response.status_code == 409
        assert response.json()["type"] == f"urn:recruiting:problem:profile-{state}"


async def test_a_merged_profile_answers_with_the_profile_it_was_merged_into(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    survivor = await a_person(db)
    merged = await a_person(db, merged_into=survivor.profile_id)

    response = await talentpool_http.client.get(
        f"/v1/profiles/{merged.profile_id}", headers=AS_ADMIN
    )

    assert response.status_code == 200
    assert response.json()["merged_into"] == str(survivor.profile_id)
    assert response.json()["candidate_ids"] == []


# -- notes -----------------------------------------------------------------------------------


async def test_notes_are_kept_encrypted_listed_newest_first_and_searchable(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    path = f"/v1/profiles/{person.profile_id}/notes"

    first = await talentpool_http.client.post(path, json={"body": "沟通能力强"}, headers=AS_OWNER)
    second = await talentpool_http.client.post(
        path, json={"body": "Prefers remote work"}, headers=AS_ADMIN
    )
    listed = await talentpool_http.client.get(path, headers=AS_OWNER)

    assert first.status_code == second.status_code == 201
    assert first.json()["author_id"] == "hr-alice"
    assert first.json()["body"] == "沟通能力强"
    assert [n["body"] for n in listed.json()["items"]] == ["Prefers remote work", "沟通能力强"]
    assert listed.headers["cache-control"] == "no-store"
    stored = await db.fetch(
        "SELECT body_ciphertext FROM talentpool.profile_notes WHERE profile_id = $1",
        person.profile_id,
    )
    assert all("沟通".encode() not in row["body_ciphertext"] for row in stored)
    tokens = set(
        await db.fetchval(
            "SELECT search_tokens FROM talentpool.profiles WHERE id = $1", person.profile_id
        )
    )
    assert set(query_tokens(keyring(), "沟通能力")) <= tokens
    assert set(query_tokens(keyring(), "remote")) <= tokens


async def test_a_note_sent_twice_with_one_idempotency_key_is_written_once(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    path = f"/v1/profiles/{person.profile_id}/notes"
    headers = {**AS_OWNER, "Idempotency-Key": "note-1"}

    first = await talentpool_http.client.post(path, json={"body": "再联系"}, headers=headers)
    again = await talentpool_http.client.post(path, json={"body": "再联系"}, headers=headers)
    other = await talentpool_http.client.post(path, json={"body": "别的"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 422
    count = await db.fetchval(
        "SELECT count(*) FROM talentpool.profile_notes WHERE profile_id = $1", person.profile_id
    )
    assert count == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"body": ""}, "body"), ({}, "body"), ({"body": "x", "pinned": True}, "pinned")],
)
async def test_a_bad_note_is_refused_naming_the_field(
    talentpool_http: Running, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    person = await a_person(db)

    response = await talentpool_http.client.post(
        f"/v1/profiles/{person.profile_id}/notes", json=body, headers=AS_OWNER
    )

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("body", field)]


async def test_a_profile_lists_the_tags_in_force(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    now = datetime.now(UTC)
    for tag, until in (
        ("runner_up", None),
        ("on_hold", now + timedelta(days=30)),
        ("re_invite", now - timedelta(minutes=1)),
    ):
        await db.execute(
            """INSERT INTO talentpool.profile_tags (profile_id, tag, source, until, added_at)
               VALUES ($1, $2, 'manual', $3, $4)""",
            person.profile_id,
            tag,
            until,
            now,
        )

    read = await talentpool_http.client.get(f"/v1/profiles/{person.profile_id}", headers=AS_OWNER)
    listed = await talentpool_http.client.get("/v1/profiles", headers=AS_OWNER)

    assert read.json()["tags"] == ["on_hold", "runner_up"]
    assert listed.json()["items"][0]["tags"] == ["on_hold", "runner_up"]
