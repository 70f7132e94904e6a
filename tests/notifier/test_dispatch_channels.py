"""Every channel driven from events: customers' signed webhooks with their retries, the jobs'
chat robots, the booking's .ics, SMS receipts; and the deliveries API (resend, statistics,
who may see what)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import standardwebhooks
from aio_pika.abc import AbstractRobustConnection

from shared.events.pipeline import MessageUnansweredV1
from shared.events.scheduler import InterviewBookedV1
from tests.notifier.dispatch_support import World, envelope, job_changed, stage_passed, world
from tests.notifier.peers import HttpPeer, Reply
from tests.support.problems import assert_problem
from tests.support.running import wait_for
from tests.support.tokens import auth

ADMIN = auth("admin", "root")
_SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


async def _one_delivery(w: World, **params: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        items = await w.deliveries(**params)
        settled = [i for i in items if i["status"] not in ("queued", "sending")]
        return settled[0] if settled else None

    result: dict[str, Any] = await wait_for(found, timeout=15, what="a settled delivery")
    return result


async def test_a_customer_endpoint_gets_a_signed_webhook_and_a_retry_after_a_failure(
    amqp: AbstractRobustConnection,
) -> None:
    async with (
        HttpPeer(Reply(503), Reply(200, json={})) as customer,
        world(amqp, webhook_retry_delays_s=[0.2, 300.0]) as w,
    ):
        created = await w.notifier.client.post(
            "/v1/webhook-endpoints",
            json={"url": customer.url("/hooks"), "kinds": ["stage_passed"]},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        candidate = await w.pipeline.candidate()
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)

        first, second = await customer.wait_for_requests(2, timeout=15)
        webhook = await _one_delivery(w, channel="webhook")

    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same message
    body = standardwebhooks.Webhook(secret).verify(
        second.body,
        {
            name: second.headers[name]
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        },
    )
    assert body["type"] == "notification.stage_passed"
    assert body["data"]["candidate_id"] == str(candidate)
    assert body["data"]["variables"]["to_stage"] == "round_1"
    assert "@" not in second.body.decode()  # no email address leaves us
    assert webhook["status"] == "delivered" and webhook["attempts"] == 2
    assert webhook["recipient_kind"] == "endpoint"


async def test_a_jobs_dingtalk_robot_gets_the_hr_notice_signed(
    amqp: AbstractRobustConnection,
) -> None:
    async with HttpPeer(default=Reply(200, json={"errcode": 0})) as dingtalk, world(amqp) as w:
        candidate = await w.pipeline.candidate()
        job_id = uuid.UUID(w.pipeline.job["id"])
        await w.publish(job_changed(job_id, owners=["hr-alice"]))
        robot = await w.notifier.client.post(
            "/v1/chat-robots",
            json={
                "name": "Backend hiring",
                "provider": "dingtalk",
                "url": dingtalk.url("/robot/send?access_token=abc"),
                "secret": "SEC" + "0" * 20,
                "job_id": str(job_id),
            },
            headers=ADMIN,
        )
        assert robot.status_code == 201, robot.text
        application_id = uuid.uuid4()
        await w.publish(
            envelope(
                MessageUnansweredV1(
                    application_id=application_id,
                    job_id=job_id,
                    candidate_id=candidate,
                    owner_ids=["hr-alice"],
                    oldest_unanswered_at=datetime.now(UTC) - timedelta(hours=30),
                    waited_seconds=30 * 3600,
                ),
                subject=application_id,
            )
        )
        [post] = await dingtalk.wait_for_requests(1, timeout=15)
        chat = await _one_delivery(w, channel="chat")
        inbox = await _one_delivery(w, channel="in_app")

    timestamp, sign = post.query["timestamp"], post.query["sign"]
    expected = hmac.new(
        ("SEC" + "0" * 20).encode(), f"{timestamp}\n{'SEC' + '0' * 20}".encode(), hashlib.sha256
    ).digest()
    assert sign == base64.b64encode(expected).decode()
    assert post.json()["msgtype"] == "markdown"
    assert chat["status"] == "delivered" and chat["recipient_kind"] == "robot"
    assert inbox["recipient_kind"] == "staff" and inbox["recipient_id"] == "hr-alice"


async def test_a_booking_confirmation_carries_the_interviews_ics(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="booked@example.com")
        application_id, interview_id = uuid.uuid4(), uuid.uuid4()
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        await w.publish(
            envelope(
                InterviewBookedV1(
                    interview_id=interview_id,
                    application_id=application_id,
                    job_id=uuid.UUID(w.pipeline.job["id"]),
                    candidate_id=candidate,
                    calendar_uid=f"{interview_id}@recruiting",
                    calendar_sequence=3,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=45),
                    time_zone="Asia/Shanghai",
                    interviewer_ids=[uuid.uuid4()],
                    remote=True,
                ),
                subject=interview_id,
            )
        )

        async def mail() -> Any:
            found = [m for m in w.smtp.messages if "booked@example.com" in m.recipients]
            return found[0] if found else None

        received = await wait_for(mail, timeout=15, what="the confirmation")
    [attachment] = [
        part for part in received.message.iter_attachments() if part.get_filename() == "invite.ics"
    ]
    calendar: Any = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{interview_id}@recruiting"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("DTSTART") == start


async def test_an_sms_receipt_marks_the_fallback_sms_delivered(
    amqp: AbstractRobustConnection,
) -> None:
    secret = "receipt-secret"
    async with world(amqp, sms_receipt_secret=secret) as w:
        candidate = await w.pipeline.candidate(phone="13812345678")
        response = await w.notifier.client.put(
            f"/v1/recipients/candidate/{candidate}",
            json={"muted_channels": ["email"]},
            headers=ADMIN,
        )
        assert response.status_code in (200, 201), response.text
        # A resend on SMS of the in-app notice (an HR action) goes through the gateway.
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)
        inbox = await _one_delivery(w, channel="in_app")
        resent = await w.notifier.client.post(
            f"/v1/deliveries/{inbox['id']}/resend", json={"channel": "sms"}, headers=ADMIN
        )
        assert resent.status_code == 202, resent.text
        await w.gateway.wait_for_requests(1, timeout=15)
        sms = await _one_delivery(w, channel="sms")
        assert sms["status"] == "sent" and sms["provider_message_id"] == "sms-1"
        body = (
            '{"receipts": [{"id": "r-1", "message_id": "sms-1", "status": "delivered",'
            f' "at": "{datetime.now(UTC).isoformat()}"}}]}}'
        ).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        for _ in range(2):  # the gateway may send a receipt twice
            answer = await w.notifier.client.post(
                "/v1/receipts/sms", content=body, headers={"X-Signature": signature}
            )
            assert answer.status_code == 200, answer.text
        detail = (await w.notifier.client.get(f"/v1/deliveries/{sms['id']}", headers=ADMIN)).json()
    assert detail["status"] == "delivered"
    assert [e["value"] for e in detail["events"] if e["type"] == "status"] == ["sent", "delivered"]


async def test_resend_is_idempotent_and_checks_who_asks(amqp: AbstractRobustConnection) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="again@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        await w.publish(job_changed(job_id, owners=["hr-alice"]))
        await w.publish(stage_passed(candidate, job_id=job_id))
        email = await _one_delivery(w, channel="email")
        path = f"/v1/deliveries/{email['id']}/resend"
        client = w.notifier.client

        assert_problem(await client.post(path), 401)
        assert_problem(await client.post(path, headers=auth("interviewer", "iv")), 403)
        assert_problem(await client.post(path, headers=auth("hr", "hr-bob")), 404)
        assert_problem(await client.post(path, json={"channel": "webhook"}, headers=ADMIN), 422)
        assert_problem(await client.post(path, json={"channel": "fax"}, headers=ADMIN), 422)
        assert_problem(
            await client.post(f"/v1/deliveries/{uuid.uuid4()}/resend", headers=ADMIN), 404
        )
        headers = {**auth("hr", "hr-alice"), "Idempotency-Key": "resend-1"}
        first = await client.post(path, headers=headers)
        again = await client.post(path, headers=headers)
        assert first.status_code == again.status_code == 202
        assert first.json()["id"] == again.json()["id"]

        async def two_mails() -> bool:
            return len([m for m in w.smtp.messages if "again@example.com" in m.recipients]) == 2

        await wait_for(two_mails, timeout=15, what="the resent email")


async def test_statistics_per_channel(amqp: AbstractRobustConnection) -> None:
    async with world(amqp) as w:
        first = await w.pipeline.candidate(email="s1@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        second = await w.pipeline.candidate(email="s2@example.com")
        w.smtp.refuse_next(550, "5.1.1 User unknown", at="DATA")
        for candidate in (first, second):
            await w.publish(stage_passed(candidate, job_id=job_id))

        async def settled() -> bool:
            items = await w.deliveries(channel="email")
            return len(items) == 2 and all(i["status"] in ("sent", "failed") for i in items)

        await wait_for(settled, timeout=15, what="both emails")
        response = await w.notifier.client.get("/v1/deliveries/stats", headers=ADMIN)
        bad_range = await w.notifier.client.get(
            "/v1/deliveries/stats",
            params={"since": "2026-12-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
            headers=ADMIN,
        )
        naive = await w.notifier.client.get(
            "/v1/deliveries/stats", params={"since": "2026-11-01T00:00:00"}, headers=ADMIN
        )
        hr_view = await w.notifier.client.get("/v1/deliveries/stats", headers=auth("hr", "hr-x"))
    assert response.status_code == 200, response.text
    stats = {c["channel"]: c for c in response.json()["channels"]}
    assert stats["email"]["total"] == 2
    assert stats["email"]["by_status"] == {"sent": 1, "failed": 1}
    assert list(stats["email"]["failed_reasons"].values()) == [1]
    assert stats["in_app"]["by_status"] == {"delivered": 2}
    assert_problem(bad_range, 422)
    assert_problem(naive, 422)
    assert hr_view.status_code == 200 and hr_view.json()["channels"] == []


async def test_deliveries_are_listed_for_their_jobs_hr_only(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate()
        job_id = uuid.UUID(w.pipeline.job["id"])
        await w.publish(job_changed(job_id, owners=["hr-alice"]))
        await w.publish(stage_passed(candidate, job_id=job_id))
        email = await _one_delivery(w, channel="email")
        client = w.notifier.client
        mine = await client.get("/v1/deliveries", headers=auth("hr", "hr-alice"))
        theirs = await client.get("/v1/deliveries", headers=auth("hr", "hr-bob"))
        hidden = await client.get(f"/v1/deliveries/{email['id']}", headers=auth("hr", "hr-bob"))
        unauthenticated = await client.get("/v1/deliveries")
        interviewer = await client.get("/v1/deliveries", headers=auth("interviewer", "iv"))
        bad = await client.get("/v1/deliveries", params={"status": "lost"}, headers=ADMIN)
        unknown = await client.get(f"/v1/deliveries/{uuid.uuid4()}", headers=ADMIN)
    assert {d["channel"] for d in mine.json()["items"]} == {"email", "in_app"}
    assert theirs.json()["items"] == []
    assert_problem(hidden, 404)
    assert_problem(unauthenticated, 401)
    assert_problem(interviewer, 403)
    assert_problem(bad, 422)
    assert_problem(unknown, 404)


async def test_an_email_bounce_reported_by_the_provider_ends_the_delivery(
    amqp: AbstractRobustConnection,
) -> None:
    secret = "email-receipts"
    async with world(amqp, email_receipt_secret=secret) as w:
        candidate = await w.pipeline.candidate(email="gone@example.com")
        await w.publish(stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"])))
        email = await _one_delivery(w, channel="email")
        message_id = email["provider_message_id"].strip("<>")

        def signed(body: bytes) -> dict[str, str]:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            return {"X-Signature": f"sha256={digest}"}

        def events(*items: tuple[str, str, str]) -> bytes:
            rows = ", ".join(
                f'{{"id": "{rid}", "message_id": "{mid}", "status": "{status}",'
                f' "reason": "5.1.1 mailbox unavailable", "at": "{datetime.now(UTC).isoformat()}"}}'
                for rid, mid, status in items
            )
            return f'{{"receipts": [{rows}]}}'.encode()

        client = w.notifier.client
        bounce = events(("b-1", message_id, "bounced"), ("b-2", "unknown@elsewhere", "bounced"))
        first = await client.post("/v1/receipts/email", content=bounce, headers=signed(bounce))
        again = await client.post("/v1/receipts/email", content=bounce, headers=signed(bounce))
        late = events(("d-1", message_id, "delivered"))
        after = await client.post("/v1/receipts/email", content=late, headers=signed(late))
        forged = await client.post(
            "/v1/receipts/email", content=bounce, headers={"X-Signature": "sha256=00"}
        )
        malformed = b'{"receipts": [{"id": "x"}]}'
        invalid = await client.post(
            "/v1/receipts/email", content=malformed, headers=signed(malformed)
        )
        detail = (await client.get(f"/v1/deliveries/{email['id']}", headers=ADMIN)).json()
    assert first.json() == {"accepted": 1, "held": 1}
    assert again.json() == {"accepted": 1, "held": 1}  # about our message, recorded once
    assert after.status_code == 200
    assert detail["status"] == "bounced"  # nothing moves a delivery back from an ending
    assert detail["reason"] == "5.1.1 mailbox unavailable"
    statuses = [e["value"] for e in detail["events"] if e["type"] == "status"]
    assert statuses == ["sent", "bounced"]
    assert_problem(forged, 401)
    assert_problem(invalid, 422)


async def test_the_panel_of_a_booking_finds_it_in_their_own_inbox(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate()
        application_id, interview_id = uuid.uuid4(), uuid.uuid4()
        start = datetime.now(UTC) + timedelta(days=2)
        await w.publish(
            envelope(
                InterviewBookedV1(
                    interview_id=interview_id,
                    application_id=application_id,
                    job_id=uuid.UUID(w.pipeline.job["id"]),
                    candidate_id=candidate,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=45),
                    time_zone="Asia/Shanghai",
                    interviewer_ids=[uuid.uuid4()],
                    interviewer_subjects=["iv-zhang"],
                    remote=True,
                ),
                subject=interview_id,
            )
        )

        async def in_inbox() -> list[Any] | None:
            response = await w.notifier.client.get(
                "/v1/inbox", headers=auth("interviewer", "iv-zhang")
            )
            assert response.status_code == 200, response.text
            items: list[Any] = response.json()["items"]
            return items or None

        [item] = await wait_for(in_inbox, timeout=15, what="the interviewer's inbox item")
        other = await w.notifier.client.get("/v1/inbox", headers=auth("interviewer", "iv-li"))
    assert item["kind"] == "interview_booked"
    assert other.json()["items"] == []
