"""Consent per purpose: recorded by HR with its source and expiry, in force until it expires
or is withdrawn, with its history; only for people the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.clock import ManualClock
from talentpool.app import spec as talentpool_spec
from tests.support.problems import assert_problem
from tests.support.running import Running, running
from tests.talentpool.erasure_support import (
    ADMIN,
    INTERVIEWER,
    JOB_OWNER,
    SEARCHER,
    STRANGER,
    Person,
    erase,
    in_pool,
)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def pool(clock: ManualClock) -> AsyncIterator[Running]:
    """The talent pool consuming from its queue (people come from events), without matching."""
    async with running(talentpool_spec, clock=clock, run_workers=False) as service:
        yield service


@pytest.fixture
async def person(pool: Running, amqp: AbstractRobustConnection) -> Person:
    someone = Person()
    await someone.applies(amqp, at=START - timedelta(days=1))
    await in_pool(pool, someone)
    return someone


def _consent_url(person: Person, purpose: str = "talent_pool") -> str:
    return f"/v1/profiles/{person.profile_id}/consents/{purpose}"


async def test_a_recorded_consent_is_in_force_and_listed_per_purpose(
    pool: Running, person: Person
) -> None:
    expires = START + timedelta(days=365)

    granted = await pool.client.put(
        _consent_url(person),
        json={"granted": True, "source": "phone_call", "expires_at": expires.isoformat()},
        headers=JOB_OWNER,
    )
    refused = await pool.client.put(
        _consent_url(person, "re_engagement"),
        json={"granted": False, "source": "email"},
        headers=ADMIN,
    )
    listed = await pool.client.get(f"/v1/profiles/{person.profile_id}/consents", headers=ADMIN)

    assert granted.status_code == 201, granted.text
    assert granted.json() == {
        "profile_id": str(person.profile_id),
        "purpose": "talent_pool",
        "granted": True,
        "in_force": True,
        "source": "phone_call",
        "recorded_by": "hr-alice",
        "recorded_at": "2026-03-02T01:00:00Z",
        "expires_at": "2027-03-02T01:00:00Z",
    }
    assert refused.status_code == 201, refused.text
    assert listed.status_code == 200, listed.text
    assert [(c["purpose"], c["granted"], c["in_force"]) for c in listed.json()["items"]] == [
        ("re_engagement", False, False),
        ("talent_pool", True, True),
    ]


async def test_a_consent_is_no_longer_in_force_once_it_expires(
    pool: Running, person: Person, clock: ManualClock
) -> None:
    expires = START + timedelta(days=30)
    await pool.client.put(
        _consent_url(person),
        json={"granted": True, "source": "portal", "expires_at": expires.isoformat()},
        headers=ADMIN,
    )

    clock.advance(timedelta(days=31))
    listed = await pool.client.get(f"/v1/profiles/{person.profile_id}/consents", headers=ADMIN)

    [consent] = listed.json()["items"]
    assert (consent["granted"], consent["in_force"]) == (True, False)


async def test_withdrawing_a_consent_replaces_it_and_the_history_keeps_both_answers(
    pool: Running, person: Person, clock: ManualClock
) -> None:
    first = await pool.client.put(
        _consent_url(person), json={"granted": True, "source": "application_form"}, headers=ADMIN
    )
    clock.advance(timedelta(days=2))

    withdrawn = await pool.client.put(
        _consent_url(person), json={"granted": False, "source": "email"}, headers=JOB_OWNER
    )
    history = await pool.client.get(
        f"/v1/profiles/{person.profile_id}/consents/history", headers=ADMIN
    )

    assert first.status_code == 201
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["granted"], withdrawn.json()["in_force"]) == (False, False)
    assert history.status_code == 200, history.text
    assert [
        (c["granted"], c["source"], c["recorded_by"], c["recorded_at"])
        for c in history.json()["items"]
    ] == [
        (True, "application_form", "admin-zoe", "2026-03-02T01:00:00Z"),
        (False, "email", "hr-alice", "2026-03-04T01:00:00Z"),
    ]


async def test_an_unknown_purpose_is_refused_naming_it(pool: Running, person: Person) -> None:
    response = await pool.client.put(
        _consent_url(person, "marketing"),
        json={"granted": True, "source": "email"},
        headers=ADMIN,
    )

    assert_problem(response, 422)
    assert [e["field"] for e in response.json()["errors"]] == ["purpose"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"granted": True, "source": "carrier_pigeon"}, "source"),
        ({"granted": "perhaps", "source": "email"}, "granted"),
        ({"source": "email"}, "granted"),
        ({"granted": True, "source": "email", "expires_at": "2026-03-01T00:00:00Z"}, "expires_at"),
        ({"granted": False, "source": "email", "expires_at": "2027-03-01T00:00:00Z"}, "expires_at"),
        ({"granted": True, "source": "email", "expires_at": "2027-03-01T00:00:00"}, "expires_at"),
        ({"granted": True, "source": "email", "note": "x"}, "note"),
    ],
)
async def test_a_bad_consent_is_refused_naming_the_field(
    pool: Running, person: Person, body: dict[str, object], field: str
) -> None:
    response = await pool.client.put(_consent_url(person), json=body, headers=ADMIN)

    assert_problem(response, 422)
    assert field in [e["field"] for e in response.json()["errors"]]
    listed = await pool.client.get(f"/v1/profiles/{person.profile_id}/consents", headers=ADMIN)
    assert listed.json()["items"] == []


async def test_who_may_not_see_or_record_consents(pool: Running, person: Person) -> None:
    body = {"granted": True, "source": "email"}
    consents = f"/v1/profiles/{person.profile_id}/consents"

    assert_problem(await pool.client.put(_consent_url(person), json=body), 401)
    assert_problem(await pool.client.get(consents), 401)
    assert_problem(await pool.client.put(_consent_url(person), json=body, headers=INTERVIEWER), 403)
    assert_problem(await pool.client.get(consents, headers=INTERVIEWER), 403)
    # HR without the talent-pool scope see only people who applied to jobs they own.
    assert_problem(await pool.client.put(_consent_url(person), json=body, headers=STRANGER), 404)
    assert_problem(await pool.client.get(consents, headers=STRANGER), 404)
    assert_problem(await pool.client.get(f"{consents}/history", headers=STRANGER), 404)
    assert (await pool.client.get(consents, headers=JOB_OWNER)).status_code == 200
    searched = await pool.client.put(_consent_url(person), json=body, headers=SEARCHER)
    assert searched.status_code == 201, searched.text


async def test_consent_of_someone_unknown_is_404(pool: Running) -> None:
    response = await pool.client.put(
        f"/v1/profiles/{uuid.uuid4()}/consents/talent_pool",
        json={"granted": True, "source": "email"},
        headers=ADMIN,
    )

    assert_problem(response, 404)


async def test_an_erased_person_can_no_longer_give_consent(pool: Running, person: Person) -> None:
    erased = await erase(pool, {"profile_id": str(person.profile_id)})
    assert erased.status_code == 202, erased.text

    response = await pool.client.put(
        _consent_url(person), json={"granted": True, "source": "email"}, headers=ADMIN
    )

    assert_problem(response, 409)
