"""Matching people: the pool reads new candidates' contacts from the real pipeline (served on a
loopback port, its relay publishing its events to the run's broker), keeps them encrypted with
blind indexes, and merges a candidate into the person who has the same email or phone. While
the pipeline is unreachable the matcher waits and the service stays ready."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
from aio_pika.abc import AbstractRobustConnection

from pipeline.app import spec as pipeline_spec
from shared.events.pipeline import Actor, CandidateChangedV1
from shared.http.app import create_app
from talentpool.app import spec as talentpool_spec
from talentpool.profiles.matching import best_match
from talentpool.profiles.models import Profile
from tests.notifier.dispatch_support import served
from tests.pipeline.factories import create_job
from tests.support.running import Running, running, wait_for
from tests.support.tcp_proxy import tcp_proxy
from tests.support.tokens import auth
from tests.talentpool.profiles_support import AS_ADMIN, AnApplication, deliver_all, keyring
from tests.talentpool.tags_support import event


@dataclass
class Pipeline:
    """The real pipeline on a loopback port, publishing its events (``application_created``
    reaches the pool as in production)."""

    url: str
    client: httpx.AsyncClient
    jobs: list[dict[str, Any]] = field(default_factory=list)

    async def apply(
        self, *, email: str, phone: str | None = None, name: str = "韩梅梅", locale: str = "zh-CN"
    ) -> uuid.UUID:
        """The person applies to a new job; the candidate id the pipeline gives them."""
        job = await create_job(self.client, title=f"Job {len(self.jobs) + 1}")
        self.jobs.append(job)
        person: dict[str, Any] = {"full_name": name, "email": email, "locale": locale}
        if phone is not None:
            person["phone"] = phone
        response = await self.client.post(
            f"/v1/jobs/{job['id']}/applications", json={"candidate": person}, headers=auth()
        )
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["candidate_id"])


@contextlib.asynccontextmanager
async def pipeline() -> AsyncIterator[Pipeline]:
    app = create_app(
        pipeline_spec,
        pipeline_spec.settings_class(
            run_relay=True, run_consumers=False, run_timers=False, run_workers=False
        ),
    )
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Pipeline(url, client)


@contextlib.asynccontextmanager
async def pool(pipeline_url: str) -> AsyncIterator[Running]:
    async with running(talentpool_spec, pipeline_url=pipeline_url, matching_idle_s=0.1) as service:
        yield service


async def _profile(service: Running, candidate_id: uuid.UUID) -> dict[str, Any] | None:
    listed = await service.client.get(
        "/v1/profiles", params={"candidate_id": str(candidate_id)}, headers=AS_ADMIN
    )
    items = listed.json()["items"]
    if not items:
        return None
    response = await service.client.get(f"/v1/profiles/{items[0]['id']}", headers=AS_ADMIN)
    found: dict[str, Any] = response.json()
    return found


async def _read(service: Running, candidate_id: uuid.UUID) -> dict[str, Any]:
    async def read() -> dict[str, Any] | None:
        found = await _profile(service, candidate_id)
        return found if found and found["contacts_checked_at"] else None

    profile: dict[str, Any] = await wait_for(read, timeout=30, what="the contacts to be read")
    return profile


async def test_a_new_candidate_gets_their_name_and_contacts_from_the_pipeline_kept_encrypted(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with pipeline() as source, pool(source.url) as service:
        candidate_id = await source.apply(
            email="Han.Meimei@Example.com", phone="13812345678", name="韩梅梅", locale="en"
        )

        profile = await _read(service, candidate_id)
        found = await service.client.get(
            "/v1/profiles", params={"email": "han.meimei@example.com"}, headers=AS_ADMIN
        )
        by_phone = await service.client.get(
            "/v1/profiles", params={"phone": "+86 138 1234 5678"}, headers=AS_ADMIN
        )

    assert (profile["full_name"], profile["locale"]) == ("韩梅梅", "en")
    assert profile["email"].lower() == "han.meimei@example.com"
    assert profile["phone"] == "+8613812345678"
    assert [p["id"] for p in found.json()["items"]] == [profile["id"]]
    assert [p["id"] for p in by_phone.json()["items"]] == [profile["id"]]
    stored = await db.fetchrow(
        "SELECT * FROM talentpool.profiles WHERE id = $1", uuid.UUID(profile["id"])
    )
    ring = keyring()
    assert stored["email_index"] == ring.blind_index(
        "han.meimei@example.com", context="talentpool.email"
    )
    assert stored["phone_index"] == ring.blind_index("+8613812345678", context="talentpool.phone")
    for column in ("full_name_ciphertext", "email_ciphertext", "phone_ciphertext"):
        assert b"han.meimei" not in stored[column].lower()
        assert b"13812345678" not in stored[column]
        assert "韩梅梅".encode() not in stored[column]


async def _legacy_candidate(db: asyncpg.Connection, *, email: str, phone: str | None) -> uuid.UUID:
    """A candidate the pipeline imported before it normalized contact data: its email and phone
    as they were typed, indexed as typed, so the pipeline does not know it is someone it has."""
    ring, candidate_id, now = keyring(), uuid.uuid4(), datetime.now(UTC)
    await db.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email_ciphertext, email_index,
           phone_ciphertext, phone_index, locale, created_at, updated_at)
           VALUES ($1, '李雷', $2, $3, $4, $5, 'zh-CN', $6, $6)""",
        candidate_id,
        ring.encrypt(email, context="candidates.email"),
        ring.blind_index(email, context="candidates.email"),
        ring.encrypt(phone, context="candidates.phone") if phone else None,
        ring.blind_index(phone, context="candidates.phone") if phone else None,
        now,
    )
    return candidate_id


