"""HR merging two profiles of one person and undoing it: the candidates (and so their history,
applications and counters) move, and move back, exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.talentpool import CandidateSubscriptionChangedV1
from talentpool.segments.text import query_tokens
from tests.support.running import Running
from tests.talentpool.profiles_support import (
    AS_ADMIN,
    AS_OWNER,
    T0,
    AnApplication,
    a_person,
    deliver_all,
    job_changed,
    keyring,
    profile_of,
    timeline_of,
)
from tests.talentpool.tags_support import deliver_and_wait, event

HOUR = timedelta(hours=1)


async def _two_people(amqp: AbstractRobustConnection) -> tuple[AnApplication, AnApplication]:
    """One person known under two candidate ids: an AI interview taken under one, an ignored
    live invitation under the other, both for jobs hr-alice owns."""
    taken, ignored = AnApplication(), AnApplication()
    await deliver_all(
        amqp,
        job_changed(taken.job_id),
        job_changed(ignored.job_id),
        taken.applied(at=T0),
        taken.ai("invited", at=T0 + HOUR),
        taken.ai("completed", at=T0 + 2 * HOUR),
        ignored.applied(at=T0 + 24 * HOUR),
        ignored.invitation_sent(at=T0 + 25 * HOUR),
        ignored.invite_expired(kind="live_interview", at=T0 + 73 * HOUR),
    )
    return taken, ignored


async def _merge(
    service: Running, into: str, other: str, headers: dict[str, str] = AS_OWNER
) -> Any:
    return await service.client.post(
        f"/v1/profiles/{into}/merge", json={"other_profile_id": other}, headers=headers
    )


async def test_merging_moves_the_other_profiles_candidates_and_history_into_this_one(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)

    response = await _merge(talentpool, into["id"], other["id"])

    assert response.status_code == 201, response.text
    merge = response.json()
    assert (merge["into_profile_id"], merge["from_profile_id"]) == (into["id"], other["id"])
    assert merge["candidate_ids"] == [str(ignored.candidate_id)]
    assert (merge["matched_by"], merge["merged_by"]) == ("hr", "hr-alice")
    merged = await profile_of(talentpool, ignored.candidate_id)
    assert merged["id"] == into["id"]
    assert set(merged["candidate_ids"]) == {str(taken.candidate_id), str(ignored.candidate_id)}
    assert merged["engagement"]["invited"] == 2
    assert merged["engagement"]["completed"] == 1
    assert merged["engagement"]["no_shows"] == 1
    assert merged["first_seen_at"] == "2026-03-02T09:00:00Z"
    assert len(await timeline_of(talentpool, into["id"])) == 6
    gone = await talentpool.client.get(f"/v1/profiles/{other['id']}", headers=AS_ADMIN)
    assert gone.status_code == 200
    assert gone.json()["merged_into"] == into["id"]
    assert gone.json()["candidate_ids"] == []
    assert gone.json()["engagement"]["invited"] == 0
    listed = await talentpool.client.get("/v1/profiles", headers=AS_ADMIN)
    assert [item["id"] for item in listed.json()["items"]] == [into["id"]]
    for profile_id in (into["id"], other["id"]):
        merges = await talentpool.client.get(f"/v1/profiles/{profile_id}/merges", headers=AS_OWNER)
        assert [m["id"] for m in merges.json()["items"]] == [merge["id"]]


async def test_unmerging_gives_each_profile_back_exactly_what_it_had(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    merge = (await _merge(talentpool, into["id"], other["id"])).json()

    response = await talentpool.client.post(
        f"/v1/profiles/{into['id']}/unmerge", json={"merge_id": merge["id"]}, headers=AS_OWNER
    )

    assert response.status_code == 200, response.text
    assert response.json()["undone_by"] == "hr-alice"
    assert response.json()["undone_at"] is not None
    for before in (into, other):
        after = await talentpool.client.get(f"/v1/profiles/{before['id']}", headers=AS_ADMIN)
        kept = ("candidate_ids", "engagement", "first_seen_at", "last_activity_at", "merged_into")
        assert {k: after.json()[k] for k in kept} == {k: before[k] for k in kept}
    again = await talentpool.client.post(
        f"/v1/profiles/{into['id']}/unmerge", json={"merge_id": merge["id"]}, headers=AS_OWNER
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:recruiting:problem:merge-undone"


async def test_an_unsubscribe_follows_its_candidate_through_a_merge_and_back(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    await deliver_and_wait(
        amqp,
        event(
            CandidateSubscriptionChangedV1(
                candidate_id=ignored.candidate_id,
                unsubscribed_all=True,
                occurred_at=T0 + 80 * HOUR,
            ),
            subject=ignored.candidate_id,
        ),
    )
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    assert into["unsubscribed_at"] is None and other["unsubscribed_at"] is not None

    merge = (await _merge(talentpool, into["id"], other["id"])).json()
    merged = await profile_of(talentpool, taken.candidate_id)
    assert merged["unsubscribed_at"] == other["unsubscribed_at"]

    await talentpool.client.post(
        f"/v1/profiles/{into['id']}/unmerge", json={"merge_id": merge["id"]}, headers=AS_OWNER
    )
    assert (await profile_of(talentpool, taken.candidate_id))["unsubscribed_at"] is None
    assert (await profile_of(talentpool, ignored.candidate_id))["unsubscribed_at"] is not None


async def test_the_merged_profiles_tags_and_later_consents_go_to_the_profile_it_joins(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    client = talentpool.client
    tagged = await client.put(
        f"/v1/profiles/{other['id']}/tags/re_invite", json={"note": "call back"}, headers=AS_OWNER
    )
    consented = await client.put(
        f"/v1/profiles/{other['id']}/consents/re_engagement",
        json={"granted": True, "source": "phone_call"},
        headers=AS_OWNER,
    )
    assert (tagged.status_code, consented.status_code) == (201, 201), consented.text

    assert (await _merge(talentpool, into["id"], other["id"])).status_code == 201

    tags = (await client.get(f"/v1/profiles/{into['id']}/tags", headers=AS_OWNER)).json()
    # no_show came from the built-in rule on the other profile's expired invitation.
    assert sorted(t["tag"] for t in tags["items"]) == ["no_show", "re_invite"]
    history = (await client.get(f"/v1/profiles/{into['id']}/tag-history", headers=AS_OWNER)).json()
    assert sorted((h["tag"], h["action"], h["reason"]) for h in history["items"]) == [
        ("no_show", "added", "merged"),
        ("re_invite", "added", "merged"),
    ]
    consents = (await client.get(f"/v1/profiles/{into['id']}/consents", headers=AS_OWNER)).json()
    assert [(c["purpose"], c["granted"]) for c in consents["items"]] == [("re_engagement", True)]


async def _tags(service: Running, profile_id: str) -> dict[str, Any]:
    found = await service.client.get(f"/v1/profiles/{profile_id}/tags", headers=AS_OWNER)
    return {t["tag"]: t for t in found.json()["items"]}


async def _consents(service: Running, profile_id: str) -> dict[str, Any]:
    found = await service.client.get(f"/v1/profiles/{profile_id}/consents", headers=AS_OWNER)
    return {c["purpose"]: c for c in found.json()["items"]}


async def _consent_history(service: Running, profile_id: str) -> list[tuple[str, bool]]:
    found = await service.client.get(
        f"/v1/profiles/{profile_id}/consents/history", headers=AS_OWNER
    )
    return [(c["purpose"], c["granted"]) for c in found.json()["items"]]


async def _tag(
    service: Running, profile_id: str, tag: str, body: dict[str, Any], status: int = 201
) -> None:
    response = await service.client.put(
        f"/v1/profiles/{profile_id}/tags/{tag}", json=body, headers=AS_OWNER
    )
    assert response.status_code == status, response.text


async def _answer(
    service: Running, profile_id: str, purpose: str, granted: bool, source: str, status: int = 201
) -> None:
    response = await service.client.put(
        f"/v1/profiles/{profile_id}/consents/{purpose}",
        json={"granted": granted, "source": source},
        headers=AS_OWNER,
    )
    assert response.status_code == status, response.text


async def _unmerge(service: Running, into: str, merge_id: str) -> Any:
    return await service.client.post(
        f"/v1/profiles/{into}/unmerge", json={"merge_id": merge_id}, headers=AS_OWNER
    )


async def test_unmerging_takes_back_the_tags_and_consents_the_merge_carried(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    """A merge made by mistake must not leave one person with the other's tags or, worse, the
    other's consent: unmerging restores what the surviving profile had."""
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    client = talentpool.client
    soon, later = (datetime.now(UTC) + timedelta(days=days) for days in (10, 40))
    for profile_id, until, granted in ((into["id"], soon, False), (other["id"], later, True)):
        await _tag(talentpool, profile_id, "on_hold", {"until": until.isoformat()})
        await _answer(talentpool, profile_id, "re_engagement", granted, "phone_call")
    await _tag(talentpool, other["id"], "re_invite", {})
    own_consents = await _consents(talentpool, into["id"])
    merge = (await _merge(talentpool, into["id"], other["id"])).json()
    merged_tags = await _tags(talentpool, into["id"])
    assert sorted(merged_tags) == ["no_show", "on_hold", "re_invite"]
    assert datetime.fromisoformat(merged_tags["on_hold"]["until"]) == later
    assert (await _consents(talentpool, into["id"]))["re_engagement"]["granted"] is True

    response = await _unmerge(talentpool, into["id"], merge["id"])

    assert response.status_code == 200, response.text
    kept = await _tags(talentpool, into["id"])
    assert sorted(kept) == ["on_hold"]
    assert datetime.fromisoformat(kept["on_hold"]["until"]) == soon
    restored = await profile_of(talentpool, taken.candidate_id)
    assert datetime.fromisoformat(restored["on_hold_until"]) == soon
    assert await _consents(talentpool, into["id"]) == own_consents
    assert await _consent_history(talentpool, into["id"]) == [("re_engagement", False)]
    history = await client.get(f"/v1/profiles/{into['id']}/tag-history", headers=AS_OWNER)
    undone = [(h["tag"], h["action"]) for h in history.json()["items"] if h["reason"] == "unmerged"]
    assert sorted(undone) == [
        ("no_show", "removed"),
        ("on_hold", "changed"),
        ("re_invite", "removed"),
    ]
    # The other profile keeps all of its own.
    assert sorted(await _tags(talentpool, other["id"])) == ["no_show", "on_hold", "re_invite"]
    assert (await _consents(talentpool, other["id"]))["re_engagement"]["granted"] is True


