from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from pipeline.app import spec as pipeline_spec
from pipeline.candidates import service as candidates
from pipeline.candidates.contacts import (
    EMAIL_CONTEXT,
    PHONE_CONTEXT,
    normalize_email,
    normalize_phone,
)
from shared.crypto import Keyring, generate_key, key_id_of
from tests.pipeline.factories import HR, application_body, create_job
from tests.support import environment
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

# -- normalizing (plain functions) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("li.lei@example.com", "li.lei@example.com"),
        ("  Li.Lei@EXAMPLE.com ", "li.lei@example.com"),
        ("LI.LEI@Example.COM", "li.lei@example.com"),
    ],
)
def test_emails_are_normalized_to_lower_case(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize("raw", ["li.lei", "li.lei@", "@example.com", "a b@example.com", "a@@b.c"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid email"):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("010 6552 9988", "+861065529988"),
        ("+1 650 253 0000", "+16502530000"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_normalized_to_e164_reading_bare_numbers_as_chinese(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "call me", "+86 138", "1381234567890123"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        normalize_phone(raw)


# -- who is the same person ------------------------------------------------------------------


async def _apply(
    pipeline: Running, job_id: str, email: str, *, phone: str | None = None, name: str = "Li Lei"
) -> Any:
    return await pipeline.client.post(
        f"/v1/jobs/{job_id}/applications",
        json=application_body(email, name, phone=phone),
        headers=auth("hr", HR),
    )


async def _contact(pipeline: Running, application_id: str) -> dict[str, Any]:
    response = await pipeline.client.get(
        f"/v1/applications/{application_id}/candidate", headers=auth("hr", HR)
    )
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = response.json()
    return contact


async def test_email_and_phone_of_two_people_resolve_to_the_emails_person(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    first_job = await create_job(pipeline.client, title="First")
    second_job = await create_job(pipeline.client, title="Second")
    li = (await _apply(pipeline, first_job["id"], "li@example.com")).json()
    han = (await _apply(pipeline, first_job["id"], "han@example.com", phone="13812345678")).json()

    mixed = await _apply(pipeline, second_job["id"], "li@example.com", phone="13812345678")

    assert mixed.status_code == 201
    assert mixed.json()["candidate_id"] == li["candidate_id"]
    # The phone stays with the person who has it; Li gets no phone from this application.
    assert (await _contact(pipeline, mixed.json()["id"]))["phone"] is None
    assert (await _contact(pipeline, han["id"]))["phone"] == "+8613812345678"
    assert await db.fetchval("SELECT count(*) FROM pipeline.candidates") == 2


async def test_a_phone_is_added_to_a_candidate_who_had_none(pipeline: Running) -> None:
    first_job = await create_job(pipeline.client, title="First")
    second_job = await create_job(pipeline.client, title="Second")
    first = (await _apply(pipeline, first_job["id"], "li@example.com")).json()

    second = await _apply(pipeline, second_job["id"], "li@example.com", phone="13812345678")

    assert second.json()["candidate_id"] == first["candidate_id"]
    assert (await _contact(pipeline, first["id"]))["phone"] == "+8613812345678"


async def test_stored_contact_data_is_never_overwritten_by_an_application(
    pipeline: Running,
) -> None:
    first_job = await create_job(pipeline.client, title="First")
    second_job = await create_job(pipeline.client, title="Second")
    first = (await _apply(pipeline, first_job["id"], "li@example.com", phone="13812345678")).json()

    await _apply(
        pipeline, second_job["id"], "li@example.com", phone="13987654321", name="Someone Else"
    )

    contact = await _contact(pipeline, first["id"])
    assert contact["phone"] == "+8613812345678"
    assert contact["full_name"] == "Li Lei"


async def test_contact_data_is_stored_only_encrypted(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    await _apply(pipeline, job["id"], "li.lei@example.com", phone="13812345678")

    row = await db.fetchrow("SELECT * FROM pipeline.candidates")

    stored = b"".join(
        value if isinstance(value, bytes) else str(value).encode() for value in row.values()
    )
    assert b"li.lei" not in stored
    assert b"13812345678" not in stored
    keyring = Keyring.from_settings(pipeline.runtime.settings)
    assert keyring.decrypt(row["phone_ciphertext"], context=PHONE_CONTEXT) == "+8613812345678"
    assert key_id_of(row["email_ciphertext"]) == "test-1"


# -- reading contact data --------------------------------------------------------------------


async def test_staff_read_contact_data_through_an_application_they_may_see(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client)
    application = (
        await pipeline.client.post(
            f"/v1/jobs/{job['id']}/applications",
            json=application_body(" Li.Lei@Example.com", phone="138 1234 5678", locale="en"),
            headers=auth("hr", HR),
        )
    ).json()
    path = f"/v1/applications/{application['id']}/candidate"

    owner = await pipeline.client.get(path, headers=auth("hr", HR))
    admin = await pipeline.client.get(path, headers=auth("admin", "admin-zoe"))

    assert owner.status_code == admin.status_code == 200
    assert owner.headers["cache-control"] == "no-store"
    assert owner.json() == {
        "id": application["candidate_id"],
        "full_name": "Li Lei",
        "email": "li.lei@example.com",
        "phone": "+8613812345678",
        "locale": "en",
        "created_at": owner.json()["created_at"],
        "updated_at": owner.json()["updated_at"],
    }
    assert admin.json() == owner.json()


async def test_contact_data_is_hidden_from_those_who_may_not_see_the_application(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client)
    application = (await _apply(pipeline, job["id"], "li@example.com")).json()
    path = f"/v1/applications/{application['id']}/candidate"

    other_hr = await pipeline.client.get(path, headers=auth("hr", "hr-bob"))
    interviewer = await pipeline.client.get(path, headers=auth("interviewer", "iv-dan"))
    anonymous = await pipeline.client.get(path)
    unknown = await pipeline.client.get(
        f"/v1/applications/{uuid.uuid4()}/candidate", headers=auth("admin", "a")
    )

    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(unknown, 404, "not-found")
    assert "li@example.com" not in other_hr.text


# -- correcting contact data -----------------------------------------------------------------


async def _correct(pipeline: Running, application_id: str, body: Any, **options: Any) -> Any:
    return await pipeline.client.patch(
        f"/v1/applications/{application_id}/candidate",
        json=body,
        headers=options.get("headers", auth("hr", HR)),
    )


async def _changed_events(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM pipeline.outbox WHERE event_type = $1 ORDER BY id",
        "pipeline.candidate_changed.v1",
    )
    return [json.loads(row["payload"]) for row in rows]


async def test_staff_correct_a_candidates_email_phone_and_language(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    first_job = await create_job(pipeline.client, title="First")
    second_job = await create_job(pipeline.client, title="Second")
    application = (await _apply(pipeline, first_job["id"], "li.lei@exmaple.com")).json()

    response = await _correct(
        pipeline,
        application["id"],
        {"email": " Li.Lei@Example.com", "phone": "138 1234 5678", "locale": "en"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    corrected = response.json()
    assert (corrected["email"], corrected["phone"], corrected["locale"]) == (
        "li.lei@example.com",
        "+8613812345678",
        "en",
    )
    assert corrected["full_name"] == "Li Lei"
    assert await _contact(pipeline, application["id"]) == corrected
    # Recognised by the new email from now on, and no longer by the old one.
    again = await _apply(pipeline, second_job["id"], "li.lei@example.com")
    assert again.json()["candidate_id"] == application["candidate_id"]
    other = await _apply(pipeline, second_job["id"], "li.lei@exmaple.com")
    assert other.json()["candidate_id"] != application["candidate_id"]
    [event] = await _changed_events(db)
    assert event["subject"] == application["candidate_id"]
    assert event["data"]["changed"] == ["email", "phone", "locale"]
    assert event["data"]["actor"] == {"kind": "hr", "id": HR}
    # The event names the fields, never the values.
    assert "example.com" not in json.dumps(event) and "1381234" not in json.dumps(event)
    row = await db.fetchrow(
        "SELECT email_ciphertext FROM pipeline.candidates WHERE id = $1",
        uuid.UUID(application["candidate_id"]),
    )
    assert b"li.lei" not in row["email_ciphertext"]


async def test_a_phone_is_removed_and_a_name_corrected(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    application = (await _apply(pipeline, job["id"], "li@example.com", phone="13812345678")).json()

    response = await _correct(
        pipeline,
        application["id"],
        {"phone": None, "full_name": "Li Lei (李雷)"},
        headers=auth("admin", "admin-zoe"),
    )

    assert response.status_code == 200, response.text
    assert (response.json()["phone"], response.json()["full_name"]) == (None, "Li Lei (李雷)")
    assert await db.fetchval("SELECT phone_index FROM pipeline.candidates") is None
    [event] = await _changed_events(db)
    assert event["data"]["changed"] == ["full_name", "phone"]
    assert event["data"]["actor"] == {"kind": "admin", "id": "admin-zoe"}


async def test_a_correction_that_changes_nothing_tells_nobody(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    application = (await _apply(pipeline, job["id"], "li@example.com")).json()

    response = await _correct(pipeline, application["id"], {"email": "LI@example.com"})

    assert response.status_code == 200, response.text
    assert await _changed_events(db) == []


async def test_another_candidates_email_or_phone_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    li = (await _apply(pipeline, job["id"], "li@example.com")).json()
    await _apply(pipeline, job["id"], "han@example.com", phone="13812345678", name="Han Meimei")

    email = await _correct(pipeline, li["id"], {"email": "han@example.com"})
    phone = await _correct(pipeline, li["id"], {"phone": "+86 138 1234 5678"})

    assert_problem(email, 409, "contact-in-use")
    assert_problem(phone, 409, "contact-in-use")
    assert "Han" not in email.text and "han@" not in email.text
    assert (await _contact(pipeline, li["id"]))["email"] == "li@example.com"
    assert await _changed_events(db) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"email": None}, "email"),
        ({"full_name": None}, "full_name"),
        ({"locale": "fr"}, "locale"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"full_name": ""}, "full_name"),
        ({"nickname": "Lei"}, "nickname"),
    ],
)
async def test_a_bad_correction_is_a_422_naming_its_field(
    pipeline: Running, body: dict[str, Any], field: str | None
) -> None:
    job = await create_job(pipeline.client)
    application = (await _apply(pipeline, job["id"], "li@example.com")).json()

    response = await _correct(pipeline, application["id"], body)

    problem = assert_problem(response, 422, "validation-error")
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]]
    assert "li@example.com" not in response.text


async def test_only_those_who_may_see_the_application_correct_its_candidate(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    application = (await _apply(pipeline, job["id"], "li@example.com")).json()
    body = {"email": "li.lei@example.com"}

    other_hr = await _correct(pipeline, application["id"], body, headers=auth("hr", "hr-bob"))
    interviewer = await _correct(
        pipeline, application["id"], body, headers=auth("interviewer", "iv-dan")
    )
    anonymous = await pipeline.client.patch(
        f"/v1/applications/{application['id']}/candidate", json=body
    )
    unknown = await _correct(pipeline, str(uuid.uuid4()), body, headers=auth("admin", "a"))

    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(unknown, 404, "not-found")
    assert (await _contact(pipeline, application["id"]))["email"] == "li@example.com"
    assert await _changed_events(db) == []


# -- key rotation ----------------------------------------------------------------------------


def _rotated_settings() -> dict[str, Any]:
    """The run's key plus a new current one."""
    return {
        "pii_keys": {
            **{kid: SecretStr(key) for kid, key in environment.PII_KEYS.items()},
            "test-2": SecretStr(generate_key()),
        },
        "pii_current_key": "test-2",
    }


async def test_rotation_keeps_old_data_readable_and_moves_it_to_the_new_key(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    old = (await _apply(pipeline, job["id"], "old@example.com", phone="13812345678")).json()

    async with api(pipeline_spec, **_rotated_settings()) as rotated:
        # Readable under the new configuration before any row is re-encrypted ...
        before = await _contact(rotated, old["id"])
        new = (await _apply(rotated, job["id"], "new@example.com")).json()
        keyring = Keyring.from_settings(rotated.runtime.settings)
        # ... and re-encrypting moves every old row (only those) to the new key.
        done = []
        while True:
            async with rotated.runtime.db.transaction() as session:
                count = await candidates.rotate_keys(session=session, keyring=keyring, batch_size=1)
            if count == 0:
                break
            done.append(count)
        after = await _contact(rotated, old["id"])
        also_found = await _apply(rotated, job["id"], "old@example.com")

    assert done == [1]
    assert after == before
    assert before["email"] == "old@example.com"
    assert also_found.status_code == 409  # the blind index did not change
    rows = await db.fetch(
        "SELECT id, email_ciphertext, phone_ciphertext FROM pipeline.candidates ORDER BY id"
    )
    assert {key_id_of(row["email_ciphertext"]) for row in rows} == {"test-2"}
    old_row = next(row for row in rows if str(row["id"]) == old["candidate_id"])
    assert key_id_of(old_row["phone_ciphertext"]) == "test-2"
    assert keyring.decrypt(old_row["email_ciphertext"], context=EMAIL_CONTEXT) == (
        "old@example.com"
    )
    assert new["candidate_id"] != old["candidate_id"]