async def test_candidates_with_the_same_email_or_phone_join_the_oldest_profile(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with (
        pipeline() as source,
        tcp_proxy("127.0.0.1", int(source.url.rsplit(":", 1)[1])) as proxy,
    ):
        await proxy.down()
        async with pool(f"http://127.0.0.1:{proxy.port}") as service:
            known = await source.apply(email="li.lei@example.com", phone="13912345678")
            await wait_for(lambda: _profile(service, known), what="the first profile")
            same_email = await _legacy_candidate(db, email="LI.LEI@Example.COM", phone=None)
            same_phone = await _legacy_candidate(
                db, email="lilei.work@example.com", phone="139-1234-5678"
            )
            stranger = await _legacy_candidate(db, email="han@example.com", phone="13700000000")
            await deliver_all(
                amqp,
                *(
                    AnApplication(candidate_id=c).applied()
                    for c in (same_email, same_phone, stranger)
                ),
            )

            unread = await _profile(service, same_email)
            assert unread is not None and unread["contacts_checked_at"] is None
            matcher = next(w for w in service.runtime.workers if w.name == "matcher")
            await wait_for(
                lambda: _backing_off(matcher), what="the matcher to find the pipeline down"
            )
            ready = await service.client.get("/readyz")
            assert ready.status_code == 200, ready.text

            await proxy.up()
            oldest = await _read(service, known)

            async def both_merged() -> bool:
                return all(
                    [await _merged(service, c, oldest["id"]) for c in (same_email, same_phone)]
                )

            await wait_for(both_merged, timeout=30, what="the merges")
            apart = await _read(service, stranger)
            merges = await service.client.get(
                f"/v1/profiles/{oldest['id']}/merges", headers=AS_ADMIN
            )
            merged = await _profile(service, known)

    assert apart["id"] != oldest["id"]
    assert merged is not None
    assert set(merged["candidate_ids"]) == {str(known), str(same_email), str(same_phone)}
    found = {
        (m["candidate_ids"][0], m["matched_by"], m["merged_by"]) for m in merges.json()["items"]
    }
    assert found == {(str(same_email), "email", None), (str(same_phone), "phone", None)}


async def _backing_off(matcher: object) -> bool:
    return cast(float, getattr(matcher, "backoff_s", 0.0)) > 0


async def _merged(service: Running, candidate_id: uuid.UUID, into: str) -> bool:
    profile = await _profile(service, candidate_id)
    return profile is not None and profile["id"] == into


# -- which profile a match goes to (plain function) --------------------------------------------


def _profile_like(created: int, email: bytes | None, phone: bytes | None) -> Profile:
    return cast(
        Profile,
        SimpleNamespace(
            id=uuid.uuid4(),
            created_at=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=created),
            email_index=email,
            phone_index=phone,
        ),
    )


