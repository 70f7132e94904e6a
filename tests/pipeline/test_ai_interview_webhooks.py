"""The vendor webhook: Standard Webhooks signatures, deduplication, our body contract, unknown
applications kept for reconciliation, the state work done after commit by a timer (retried
without a double effect), out-of-order deliveries, and the staff read."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from pipeline.ai_interviews import service as ai_service
from pipeline.ai_interviews.service import DELIVERY_TIMER
from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.ai_interviews_support import (
    MANUAL_TIMERS,
    VENDOR,
    WEBHOOKS,
    arrange_application,
    delivery,
    new_secret,
    outbox,
    post_and_process,
    post_delivery,
    process_deliveries,
    signed_headers,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

OLD_SECRET = new_secret()
NEW_SECRET = new_secret()
OTHER_VENDOR_SECRET = new_secret()
T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
async def vendor_api() -> AsyncIterator[Running]:
    """The pipeline's HTTP side, with ``acme`` mid-rotation (two secrets) and one more vendor."""
    async with api(
        pipeline_spec,
        vendor_secrets={VENDOR: [OLD_SECRET, NEW_SECRET], "globex": [OTHER_VENDOR_SECRET]},
        **MANUAL_TIMERS,
    ) as service:
        yield service


async def _stored(db: asyncpg.Connection) -> dict[str, int]:
    counts = {}
    for table in ("webhook_receipts", "timers", "ai_interviews", "unmatched_deliveries", "outbox"):
        counts[table] = await db.fetchval(f"SELECT count(*) FROM pipeline.{table}")  # noqa: S608
    return counts


NOTHING = {
    "webhook_receipts": 0,
    "timers": 0,
    "ai_interviews": 0,
    "unmatched_deliveries": 0,
    "outbox": 0,
}


async def _interview(db: asyncpg.Connection, application_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT * FROM pipeline.ai_interviews WHERE application_id = $1", application_id
    )
    assert row is not None
    return row


async def _delivery_timer(db: asyncpg.Connection, webhook_id: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT * FROM pipeline.timers WHERE kind = $1 AND key = $2",
        DELIVERY_TIMER,
        f"{VENDOR}:{webhook_id}",
    )
    assert row is not None
    return row


# --- signatures -------------------------------------------------------------------------


