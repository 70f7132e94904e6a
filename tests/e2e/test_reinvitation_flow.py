"""Re-inviting a past candidate, with the four services running as real processes: the talent
pool learns the person and the jobs from the pipeline's events, HR re-invites them to an urgent
opening from its recommendations, and the re-invitation crosses the broker to the pipeline
(a new application, source ``talentpool``) and from there to the scheduler (its AI-interview
invitation); the pool records what came of it from those services' events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Suite
from tests.e2e.flow import HR, apply_to, body_when, create_job
from tests.support.running import wait_for
from tests.support.tokens import auth

pytestmark = pytest.mark.e2e

# The same HR user, allowed to search the whole pool.
SEARCHER = auth("hr", "hr-e2e", scopes=("talentpool:search",))


async def test_a_past_candidate_reinvited_from_the_pool_gets_a_new_application_and_invitation(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pipeline, talentpool = ready_suite.url("pipeline"), ready_suite.url("talentpool")
    scheduler = ready_suite.url("scheduler")
    earlier = await create_job(http, pipeline)
    past = await apply_to(http, pipeline, earlier, full_name="Reinvited Candidate")
    urgent = await create_job(http, pipeline, title="Urgent backend engineer")

    # The pool knows the urgent job (job_changed) and the person (application_created): the
    # person is recommended for it. (A new person's profile id is their candidate id. Others may
    # be recommended too: events of earlier tests of the suite can still arrive after their
    # data was cleaned up.)
    profile_id = past["candidate_id"]
    await wait_for(
        lambda: body_when(
            http,
            f"{talentpool}/v1/jobs/{urgent['id']}/recommendations?limit=100",
            lambda body: any(item["profile_id"] == profile_id for item in body["items"]),
            headers=SEARCHER,
        ),
        timeout=30,
        what="the past candidate recommended for the urgent job",
    )
    consent = await http.put(
        f"{talentpool}/v1/profiles/{profile_id}/consents/re_engagement",
        json={"granted": True, "source": "email"},
        headers=HR,
    )
    assert consent.status_code in (200, 201), consent.text

    response = await http.post(
        f"{talentpool}/v1/jobs/{urgent['id']}/reinvitations",
        json={"profile_ids": [profile_id], "origin": "recommendation"},
        headers=SEARCHER,
    )
    assert response.status_code == 202, response.text
    [reinvitation] = response.json()["reinvitations"]
    assert reinvitation["candidate_id"] == past["candidate_id"]

    # The pipeline creates the application for the known candidate...
    applications = await wait_for(
        lambda: body_when(
            http,
            f"{pipeline}/v1/applications?job_id={urgent['id']}",
            lambda body: len(body["items"]) == 1,
        ),
        timeout=30,
        what="the new application in the pipeline",
    )
    [application] = applications["items"]
    assert application["candidate_id"] == past["candidate_id"]
    assert application["stage_key"] == urgent["stages"][0]["key"]
    assert application["id"] != past["id"]

    # ... whose AI-interview stage gets its invitation in the scheduler ...
    def invited(body: dict[str, Any]) -> bool:
        return any(item["application_id"] == application["id"] for item in body["items"])

    await wait_for(
        lambda: body_when(
            http, f"{scheduler}/v1/invitations?kind=ai_interview&limit=200", invited, headers=HR
        ),
        timeout=30,
        what="the AI-interview invitation in the scheduler",
    )

    # ... and the pool records that they applied and were invited.
    def answered(body: dict[str, Any]) -> bool:
        [item] = body["items"]
        return item["applied_at"] is not None and item["invited_at"] is not None

    outcome = await wait_for(
        lambda: body_when(
            http, f"{talentpool}/v1/jobs/{urgent['id']}/reinvitations", answered, headers=HR
        ),
        timeout=30,
        what="applied and invited recorded in the pool",
    )
    assert outcome["items"][0]["id"] == reinvitation["id"]