async def test_what_changed_after_a_merge_stays_when_it_is_undone(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    await _answer(talentpool, other["id"], "talent_pool", True, "application_form")
    await _tag(talentpool, other["id"], "re_invite", {})
    merge = (await _merge(talentpool, into["id"], other["id"])).json()
    # After the merge HR confirm both with the person in front of them.
    await _answer(talentpool, into["id"], "talent_pool", True, "in_person", status=200)
    await _tag(talentpool, into["id"], "re_invite", {"note": "asked"}, status=200)

    assert (await _unmerge(talentpool, into["id"], merge["id"])).status_code == 200

    assert sorted(await _tags(talentpool, into["id"])) == ["re_invite"]  # no_show went
    consent = (await _consents(talentpool, into["id"]))["talent_pool"]
    assert (consent["granted"], consent["source"]) == (True, "in_person")
    # The other person's answer copied by the merge is gone from this one's proof; HR's stays.
    assert await _consent_history(talentpool, into["id"]) == [("talent_pool", True)]


async def test_events_of_a_merged_candidate_count_on_the_profile_they_joined(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken, ignored = await _two_people(amqp)
    into = await profile_of(talentpool, taken.candidate_id)
    other = await profile_of(talentpool, ignored.candidate_id)
    await _merge(talentpool, into["id"], other["id"])
    later = ignored.other()

    await deliver_all(
        amqp,
        later.applied(at=T0 + 100 * HOUR),
        later.invitation_sent(at=T0 + 101 * HOUR),
        later.invitation_opened(at=T0 + 102 * HOUR),
    )

    merged = await profile_of(talentpool, later.candidate_id)
    assert merged["id"] == into["id"]
    assert (merged["engagement"]["invited"], merged["engagement"]["responded"]) == (3, 2)
    assert merged["last_activity_at"] == "2026-03-06T15:00:00Z"


async def test_merging_a_profile_with_itself_is_refused_naming_the_field(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await _merge(talentpool_http, str(person.profile_id), str(person.profile_id))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["location"], error["field"]) == ("body", "other_profile_id")


@pytest.mark.parametrize("state", ["merged", "anonymized"])
async def test_merging_with_a_merged_or_anonymized_profile_is_refused(
    talentpool_http: Running, db: asyncpg.Connection, state: str
) -> None:
    person, third = await a_person(db), await a_person(db)
    other = await a_person(
        db,
        merged_into=third.profile_id if state == "merged" else None,
        anonymized=state == "anonymized",
    )

    response = await _merge(talentpool_http, str(person.profile_id), str(other.profile_id))
    backwards = await _merge(talentpool_http, str(other.profile_id), str(person.profile_id))

    assert response.status_code == backwards.status_code == 409
    assert response.json()["type"] == f"urn:recruiting:problem:profile-{state}"
    assert backwards.json()["type"] == f"urn:recruiting:problem:profile-{state}"


async def test_merging_with_an_unknown_profile_is_not_found(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    response = await _merge(talentpool_http, str(person.profile_id), str(uuid.uuid4()))

    assert response.status_code == 404


async def test_a_merge_retried_with_its_idempotency_key_is_made_once(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    person, other = await a_person(db), await a_person(db)
    headers = {**AS_OWNER, "Idempotency-Key": "merge-1"}
    body = {"other_profile_id": str(other.profile_id)}
    path = f"/v1/profiles/{person.profile_id}/merge"

    first = await talentpool_http.client.post(path, json=body, headers=headers)
    again = await talentpool_http.client.post(path, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM talentpool.profile_merges") == 1


async def test_merges_are_undone_latest_first(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    a, b, c = await a_person(db), await a_person(db), await a_person(db)
    into_b = (await _merge(talentpool_http, str(b.profile_id), str(a.profile_id))).json()
    await _merge(talentpool_http, str(c.profile_id), str(b.profile_id))

    refused = await talentpool_http.client.post(
        f"/v1/profiles/{b.profile_id}/unmerge", json={"merge_id": into_b["id"]}, headers=AS_OWNER
    )

    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:recruiting:problem:profile-merged"
    members = await db.fetch(
        "SELECT candidate_id FROM talentpool.profile_members WHERE profile_id = $1",
        c.profile_id,
    )
    assert {m["candidate_id"] for m in members} == {a.candidate_id, b.candidate_id, c.candidate_id}


async def test_a_merge_of_another_profile_cannot_be_undone_from_this_one(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    a, b, c = await a_person(db), await a_person(db), await a_person(db)
    merge = (await _merge(talentpool_http, str(b.profile_id), str(a.profile_id))).json()

    response = await talentpool_http.client.post(
        f"/v1/profiles/{c.profile_id}/unmerge", json={"merge_id": merge["id"]}, headers=AS_OWNER
    )

    assert response.status_code == 404


async def test_notes_and_resume_of_a_merged_profile_are_shown_and_searched_with_the_survivor(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    survivor, merged = await a_person(db), await a_person(db)
    await talentpool_http.client.post(
        f"/v1/profiles/{merged.profile_id}/notes", json={"body": "擅长数据库"}, headers=AS_OWNER
    )
    await talentpool_http.client.patch(
        f"/v1/profiles/{merged.profile_id}", json={"resume_text": "Rust"}, headers=AS_OWNER
    )
    await _merge(talentpool_http, str(survivor.profile_id), str(merged.profile_id))

    notes = await talentpool_http.client.get(
        f"/v1/profiles/{survivor.profile_id}/notes", headers=AS_OWNER
    )

    assert [(n["body"], n["profile_id"]) for n in notes.json()["items"]] == [
        ("擅长数据库", str(merged.profile_id))
    ]
    tokens = set(
        await db.fetchval(
            "SELECT search_tokens FROM talentpool.profiles WHERE id = $1", survivor.profile_id
        )
    )
    assert set(query_tokens(keyring(), "数据库")) <= tokens
    assert set(query_tokens(keyring(), "rust")) <= tokens