async def test_a_signed_delivery_is_recorded_and_emits_its_event(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await post_and_process(
        vendor_api, NEW_SECRET, delivery("invited", arranged.application_id), webhook_id="msg_1"
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"webhook_id": "msg_1", "duplicate": False}
    row = await _interview(db, arranged.application_id)
    interview_id = str(row["id"])
    assert row["vendor"] == VENDOR
    assert row["external_id"] == "iv_1"
    assert row["status"] == "invited"
    assert row["invited_at"] == T0
    events = await outbox(db)
    assert [e["event_type"] for e in events] == ["pipeline.ai_interview_invited.v1"]
    assert events[0]["data"]["application_id"] == str(arranged.application_id)
    assert events[0]["data"]["job_id"] == str(arranged.job_id)
    assert events[0]["data"]["candidate_id"] == str(arranged.candidate_id)
    assert events[0]["data"]["interview_id"] == interview_id
    assert events[0]["subject"] == interview_id
    assert events[0]["sequence"] == 1


async def test_the_interview_changes_only_once_the_accepted_delivery_is_processed(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("completed", arranged.application_id)

    response = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_later")

    assert response.status_code == 202, response.text
    assert await _stored(db) == {**NOTHING, "webhook_receipts": 1, "timers": 1}
    timer = await _delivery_timer(db, "msg_later")
    assert timer["state"] == "pending"
    assert json.loads(timer["payload"]) == {
        "vendor": VENDOR,
        "webhook_id": "msg_later",
        "delivery": body,
    }

    assert await process_deliveries(vendor_api) == 1

    assert (await _interview(db, arranged.application_id))["status"] == "completed"
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_completed.v1"]
    assert (await _delivery_timer(db, "msg_later"))["state"] == "done"
    assert await process_deliveries(vendor_api) == 0


async def test_a_replay_arriving_before_processing_is_a_duplicate_applied_once(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("started", arranged.application_id)

    first = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_twice")
    again = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_twice")
    fired = await process_deliveries(vendor_api)

    assert first.status_code == 202, first.text
    assert again.status_code == 200, again.text
    assert again.json() == {"webhook_id": "msg_twice", "duplicate": True}
    assert fired == 1
    assert await _stored(db) == {
        **NOTHING,
        "webhook_receipts": 1,
        "timers": 1,
        "ai_interviews": 1,
        "outbox": 1,
    }
    assert (await _interview(db, arranged.application_id))["version"] == 1


async def test_a_failing_processing_is_retried_later_without_a_double_effect(
    db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    arranged = await arrange_application(db)
    clock = ManualClock(datetime.now(UTC))
    real_event = ai_service._event
    calls = []

    def fails_first_time(*args: Any, **kwargs: Any) -> Any:
        # Fails after the interview row was created and updated, before the event is written.
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError("the outbox is having a bad day")
        return real_event(*args, **kwargs)

    monkeypatch.setattr(ai_service, "_event", fails_first_time)
    async with api(
        pipeline_spec, clock=clock, vendor_secrets={VENDOR: [NEW_SECRET]}, **MANUAL_TIMERS
    ) as service:
        response = await post_delivery(
            service.client,
            NEW_SECRET,
            delivery("invited", arranged.application_id),
            webhook_id="msg_flaky",
        )
        assert response.status_code == 202, response.text

        await process_deliveries(service)
        failed = await _delivery_timer(db, "msg_flaky")
        counts_after_failure = await _stored(db)

        assert await process_deliveries(service) == 0  # not before its backoff
        clock.advance(timedelta(seconds=6))
        assert await process_deliveries(service) == 1
        clock.advance(timedelta(hours=2))
        assert await process_deliveries(service) == 0

    assert (failed["state"], failed["attempts"]) == ("pending", 1)
    assert "bad day" in failed["last_error"]
    assert counts_after_failure == {**NOTHING, "webhook_receipts": 1, "timers": 1}
    assert calls == ["invited", "invited"]
    row = await _interview(db, arranged.application_id)
    assert (row["status"], row["version"]) == ("invited", 1)
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_invited.v1"]
    assert (await _delivery_timer(db, "msg_flaky"))["state"] == "done"


async def test_a_replayed_webhook_id_answers_2xx_with_no_second_effect(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("completed", arranged.application_id)

    first = await post_and_process(vendor_api, NEW_SECRET, body, webhook_id="msg_same")
    again = await post_and_process(vendor_api, NEW_SECRET, body, webhook_id="msg_same")

    assert first.status_code == 202
    assert again.status_code == 200, again.text
    assert again.json() == {"webhook_id": "msg_same", "duplicate": True}
    assert await _stored(db) == {
        "webhook_receipts": 1,
        "timers": 1,
        "ai_interviews": 1,
        "unmatched_deliveries": 0,
        "outbox": 1,
    }
    assert (await _interview(db, arranged.application_id))["version"] == 1


async def test_the_same_status_under_another_webhook_id_emits_nothing_more(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("started", arranged.application_id)

    await post_and_process(vendor_api, NEW_SECRET, body)
    later = await post_and_process(
        vendor_api, NEW_SECRET, {**body, "occurred_at": (T0 + timedelta(1)).isoformat()}
    )

    assert later.status_code == 202
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_started.v1"]
    row = await _interview(db, arranged.application_id)
    assert row["started_at"] == T0  # the earliest report of a status counts


async def test_both_secrets_are_accepted_while_one_is_rotated(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    old = await post_and_process(
        vendor_api, OLD_SECRET, delivery("invited", arranged.application_id)
    )
    new = await post_and_process(
        vendor_api, NEW_SECRET, delivery("opened", arranged.application_id)
    )

    assert old.status_code == 202, old.text
    assert new.status_code == 202, new.text
    assert (await _interview(db, arranged.application_id))["status"] == "opened"


async def test_a_signature_carrying_both_secrets_signatures_is_accepted(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    raw = json.dumps(delivery("invited", arranged.application_id)).encode()
    headers = signed_headers(NEW_SECRET, raw, webhook_id="msg_both")
    old = signed_headers(OLD_SECRET, raw, webhook_id="msg_both")
    headers["webhook-signature"] = f"{old['webhook-signature']} {headers['webhook-signature']}"

    response = await vendor_api.client.post(f"{WEBHOOKS}/{VENDOR}", content=raw, headers=headers)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h: h.update({"webhook-signature": "v1,AAAA"}), id="wrong-signature"),
        pytest.param(lambda h: h.pop("webhook-signature"), id="missing-signature"),
        pytest.param(lambda h: h.pop("webhook-id"), id="missing-id"),
        pytest.param(lambda h: h.update({"webhook-id": "msg_other"}), id="id-not-signed"),
        pytest.param(lambda h: h.pop("webhook-timestamp"), id="missing-timestamp"),
        pytest.param(lambda h: h.update({"webhook-timestamp": "soon"}), id="bad-timestamp"),
    ],
)
async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    vendor_api: Running, db: asyncpg.Connection, tamper: Any
) -> None:
    arranged = await arrange_application(db)
    raw = json.dumps(delivery("invited", arranged.application_id)).encode()
    headers = signed_headers(NEW_SECRET, raw)
    tamper(headers)

    response = await vendor_api.client.post(f"{WEBHOOKS}/{VENDOR}", content=raw, headers=headers)

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


async def test_a_body_changed_after_signing_is_refused(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    raw = json.dumps(delivery("completed", arranged.application_id)).encode()
    headers = signed_headers(NEW_SECRET, raw)
    forged = raw.replace(b'"score": 80', b'"score": 99')

    response = await vendor_api.client.post(f"{WEBHOOKS}/{VENDOR}", content=forged, headers=headers)

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


async def test_another_vendors_secret_does_not_sign_for_this_vendor(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await post_delivery(
        vendor_api.client, OTHER_VENDOR_SECRET, delivery("invited", arranged.application_id)
    )

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
async def test_a_timestamp_more_than_five_minutes_off_is_refused(
    vendor_api: Running, db: asyncpg.Connection, offset: timedelta
) -> None:
    arranged = await arrange_application(db)

    response = await post_delivery(
        vendor_api.client,
        NEW_SECRET,
        delivery("invited", arranged.application_id),
        at=datetime.now(UTC) + offset,
    )

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


async def test_a_timestamp_within_five_minutes_is_accepted(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await post_delivery(
        vendor_api.client,
        NEW_SECRET,
        delivery("invited", arranged.application_id),
        at=datetime.now(UTC) - timedelta(minutes=4),
    )

    assert response.status_code == 202, response.text


async def test_an_unknown_vendor_is_not_found_and_nothing_is_stored(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await post_delivery(
        vendor_api.client,
        NEW_SECRET,
        delivery("invited", arranged.application_id),
        vendor="initech",
    )

    assert_problem(response, 404, "unknown-sender")
    assert await _stored(db) == NOTHING


async def test_without_configured_secrets_no_vendor_is_known(db: asyncpg.Connection) -> None:
    arranged = await arrange_application(db)
    async with api(pipeline_spec) as pipeline:
        response = await post_delivery(
            pipeline.client, NEW_SECRET, delivery("invited", arranged.application_id)
        )

    assert_problem(response, 404, "unknown-sender")
    assert await _stored(db) == NOTHING


async def test_a_bearer_token_is_no_substitute_for_a_signature(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await vendor_api.client.post(
        f"{WEBHOOKS}/{VENDOR}",
        json=delivery("invited", arranged.application_id),
        headers=auth("admin", "admin-1"),
    )

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


async def test_an_unsigned_delivery_is_refused_before_its_body_is_judged(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    response = await vendor_api.client.post(
        f"{WEBHOOKS}/{VENDOR}", json={"type": "finished", "application_id": "A-17"}
    )

    assert_problem(response, 401, "invalid-signature")
    assert await _stored(db) == NOTHING


# --- the body contract ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"type": "finished"}, "type", id="unknown-type"),
        pytest.param({"application_id": "A-17"}, "application_id", id="not-our-id"),
        pytest.param({"occurred_at": "2025-03-03T10:00:00"}, "occurred_at", id="naive-time"),
        pytest.param({"interview_id": ""}, "interview_id", id="empty-interview-id"),
        pytest.param({"type": "completed", "score": None}, "score", id="completed-no-score"),
        pytest.param({"type": "completed", "score": 101}, "score", id="score-over-100"),
        pytest.param({"score": 50}, "score", id="score-on-started"),
        pytest.param(
            {"type": "report_ready", "report_url": "http://vendor.example.com/r"},
            "report_url",
            id="report-not-https",
        ),
        pytest.param(
            {"type": "report_ready", "dimension_scores": {"communication": -1}},
            "dimension_scores.communication",
            id="dimension-below-0",
        ),
        pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
    ],
)
async def test_a_bad_body_is_a_422_naming_the_field_and_nothing_is_stored(
    vendor_api: Running, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    arranged = await arrange_application(db)
    body = {**delivery(change.get("type", "started"), arranged.application_id), **change}
    body = {key: value for key, value in body.items() if value is not None}

    response = await post_delivery(vendor_api.client, NEW_SECRET, body)

    problem = assert_problem(response, 422, "validation-error")
    assert field in [error["field"] for error in problem["errors"]], problem
    assert await _stored(db) == NOTHING


async def test_a_report_ready_without_its_report_is_a_422(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("report_ready", arranged.application_id)
    del body["report_url"], body["dimension_scores"]

    response = await post_delivery(vendor_api.client, NEW_SECRET, body)

    problem = assert_problem(response, 422, "validation-error")
    assert {e["field"] for e in problem["errors"]} == {"dimension_scores", "report_url"}


# --- unknown applications ---------------------------------------------------------------


async def test_an_unknown_application_is_a_404_and_the_delivery_is_kept_once(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    unknown = uuid.uuid4()
    body = delivery("completed", unknown)

    first = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_lost")
    retry = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_lost")

    for response in (first, retry):
        problem = assert_problem(response, 404, "unknown-application")
        assert problem["webhook_id"] == "msg_lost"
        assert problem["application_id"] == str(unknown)
    assert await _stored(db) == {**NOTHING, "unmatched_deliveries": 1}
    kept = await db.fetchrow("SELECT * FROM pipeline.unmatched_deliveries")
    assert kept["vendor"] == VENDOR
    assert kept["webhook_id"] == "msg_lost"
    assert kept["reason"] == "unknown_application"
    assert json.loads(kept["payload"]) == body


async def test_a_delivery_for_another_interview_is_accepted_then_kept_as_a_mismatch(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(vendor_api, NEW_SECRET, delivery("invited", arranged.application_id))
    other = delivery("completed", arranged.application_id, interview_id="iv_2")

    response = await post_delivery(vendor_api.client, NEW_SECRET, other, webhook_id="msg_iv2")
    kept_before = await db.fetchval("SELECT count(*) FROM pipeline.unmatched_deliveries")
    await process_deliveries(vendor_api)

    assert response.status_code == 202, response.text
    assert kept_before == 0  # the vendor's answer does not wait for the state work
    row = await _interview(db, arranged.application_id)
    assert (row["status"], row["external_id"], row["version"]) == ("invited", "iv_1", 1)
    kept = await db.fetchrow("SELECT * FROM pipeline.unmatched_deliveries")
    assert (kept["reason"], kept["webhook_id"]) == ("interview_mismatch", "msg_iv2")
    assert json.loads(kept["payload"]) == other
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_invited.v1"]
    assert (await _delivery_timer(db, "msg_iv2"))["state"] == "done"


async def test_replaying_a_mismatch_while_the_other_interview_stays_changes_nothing(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(vendor_api, NEW_SECRET, delivery("invited", arranged.application_id))
    await post_and_process(
        vendor_api, NEW_SECRET, delivery("completed", arranged.application_id, interview_id="iv_2")
    )
    kept_id = await db.fetchval("SELECT id FROM pipeline.unmatched_deliveries")

    response = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=auth("admin", "admin-1")
    )

    assert_problem(response, 409, "still-unmatched")
    assert (await _interview(db, arranged.application_id))["status"] == "invited"
    assert await db.fetchval("SELECT resolved_at FROM pipeline.unmatched_deliveries") is None
    assert await db.fetchval("SELECT count(*) FROM pipeline.webhook_receipts") == 2


async def test_a_mismatch_is_applied_by_its_replay_once_the_interview_is_the_one_it_names(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(vendor_api, NEW_SECRET, delivery("invited", arranged.application_id))
    await post_and_process(
        vendor_api, NEW_SECRET, delivery("completed", arranged.application_id, interview_id="iv_2")
    )
    kept_id = await db.fetchval("SELECT id FROM pipeline.unmatched_deliveries")
    # Reconciled by hand: the vendor's first interview id was a mistake.
    await db.execute("UPDATE pipeline.ai_interviews SET external_id = 'iv_2'")

    replayed = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=auth("admin", "admin-1")
    )

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["resolution"] == "replayed"
    assert (await _interview(db, arranged.application_id))["status"] == "completed"
    assert [e["event_type"] for e in await outbox(db)] == [
        "pipeline.ai_interview_invited.v1",
        "pipeline.ai_interview_completed.v1",
    ]


async def test_an_application_gone_before_processing_is_kept_as_if_it_had_been_unknown(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    body = delivery("invited", arranged.application_id)
    response = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_gone")
    await db.execute("DELETE FROM pipeline.applications WHERE id = $1", arranged.application_id)

    await process_deliveries(vendor_api)

    assert response.status_code == 202, response.text
    assert await _stored(db) == {**NOTHING, "timers": 1, "unmatched_deliveries": 1}
    kept = await db.fetchrow("SELECT reason, webhook_id FROM pipeline.unmatched_deliveries")
    assert (kept["reason"], kept["webhook_id"]) == ("unknown_application", "msg_gone")
    assert (await _delivery_timer(db, "msg_gone"))["state"] == "done"


async def test_admins_list_open_unmatched_deliveries_newest_first(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    for n in range(3):
        await post_delivery(
            vendor_api.client,
            NEW_SECRET,
            delivery("invited", uuid.uuid4()),
            webhook_id=f"msg_{n}",
        )

    first = await vendor_api.client.get(
        "/v1/ai-interviews/unmatched", params={"limit": 2}, headers=auth("admin", "admin-1")
    )
    second = await vendor_api.client.get(
        "/v1/ai-interviews/unmatched",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=auth("admin", "admin-1"),
    )

    assert first.status_code == 200, first.text
    assert [d["webhook_id"] for d in first.json()["items"]] == ["msg_2", "msg_1"]
    assert [d["webhook_id"] for d in second.json()["items"]] == ["msg_0"]
    assert second.json()["next_cursor"] is None
    assert first.json()["items"][0]["resolution"] is None


async def _create_application_row(
    db: asyncpg.Connection, application_id: uuid.UUID, like: Any
) -> None:
    await db.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                               stage_entered_at, version, created_at, updated_at)
           VALUES ($1, $2, $3, 'round_1', 'active', now(), 1, now(), now())""",
        application_id,
        like.job_id,
        like.candidate_id,
    )


async def test_a_kept_delivery_is_replayed_once_its_application_exists(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    application_id = uuid.uuid4()  # the vendor names an application not created yet
    body = delivery("completed", application_id)
    await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_early")
    kept_id = await db.fetchval("SELECT id FROM pipeline.unmatched_deliveries")
    admin = auth("admin", "admin-1")

    too_soon = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=admin
    )
    assert_problem(too_soon, 409, "still-unmatched")

    await db.execute("DELETE FROM pipeline.applications WHERE id = $1", arranged.application_id)
    await _create_application_row(db, application_id, arranged)
    replayed = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=admin
    )
    twice = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=admin
    )
    vendor_retry = await post_and_process(vendor_api, NEW_SECRET, body, webhook_id="msg_early")

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["resolution"] == "replayed"
    assert replayed.json()["resolved_by"] == "admin-1"
    assert_problem(twice, 409, "already-resolved")
    assert vendor_retry.status_code == 200
    assert vendor_retry.json()["duplicate"] is True
    assert (await _interview(db, application_id))["status"] == "completed"
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_completed.v1"]
    still_open = await vendor_api.client.get("/v1/ai-interviews/unmatched", headers=admin)
    assert still_open.json()["items"] == []
    resolved = await vendor_api.client.get(
        "/v1/ai-interviews/unmatched", params={"resolved": "true"}, headers=admin
    )
    assert [d["id"] for d in resolved.json()["items"]] == [kept_id]


async def test_replaying_after_the_vendors_own_retry_got_through_only_resolves_it(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    unknown = uuid.uuid4()
    body = delivery("invited", unknown)
    await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id="msg_x")
    kept_id = await db.fetchval("SELECT id FROM pipeline.unmatched_deliveries")
    await db.execute("DELETE FROM pipeline.applications WHERE id = $1", arranged.application_id)
    await _create_application_row(db, unknown, arranged)
    retry = await post_and_process(vendor_api, NEW_SECRET, body, webhook_id="msg_x")
    assert retry.status_code == 202

    replayed = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=auth("admin", "admin-1")
    )

    assert replayed.json()["resolution"] == "already_delivered"
    assert len(await outbox(db)) == 1


async def test_admins_dismiss_a_kept_delivery_once(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    await post_delivery(vendor_api.client, NEW_SECRET, delivery("invited", uuid.uuid4()))
    kept_id = await db.fetchval("SELECT id FROM pipeline.unmatched_deliveries")
    admin = auth("admin", "admin-1")

    dismissed = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/dismiss", headers=admin
    )
    again = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/dismiss", headers=admin
    )
    replay = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/{kept_id}/replay", headers=admin
    )

    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["resolution"] == "dismissed"
    assert dismissed.json()["resolved_at"] is not None
    assert_problem(again, 409, "already-resolved")
    assert_problem(replay, 409, "already-resolved")


@pytest.mark.parametrize("action", ["replay", "dismiss"])
async def test_an_unknown_unmatched_delivery_is_not_found(vendor_api: Running, action: str) -> None:
    response = await vendor_api.client.post(
        f"/v1/ai-interviews/unmatched/999999/{action}", headers=auth("admin", "admin-1")
    )

    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/ai-interviews/unmatched"),
        ("POST", "/v1/ai-interviews/unmatched/1/replay"),
        ("POST", "/v1/ai-interviews/unmatched/1/dismiss"),
    ],
)
async def test_only_admins_handle_unmatched_deliveries(
    vendor_api: Running, method: str, path: str
) -> None:
    anonymous = await vendor_api.client.request(method, path)
    hr = await vendor_api.client.request(method, path, headers=auth("hr", "hr-alice"))
    interviewer = await vendor_api.client.request(method, path, headers=auth("interviewer", "iv-1"))

    assert_problem(anonymous, 401)
    assert_problem(hr, 403, "forbidden")
    assert_problem(interviewer, 403, "forbidden")


# --- out of order ----------------------------------------------------------------------


async def test_deliveries_out_of_order_end_in_the_furthest_state_with_one_event_each(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    at = {
        kind: T0 + timedelta(minutes=n)
        for n, kind in enumerate(["invited", "opened", "started", "completed", "report_ready"])
    }
    order = ["completed", "invited", "started", "report_ready", "opened", "expired"]

    statuses = []
    for kind in order:
        when = at.get(kind, T0 + timedelta(days=3))
        response = await post_and_process(
            vendor_api, NEW_SECRET, delivery(kind, arranged.application_id, occurred_at=when)
        )
        assert response.status_code == 202, response.text
        statuses.append((await _interview(db, arranged.application_id))["status"])

    assert statuses == [
        "completed",
        "completed",
        "completed",
        "report_ready",
        "report_ready",
        "report_ready",
    ]
    row = await _interview(db, arranged.application_id)
    assert row["status"] == "report_ready"
    assert row["started_at"] == at["started"]  # the late start only filled its timestamp
    assert row["opened_at"] == at["opened"]
    assert row["expired_at"] is not None
    assert row["report_url"] == "https://vendor.example.com/reports/iv_1"
    assert json.loads(row["dimension_scores"]) == {"communication": 90, "problem_solving": 70}
    assert [e["event_type"] for e in await outbox(db)] == [
        "pipeline.ai_interview_completed.v1",
        "pipeline.ai_interview_report_ready.v1",
    ]


async def test_deliveries_applied_together_end_as_if_applied_one_by_one(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    """The timer loop applies what is due as a batch: out-of-order deliveries for one new
    interview, a mismatch behind them, and an application gone meanwhile, in one pass."""
    first, second, gone = [await arrange_application(db) for _ in range(3)]
    at = {kind: T0 + timedelta(minutes=n) for n, kind in enumerate(["invited", "opened"])}
    sent = [
        ("b1", delivery("completed", first.application_id, occurred_at=T0 + timedelta(hours=1))),
        ("b2", delivery("invited", second.application_id, occurred_at=at["invited"])),
        ("b3", delivery("invited", first.application_id, occurred_at=at["invited"])),
        ("b4", delivery("opened", second.application_id, occurred_at=at["opened"])),
        ("b5", delivery("started", second.application_id, interview_id="iv_other")),
        ("b6", delivery("invited", gone.application_id)),
    ]
    for webhook_id, body in sent:
        response = await post_delivery(vendor_api.client, NEW_SECRET, body, webhook_id=webhook_id)
        assert response.status_code == 202, response.text
    await db.execute("DELETE FROM pipeline.applications WHERE id = $1", gone.application_id)

    assert await process_deliveries(vendor_api) == len(sent)

    one, two = [await _interview(db, a.application_id) for a in (first, second)]
    assert (one["status"], one["version"], one["invited_at"]) == ("completed", 2, at["invited"])
    assert (two["status"], two["version"], two["opened_at"]) == ("opened", 2, at["opened"])
    events = await outbox(db)
    assert [(e["event_type"], e["subject"], e["sequence"]) for e in events] == [
        ("pipeline.ai_interview_completed.v1", str(one["id"]), 1),
        ("pipeline.ai_interview_invited.v1", str(two["id"]), 1),
        ("pipeline.ai_interview_opened.v1", str(two["id"]), 2),
    ]
    kept = await db.fetch(
        "SELECT webhook_id, reason FROM pipeline.unmatched_deliveries ORDER BY webhook_id"
    )
    assert [tuple(row) for row in kept] == [
        ("b5", "interview_mismatch"),
        ("b6", "unknown_application"),
    ]
    states = await db.fetch("SELECT state FROM pipeline.timers WHERE kind = $1", DELIVERY_TIMER)
    assert {row["state"] for row in states} == {"done"}


async def test_a_delivery_failing_in_a_batch_is_retried_alone_and_the_others_applied(
    db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = [await arrange_application(db) for _ in range(2)]
    clock = ManualClock(datetime.now(UTC))
    real_event = ai_service._event
    failures: list[uuid.UUID] = []

    def fails_for_the_second(*args: Any, **kwargs: Any) -> Any:
        interview = args[1]
        # Fails in the batch, then alone; applies on the retry after its backoff.
        if interview.application_id == second.application_id and len(failures) < 2:
            failures.append(interview.application_id)
            raise RuntimeError("the outbox is having a bad day")
        return real_event(*args, **kwargs)

    monkeypatch.setattr(ai_service, "_event", fails_for_the_second)
    async with api(
        pipeline_spec, clock=clock, vendor_secrets={VENDOR: [NEW_SECRET]}, **MANUAL_TIMERS
    ) as service:
        for webhook_id, arranged in (("ok", first), ("flaky", second)):
            response = await post_delivery(
                service.client,
                NEW_SECRET,
                delivery("invited", arranged.application_id),
                webhook_id=webhook_id,
            )
            assert response.status_code == 202, response.text

        await process_deliveries(service)
        flaky = await _delivery_timer(db, "flaky")
        clock.advance(timedelta(seconds=6))
        assert await process_deliveries(service) == 1

    assert (await _delivery_timer(db, "ok"))["state"] == "done"
    assert (flaky["state"], flaky["attempts"]) == ("pending", 1)
    assert (await _delivery_timer(db, "flaky"))["state"] == "done"
    for arranged in (first, second):
        row = await _interview(db, arranged.application_id)
        assert (row["status"], row["version"]) == ("invited", 1)
    events = await outbox(db)
    assert sorted(e["data"]["application_id"] for e in events) == sorted(
        str(a.application_id) for a in (first, second)
    )


async def test_a_stale_completed_does_not_overwrite_the_reports_score(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(
        vendor_api, NEW_SECRET, delivery("report_ready", arranged.application_id, score=91.25)
    )
    await post_and_process(
        vendor_api, NEW_SECRET, delivery("completed", arranged.application_id, score=60)
    )

    row = await _interview(db, arranged.application_id)
    assert str(row["score"]) == "91.25"
    assert row["result_source"] == "report_ready"
    events = await outbox(db)
    assert [e["event_type"] for e in events] == ["pipeline.ai_interview_report_ready.v1"]
    assert events[0]["data"]["score"] == "91.25"


async def test_expiry_after_a_completed_interview_leaves_it_completed(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(vendor_api, NEW_SECRET, delivery("completed", arranged.application_id))
    await post_and_process(
        vendor_api,
        NEW_SECRET,
        delivery("expired", arranged.application_id, occurred_at=T0 + timedelta(days=2)),
    )

    assert (await _interview(db, arranged.application_id))["status"] == "completed"
    assert [e["event_type"] for e in await outbox(db)] == ["pipeline.ai_interview_completed.v1"]


# --- the staff read ---------------------------------------------------------------------


async def test_staff_read_an_applications_ai_interviews(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    await post_and_process(
        vendor_api, NEW_SECRET, delivery("report_ready", arranged.application_id)
    )
    path = f"/v1/applications/{arranged.application_id}/ai-interviews"

    owner = await vendor_api.client.get(path, headers=auth("hr", "hr-alice"))
    admin = await vendor_api.client.get(path, headers=auth("admin", "admin-1"))

    assert owner.status_code == 200, owner.text
    assert owner.json() == admin.json()
    [interview] = owner.json()
    assert interview["status"] == "report_ready"
    assert interview["vendor"] == VENDOR
    assert interview["external_id"] == "iv_1"
    assert interview["score"] == "80.00"
    assert interview["dimension_scores"] == {"communication": "90.0", "problem_solving": "70.0"}
    assert interview["report_url"] == "https://vendor.example.com/reports/iv_1"
    assert interview["report_ready_at"] == "2025-03-03T02:00:00Z"
    assert interview["completed_at"] is None


async def test_an_application_without_ai_interviews_has_an_empty_list(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)

    response = await vendor_api.client.get(
        f"/v1/applications/{arranged.application_id}/ai-interviews", headers=auth()
    )

    assert response.status_code == 200
    assert response.json() == []


async def test_who_may_not_read_an_applications_ai_interviews(
    vendor_api: Running, db: asyncpg.Connection
) -> None:
    arranged = await arrange_application(db)
    path = f"/v1/applications/{arranged.application_id}/ai-interviews"

    anonymous = await vendor_api.client.get(path)
    interviewer = await vendor_api.client.get(path, headers=auth("interviewer", "iv-1"))
    other_hr = await vendor_api.client.get(path, headers=auth("hr", "hr-bob"))
    missing = await vendor_api.client.get(
        f"/v1/applications/{uuid.uuid4()}/ai-interviews", headers=auth("admin", "admin-1")
    )

    assert_problem(anonymous, 401)
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(other_hr, 404, "not-found")
    assert_problem(missing, 404, "not-found")
