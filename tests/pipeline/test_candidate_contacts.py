"""The contact lookup the notifier uses: only a service token with the contact scope."""

from __future__ import annotations

import uuid
from typing import Any

from tests.pipeline.factories import create_job
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

LOOKUP = "/v1/candidate-contacts/lookup"
NOTIFIER = auth("service", "notifier", scopes=("candidates:contact",))


async def _apply(pipeline: Running, job_id: str, email: str, phone: str | None) -> str:
    candidate: dict[str, Any] = {"full_name": "Han Meimei", "email": email, "locale": "en"}
    if phone:
        candidate["phone"] = phone
    response = await pipeline.client.post(
        f"/v1/jobs/{job_id}/applications", json={"candidate": candidate}, headers=auth()
    )
    assert response.status_code == 201, response.text
    candidate_id: str = response.json()["candidate_id"]
    return candidate_id


async def test_a_service_with_the_scope_gets_decrypted_contacts(pipeline: Running) -> None:
    job = await create_job(pipeline.client)
    first = await _apply(pipeline, job["id"], "han@example.com", "13812345678")
    second = await _apply(pipeline, job["id"], "li@example.com", None)

    response = await pipeline.client.post(
        LOOKUP, json={"candidate_ids": [first, second, str(uuid.uuid4())]}, headers=NOTIFIER
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    items = {item["id"]: item for item in response.json()["items"]}
    assert items == {
        first: {
            "id": first,
            "full_name": "Han Meimei",
            "email": "han@example.com",
            "phone": "+8613812345678",
            "locale": "en",
        },
        second: {
            "id": second,
            "full_name": "Han Meimei",
            "email": "li@example.com",
            "phone": None,
            "locale": "en",
        },
    }


async def test_people_and_services_without_the_scope_may_not_look_up(
    pipeline: Running,
) -> None:
    body = {"candidate_ids": [str(uuid.uuid4())]}
    client = pipeline.client
    assert_problem(await client.post(LOOKUP, json=body), 401)
    for headers in (
        auth("hr"),
        auth("admin", "root"),
        auth("hr", scopes=("candidates:contact",)),
        auth("service", "scheduler"),
    ):
        assert_problem(await client.post(LOOKUP, json=body, headers=headers), 403)


async def test_a_malformed_lookup_is_refused(pipeline: Running) -> None:
    client = pipeline.client
    bodies: list[dict[str, Any]] = [
        {"candidate_ids": []},
        {"candidate_ids": ["not-a-uuid"]},
        {"candidate_ids": [str(uuid.uuid4())] * 501},
        {"ids": [str(uuid.uuid4())]},
    ]
    for body in bodies:
        assert_problem(await client.post(LOOKUP, json=body, headers=NOTIFIER), 422)
