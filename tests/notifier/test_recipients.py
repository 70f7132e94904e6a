"""Recipients: admins manage anyone's contact data and preferences, HR their candidates'
preferences, every staff member their own; contacts are stored encrypted; the dispatcher reads
preferences and contacts in one query each."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import asyncpg
import pytest

from notifier.recipients import service
from notifier.recipients.service import Contact, Preferences
from shared.crypto import key_id_of
from tests.notifier.recipients_support import (
    ADMIN,
    HR,
    NEW_KEY,
    ROTATED,
    counting_statements,
    keyring_in,
    notifier_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)
STAFF_URL = "/v1/recipients/staff/hr-li"
ME = "/v1/me/notification-settings"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with notifier_api() as service:
        yield service


def staff_body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "Li.Na@Example.com",
        "phone": "138 1234 5678",
        "locale": "en",
        "time_zone": "Europe/Berlin",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "muted_channels": ["sms"],
        "unsubscribed_kinds": ["interview_reminder"],
        "unsubscribed_all": False,
        **overrides,
    }


async def put(api: Running, url: str, body: dict[str, Any], **headers: str) -> Any:
    return await api.client.put(url, json=body, headers={**AS_ADMIN, **headers})


async def hr_owns_candidate(db: asyncpg.Connection, *, owner: str, candidate_id: uuid.UUID) -> None:
    """What the notifier knows of an application: a job it follows and a notice about it."""
    job_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO notifier.jobs (id, title, job_type, status, owner_ids, sequence, updated_at)"
        " VALUES ($1, 'Backend engineer', 'full_time', 'open', $2, 1, now())",
        job_id,
        [owner],
    )
    await db.execute(
        "INSERT INTO notifier.notifications (id, kind, recipient_kind, recipient_id, candidate_id,"
        " application_id, job_id, status, data, source_event_id, created_at, updated_at)"
        " VALUES ($1, 'stage_passed', 'candidate', $2, $3, $4, $5, 'pending', $6::jsonb, $7,"
        " now(), now())",
        uuid.uuid4(),
        str(candidate_id),
        candidate_id,
        uuid.uuid4(),
        job_id,
        json.dumps({}),
        uuid.uuid4(),
    )


# Admin routes


async def test_admin_saves_a_staff_members_contact_and_reads_it_back_decrypted(
    api: Running,
) -> None:
    created = await put(api, STAFF_URL, staff_body())

    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body == {
        "kind": "staff",
        "id": "hr-li",
        "email": "li.na@example.com",
        "phone": "+8613812345678",
        "locale": "en",
        "time_zone": "Europe/Berlin",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "muted_channels": ["sms"],
        "unsubscribed_kinds": ["interview_reminder"],
        "unsubscribed_all": False,
        "version": 1,
        "updated_at": body["updated_at"],
    }
    fetched = await api.client.get(STAFF_URL, headers=AS_ADMIN)
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'
    assert fetched.headers["cache-control"] == "no-store"


async def test_contact_data_is_stored_only_encrypted(api: Running, db: asyncpg.Connection) -> None:
    await put(api, STAFF_URL, staff_body())

    row = await db.fetchrow(
        "SELECT email_ciphertext, phone_ciphertext FROM notifier.recipients WHERE id = 'hr-li'"
    )

    assert row is not None
    assert b"li.na@example.com" not in row["email_ciphertext"]
    assert b"example" not in row["email_ciphertext"]
    assert b"13812345678" not in row["phone_ciphertext"]
    keyring = keyring_in(api)
    assert keyring.decrypt(row["email_ciphertext"], context="recipients.email") == (
        "li.na@example.com"
    )


async def test_put_replaces_everything_and_checks_the_version(api: Running) -> None:
    await put(api, STAFF_URL, staff_body())

    replaced = await put(api, STAFF_URL, {"email": "li@example.com"}, **{"If-Match": '"1"'})
    stale = await put(api, STAFF_URL, staff_body(), **{"If-Match": '"1"'})
    only_if_new = await put(api, STAFF_URL, staff_body(), **{"If-Match": '"0"'})

    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    changed = replaced.json()
    assert (changed["email"], changed["phone"], changed["quiet_start"]) == (
        "li@example.com",
        None,
        None,
    )
    assert (changed["muted_channels"], changed["unsubscribed_kinds"]) == ([], [])
    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 2
    assert_problem(only_if_new, 412, "version-mismatch")


async def test_a_version_for_a_recipient_never_saved_is_stale(api: Running) -> None:
    response = await put(api, STAFF_URL, staff_body(), **{"If-Match": '"3"'})

    assert assert_problem(response, 412, "version-mismatch")["current_version"] == 0


async def test_if_match_that_is_no_version_is_a_bad_request(api: Running) -> None:
    response = await put(api, STAFF_URL, staff_body(), **{"If-Match": "yesterday"})

    assert_problem(response, 400, "invalid-if-match")


async def test_quiet_hours_may_wrap_midnight_or_not_and_lists_are_deduplicated(
    api: Running,
) -> None:
    night = await put(api, STAFF_URL, staff_body(muted_channels=["sms", "sms", "chat"]))
    lunch = await put(
        api, "/v1/recipients/staff/hr-zhou", staff_body(quiet_start="12:00", quiet_end="13:30")
    )

    assert (night.json()["quiet_start"], night.json()["quiet_end"]) == ("22:00", "08:00")
    assert night.json()["muted_channels"] == ["sms", "chat"]
    assert (lunch.json()["quiet_start"], lunch.json()["quiet_end"]) == ("12:00", "13:30")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"time_zone": "Asia/Atlantis"}, "time_zone"),
        ({"locale": "fr"}, "locale"),
        ({"quiet_start": "25:00"}, "quiet_start"),
        ({"quiet_end": "8am"}, "quiet_end"),
        ({"quiet_end": None}, "quiet_end"),
        ({"quiet_start": None}, "quiet_start"),
        ({"quiet_start": "08:00", "quiet_end": "08:00"}, "quiet_end"),
        ({"muted_channels": ["fax"]}, "muted_channels.0"),
        ({"muted_channels": ["webhook"]}, "muted_channels.0"),
        ({"unsubscribed_kinds": ["stage_passed", "newsletter"]}, "unsubscribed_kinds.1"),
        ({"nickname": "Nana"}, "nickname"),
    ],
)
async def test_invalid_settings_are_refused_naming_the_field(
    api: Running, overrides: dict[str, Any], field: str
) -> None:
    response = await put(api, STAFF_URL, staff_body(**overrides))

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


@pytest.mark.parametrize("field", ["email", "phone", "locale"])
async def test_a_candidates_contact_data_is_refused(api: Running, field: str) -> None:
    body = {"email": "a@example.com", "phone": "13812345678", "locale": "en"}

    response = await put(api, f"/v1/recipients/candidate/{uuid.uuid4()}", {field: body[field]})

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_candidates_preferences_are_kept(api: Running) -> None:
    candidate_id = uuid.uuid4()
    url = f"/v1/recipients/candidate/{str(candidate_id).upper()}"
    prefs = {"time_zone": "Asia/Shanghai", "quiet_start": "21:30", "quiet_end": "07:00"}

    response = await put(api, url, {**prefs, "muted_channels": ["email"]})

    assert response.status_code == 201, response.text
    assert response.json()["id"] == str(candidate_id)  # canonical form
    assert response.json()["muted_channels"] == ["email"]
    assert (await api.client.get(url, headers=AS_ADMIN)).json() == response.json()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/recipients/robot/x", "kind"),
        ("/v1/recipients/candidate/not-a-uuid", "recipient_id"),
        ("/v1/recipients/interviewer/42", "recipient_id"),
    ],
)
async def test_unknown_recipient_kinds_and_malformed_ids_are_refused(
    api: Running, url: str, field: str
) -> None:
    response = await api.client.get(url, headers=AS_ADMIN)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_recipient_never_saved_is_not_found(api: Running) -> None:
    for url in [STAFF_URL, f"/v1/recipients/interviewer/{uuid.uuid4()}"]:
        assert_problem(await api.client.get(url, headers=AS_ADMIN), 404, "not-found")


# HR and candidates


async def test_hr_manage_the_preferences_of_their_jobs_candidates_only(
    api: Running, db: asyncpg.Connection
) -> None:
    theirs, someone_elses = uuid.uuid4(), uuid.uuid4()
    await hr_owns_candidate(db, owner=HR, candidate_id=theirs)
    await hr_owns_candidate(db, owner="hr-other", candidate_id=someone_elses)
    mine = f"/v1/recipients/candidate/{theirs}"
    other = f"/v1/recipients/candidate/{someone_elses}"

    saved = await api.client.put(mine, json={"muted_channels": ["sms"]}, headers=AS_HR)
    read = await api.client.get(mine, headers=AS_HR)
    hidden_read = await api.client.get(other, headers=AS_HR)
    hidden_write = await api.client.put(other, json={}, headers=AS_HR)

    assert saved.status_code == 201, saved.text
    assert read.json()["muted_channels"] == ["sms"]
    assert_problem(hidden_read, 404, "not-found")
    assert_problem(hidden_write, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM notifier.recipients") == 1


async def test_hr_may_not_manage_staff_or_interviewers(api: Running) -> None:
    for url in [STAFF_URL, f"/v1/recipients/interviewer/{uuid.uuid4()}"]:
        assert_problem(await api.client.get(url, headers=AS_HR), 403, "forbidden")
        assert_problem(await api.client.put(url, json={}, headers=AS_HR), 403, "forbidden")


async def test_interviewers_and_services_may_not_manage_recipients(api: Running) -> None:
    candidate = f"/v1/recipients/candidate/{uuid.uuid4()}"
    for headers in [auth("interviewer", "int-ivan"), auth("service", "svc-pipeline")]:
        for url in [candidate, STAFF_URL]:
            assert_problem(await api.client.get(url, headers=headers), 403, "forbidden")
            assert_problem(await api.client.put(url, json={}, headers=headers), 403, "forbidden")


async def test_recipient_routes_need_a_token(api: Running) -> None:
    for response in [
        await api.client.get(STAFF_URL),
        await api.client.put(STAFF_URL, json={}),
        await api.client.get(ME),
        await api.client.put(ME, json={}),
    ]:
        assert_problem(response, 401, "unauthorized")


# Your own settings


async def test_your_own_settings_start_as_the_defaults(api: Running) -> None:
    response = await api.client.get(ME, headers=AS_HR)

    assert response.status_code == 200
    assert response.headers["etag"] == '"0"'
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "kind": "staff",
        "id": HR,
        "email": None,
        "phone": None,
        "locale": None,
        "time_zone": None,
        "quiet_start": None,
        "quiet_end": None,
        "muted_channels": [],
        "unsubscribed_kinds": [],
        "unsubscribed_all": False,
        "version": 0,
        "updated_at": None,
    }


@pytest.mark.parametrize(
    ("role", "subject"), [("hr", HR), ("interviewer", "int-ivan"), ("admin", ADMIN)]
)
async def test_every_staff_member_keeps_their_own_settings_as_a_staff_recipient(
    api: Running, role: str, subject: str
) -> None:
    mine = auth(role, subject)

    created = await api.client.put(ME, json=staff_body(), headers={**mine, "If-Match": '"0"'})
    changed = await api.client.put(
        ME, json=staff_body(unsubscribed_all=True), headers={**mine, "If-Match": '"1"'}
    )
    stale = await api.client.put(ME, json=staff_body(), headers={**mine, "If-Match": '"1"'})

    assert created.status_code == 201, created.text
    assert changed.status_code == 200, changed.text
    assert (changed.json()["kind"], changed.json()["id"]) == ("staff", subject)
    assert changed.json()["unsubscribed_all"] is True
    assert_problem(stale, 412, "version-mismatch")
    seen_by_admin = await api.client.get(f"/v1/recipients/staff/{subject}", headers=AS_ADMIN)
    assert seen_by_admin.json() == changed.json()
    assert (await api.client.get(ME, headers=mine)).json() == changed.json()


async def test_your_own_settings_are_validated_like_anyones(api: Running) -> None:
    response = await api.client.put(ME, json=staff_body(phone="0"), headers=AS_HR)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["phone"]


async def test_services_have_no_settings_of_their_own(api: Running) -> None:
    as_service = auth("service", "svc-pipeline")

    assert_problem(await api.client.get(ME, headers=as_service), 403, "forbidden")
    assert_problem(await api.client.put(ME, json={}, headers=as_service), 403, "forbidden")


# For the dispatcher


async def test_preferences_for_many_recipients_take_one_query_and_leave_out_the_unknown(
    api: Running,
) -> None:
    candidate_id = str(uuid.uuid4())
    await put(api, STAFF_URL, staff_body())
    await put(api, f"/v1/recipients/candidate/{candidate_id}", {"unsubscribed_all": True})
    asked = [("staff", "hr-li"), ("candidate", candidate_id), ("staff", "nobody")]

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            found = await service.preferences_for(session, asked)

    assert len(statements) == 1
    assert found == {
        ("staff", "hr-li"): Preferences(
            quiet_start=time(22, 0),
            quiet_end=time(8, 0),
            time_zone="Europe/Berlin",
            locale="en",
            muted_channels=frozenset({"sms"}),
            unsubscribed_kinds=frozenset({"interview_reminder"}),
            unsubscribed_all=False,
        ),
        ("candidate", candidate_id): Preferences(
            quiet_start=None,
            quiet_end=None,
            time_zone=None,
            locale=None,
            muted_channels=frozenset(),
            unsubscribed_kinds=frozenset(),
            unsubscribed_all=True,
        ),
    }


async def test_contacts_for_many_recipients_come_decrypted_in_one_query(api: Running) -> None:
    interviewer = str(uuid.uuid4())
    await put(api, STAFF_URL, staff_body())
    await put(
        api,
        f"/v1/recipients/interviewer/{interviewer}",
        {"email": "ivan@example.com", "time_zone": "Asia/Tokyo"},
    )
    asked = [("staff", "hr-li"), ("interviewer", interviewer), ("staff", "nobody")]

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            found = await service.contacts_for(session, keyring_in(api), asked)

    assert len(statements) == 1
    assert found == {
        ("staff", "hr-li"): Contact(
            email="li.na@example.com",
            phone="+8613812345678",
            locale="en",
            time_zone="Europe/Berlin",
        ),
        ("interviewer", interviewer): Contact(
            email="ivan@example.com", phone=None, locale=None, time_zone="Asia/Tokyo"
        ),
    }


async def test_nothing_asked_runs_no_query(api: Running) -> None:
    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            assert await service.preferences_for(session, []) == {}
            assert await service.contacts_for(session, keyring_in(api), []) == {}

    assert statements == []


async def test_unsubscribing_creates_or_extends_the_record_once(api: Running) -> None:
    candidate_id = str(uuid.uuid4())
    key = ("candidate", candidate_id)

    async def unsubscribe(notification_kind: str | None) -> None:
        async with api.runtime.db.transaction() as session:
            await service.unsubscribe(
                session,
                kind="candidate",
                id=candidate_id,
                notification_kind=notification_kind,
                now=NOW,
            )

    await unsubscribe("interview_reminder")
    await unsubscribe("interview_reminder")
    await unsubscribe("offer")
    async with api.runtime.db.transaction() as session:
        kinds_only = (await service.preferences_for(session, [key]))[key]
    await unsubscribe(None)
    await unsubscribe(None)

    assert kinds_only.unsubscribed_kinds == {"interview_reminder", "offer"}
    assert kinds_only.unsubscribed_all is False
    stored = (
        await api.client.get(f"/v1/recipients/candidate/{candidate_id}", headers=AS_ADMIN)
    ).json()
    assert stored["unsubscribed_kinds"] == ["interview_reminder", "offer"]
    assert stored["unsubscribed_all"] is True
    # Created, one kind added, then all: a repeat changes nothing, not even the version.
    assert stored["version"] == 3
    assert stored["updated_at"] == "2026-03-02T09:00:00Z"


async def test_unsubscribing_keeps_the_other_preferences(api: Running) -> None:
    await put(api, STAFF_URL, staff_body())

    async with api.runtime.db.transaction() as session:
        await service.unsubscribe(
            session, kind="staff", id="hr-li", notification_kind="offer", now=NOW
        )

    stored = (await api.client.get(STAFF_URL, headers=AS_ADMIN)).json()
    assert stored["unsubscribed_kinds"] == ["interview_reminder", "offer"]
    assert (stored["email"], stored["quiet_start"], stored["version"]) == (
        "li.na@example.com",
        "22:00",
        2,
    )


@pytest.mark.parametrize(
    ("kind", "notification_kind"), [("robot", "offer"), ("candidate", "newsletter")]
)
async def test_unsubscribing_from_unknown_things_is_refused(
    api: Running, kind: str, notification_kind: str
) -> None:
    async with api.runtime.db.transaction() as session:
        with pytest.raises(ValueError, match="unknown"):
            await service.unsubscribe(
                session, kind=kind, id="x", notification_kind=notification_kind, now=NOW
            )


async def test_key_rotation_moves_contacts_to_the_new_key_and_keeps_them_readable(
    api: Running, db: asyncpg.Connection
) -> None:
    await put(api, STAFF_URL, staff_body())
    await put(api, f"/v1/recipients/candidate/{uuid.uuid4()}", {"unsubscribed_all": True})

    async with notifier_api(**ROTATED) as rotated:
        before = (await rotated.client.get(STAFF_URL, headers=AS_ADMIN)).json()
        counts = []
        while True:
            async with rotated.runtime.db.transaction() as session:
                count = await service.rotate_keys(
                    session=session, keyring=keyring_in(rotated), batch_size=1
                )
            if count == 0:
                break
            counts.append(count)
        after = (await rotated.client.get(STAFF_URL, headers=AS_ADMIN)).json()

    assert counts == [1]  # the candidate's record holds no ciphertext
    assert after == before
    assert before["email"] == "li.na@example.com"
    row = await db.fetchrow(
        "SELECT email_ciphertext, phone_ciphertext FROM notifier.recipients WHERE id = 'hr-li'"
    )
    assert row is not None
    assert {key_id_of(row["email_ciphertext"]), key_id_of(row["phone_ciphertext"])} == {NEW_KEY}
