"""A person's timeline over HTTP, built from events through the broker: every application of
theirs, ordered by when things happened (not when they arrived), filtered and paged; an event
delivered twice is on it once; a candidate id finds it too. Who may read a profile's timeline:
tests/talentpool/test_profiles_access.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from tests.pipeline.stage_changed_events import deliver
from tests.support.running import Running, wait_for
from tests.talentpool.profiles_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_OWNER,
    AS_SERVICE,
    OFFER,
    ROUND_1,
    T0,
    AnApplication,
    a_person,
    consumed,
    deliver_all,
    job_changed,
    profile_of,
    timeline_of,
)

DAY = timedelta(days=1)


async def test_the_timeline_spans_a_persons_applications_newest_first_page_by_page(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    backend = AnApplication()
    frontend = backend.other()
    stranger = AnApplication()
    events = [
        backend.moved(sequence=2, to_stage=ROUND_1, at=T0),
        frontend.moved(sequence=2, to_stage=ROUND_1, at=T0 + DAY),
        backend.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER, at=T0 + 2 * DAY),
        frontend.invitation_sent(at=T0 + 3 * DAY),
        stranger.moved(sequence=2, at=T0 + 4 * DAY),
    ]

    # Delivered out of order: the timeline is ordered by when things happened.
    await deliver_all(amqp, *(events[i] for i in (3, 0, 4, 2, 1)))
    profile = await profile_of(talentpool, backend.candidate_id)

    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await talentpool.client.get(
            f"/v1/profiles/{profile['id']}/timeline", params=params, headers=AS_ADMIN
        )
        assert response.status_code == 200
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 1]
    listed = [(e["application_id"], e["kind"], e["source"]) for page in pages for e in page]
    assert listed == [
        (str(frontend.id), "invited", "scheduler"),
        (str(backend.id), "stage_changed", "pipeline"),
        (str(frontend.id), "stage_changed", "pipeline"),
        (str(backend.id), "stage_changed", "pipeline"),
    ]
    assert {e["candidate_id"] for page in pages for e in page} == {str(backend.candidate_id)}


async def test_the_timeline_is_filtered_by_kind_and_by_application(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    first = AnApplication()
    second = first.other()
    await deliver_all(
        amqp,
        first.applied(at=T0),
        first.ai("invited", at=T0 + DAY),
        first.ai("opened", at=T0 + 2 * DAY),
        second.applied(at=T0 + 3 * DAY),
        second.invitation_sent(at=T0 + 4 * DAY),
    )
    profile = await profile_of(talentpool, first.candidate_id)

    invited = await timeline_of(talentpool, profile["id"], kind="invited")
    two_kinds = await talentpool.client.get(
        f"/v1/profiles/{profile['id']}/timeline",
        params=[("kind", "applied"), ("kind", "opened")],
        headers=AS_ADMIN,
    )
    of_second = await timeline_of(talentpool, profile["id"], application_id=str(second.id))

    assert [(e["application_id"], e["source"]) for e in invited] == [
        (str(second.id), "scheduler"),
        (str(first.id), "pipeline"),
    ]
    assert [e["kind"] for e in two_kinds.json()["items"]] == ["applied", "opened", "applied"]
    assert [e["kind"] for e in of_second] == ["invited", "applied"]


async def test_an_event_delivered_twice_is_on_the_timeline_once(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    event = application.moved(sequence=2)
    before = consumed(event.type)

    await asyncio.gather(deliver(amqp, event), deliver(amqp, event))

    async def both_taken() -> bool:
        return consumed(event.type) >= before + 2

    await wait_for(both_taken, what="both copies to be acknowledged")
    profile = await profile_of(talentpool, application.candidate_id)
    assert len(await timeline_of(talentpool, profile["id"])) == 1


async def test_an_unknown_profile_has_no_timeline(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(
        f"/v1/profiles/{uuid.uuid4()}/timeline", headers=AS_ADMIN
    )

    assert response.status_code == 404
    assert response.json()["type"] == "urn:recruiting:problem:not-found"


@pytest.mark.parametrize(
    ("path", "params", "location", "field"),
    [
        ("/v1/profiles/{id}/timeline", {"limit": "0"}, "query", "limit"),
        ("/v1/profiles/{id}/timeline", {"limit": "500"}, "query", "limit"),
        ("/v1/profiles/{id}/timeline", {"kind": "teleported"}, "query", "kind.0"),
        ("/v1/profiles/{id}/timeline", {"application_id": "nope"}, "query", "application_id"),
        ("/v1/profiles/not-a-uuid/timeline", {}, "path", "profile_id"),
    ],
)
async def test_a_bad_timeline_request_is_refused_naming_the_parameter(
    talentpool_http: Running,
    db: asyncpg.Connection,
    path: str,
    params: dict[str, str],
    location: str,
    field: str,
) -> None:
    person = await a_person(db)

    response = await talentpool_http.client.get(
        path.format(id=person.profile_id), params=params, headers=AS_ADMIN
    )

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [(location, field)]


async def test_a_candidates_timeline_is_the_timeline_of_the_person_they_are(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    first = AnApplication()
    second = first.other()
    await deliver_all(
        amqp,
        job_changed(first.job_id),
        first.applied(at=T0),
        second.moved(sequence=2, at=T0 + DAY),
    )
    profile = await profile_of(talentpool, first.candidate_id)

    by_candidate = await talentpool.client.get(
        f"/v1/candidates/{first.candidate_id}/timeline",
        params={"kind": "stage_changed"},
        headers=AS_OWNER,
    )

    assert by_candidate.status_code == 200
    assert by_candidate.json()["items"] == await timeline_of(
        talentpool, profile["id"], kind="stage_changed"
    )
    assert [e["kind"] for e in by_candidate.json()["items"]] == ["stage_changed"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403), (AS_OTHER_HR, 404), (AS_OWNER, 200)],
    ids=["no token", "interviewer", "another service", "hr owning no job of theirs", "owner"],
)
async def test_who_may_read_a_candidates_timeline(
    talentpool_http: Running, db: asyncpg.Connection, headers: dict[str, str], status: int
) -> None:
    person = await a_person(db)

    response = await talentpool_http.client.get(
        f"/v1/candidates/{person.candidate_id}/timeline", headers=headers
    )

    assert response.status_code == status


async def test_an_unknown_candidate_has_no_timeline(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(
        f"/v1/candidates/{uuid.uuid4()}/timeline", headers=AS_ADMIN
    )

    assert response.status_code == 404