def test_a_match_by_email_wins_over_one_by_phone_and_the_oldest_profile_over_newer_ones() -> None:
    fresh = _profile_like(10, b"e", b"p")
    by_phone = _profile_like(0, b"x", b"p")
    by_email_new, by_email_old = _profile_like(5, b"e", None), _profile_like(1, b"e", b"y")

    match = best_match(fresh, [fresh, by_phone, by_email_new, by_email_old])

    assert match == (by_email_old, "email")


def test_a_phone_match_counts_when_no_email_matches_and_nothing_matches_nothing() -> None:
    fresh = _profile_like(10, b"e", b"p")
    by_phone = _profile_like(3, None, b"p")

    assert best_match(fresh, [fresh, by_phone]) == (by_phone, "phone")
    assert best_match(fresh, [fresh, _profile_like(1, b"z", b"q")]) is None
    assert best_match(_profile_like(2, None, None), [by_phone]) is None


async def _correct(source: Pipeline, candidate_id: uuid.UUID, body: dict[str, Any]) -> None:
    """Staff correct the candidate through one of their applications in the pipeline."""
    listed = await source.client.get(
        "/v1/applications", params={"candidate_id": str(candidate_id)}, headers=auth("admin", "a")
    )
    application_id = listed.json()["items"][0]["id"]
    response = await source.client.patch(
        f"/v1/applications/{application_id}/candidate", json=body, headers=auth("admin", "a")
    )
    assert response.status_code == 200, response.text


async def test_a_contact_corrected_in_the_pipeline_is_read_again(
    amqp: AbstractRobustConnection,
) -> None:
    async with pipeline() as source, pool(source.url) as service:
        candidate_id = await source.apply(email="han.meimei@exmaple.com", phone="13812345678")
        before = await _read(service, candidate_id)

        await _correct(source, candidate_id, {"email": "han.meimei@example.com", "phone": None})

        async def corrected() -> dict[str, Any] | None:
            found = await _profile(service, candidate_id)
            return found if found and found["email"] == "han.meimei@example.com" else None

        after = await wait_for(corrected, timeout=30, what="the contact read again")
        by_email = await service.client.get(
            "/v1/profiles", params={"email": "han.meimei@example.com"}, headers=AS_ADMIN
        )
        by_old = await service.client.get(
            "/v1/profiles", params={"email": "han.meimei@exmaple.com"}, headers=AS_ADMIN
        )

    assert after["id"] == before["id"]
    assert after["phone"] is None
    assert [p["id"] for p in by_email.json()["items"]] == [before["id"]]
    assert by_old.json()["items"] == []


async def test_profiles_hr_unmerged_are_not_merged_again_when_read_again(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    """Two candidates with one email (imported before the pipeline normalized it) were merged by
    the matcher and told apart by HR; a later correction of one makes the pool read it again,
    and the same email must not merge them a second time."""
    async with pipeline() as source, pool(source.url) as service:
        known = await source.apply(email="wang.fang@example.com", name="王芳")
        one = await _read(service, known)
        legacy = await _legacy_candidate(db, email="WANG.FANG@Example.com", phone=None)
        await deliver_all(amqp, AnApplication(candidate_id=legacy).applied())
        await wait_for(lambda: _merged(service, legacy, one["id"]), timeout=30, what="the merge")
        [merge] = (
            await service.client.get(f"/v1/profiles/{one['id']}/merges", headers=AS_ADMIN)
        ).json()["items"]
        undone = await service.client.post(
            f"/v1/profiles/{one['id']}/unmerge", json={"merge_id": merge["id"]}, headers=AS_ADMIN
        )
        assert undone.status_code == 200, undone.text

        await deliver_all(
            amqp,
            event(
                CandidateChangedV1(
                    candidate_id=legacy,
                    changed=["full_name"],
                    actor=Actor(kind="hr", id="hr-alice"),
                    occurred_at=datetime.now(UTC),
                ),
                subject=legacy,
            ),
        )
        apart = await _read(service, legacy)
        await asyncio.sleep(0.5)  # a few matcher rounds
        again = await _profile(service, legacy)

    assert apart["id"] == merge["from_profile_id"]
    assert again is not None and again["id"] == apart["id"] and again["merged_into"] is None
