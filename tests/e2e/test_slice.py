"""One stage change, made through the pipeline's API, reaches the other three services through
RabbitMQ, with the four services running as real processes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Suite
from tests.e2e.flow import HR, create_application, move, unique_email
from tests.support import processes
from tests.support.running import wait_for

pytestmark = pytest.mark.e2e


async def _get_json(http: httpx.AsyncClient, url: str) -> Any:
    """The body once the resource exists and, for a page, once it has items."""
    response = await http.get(url, headers=HR)
    if response.status_code != 200:
        return None
    body = response.json()
    if isinstance(body, dict) and "items" in body and not body["items"]:
        return None
    return body


async def test_stage_change_reaches_notifier_talentpool_and_scheduler(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pipeline = ready_suite.url("pipeline")
    application = await create_application(
        http, pipeline, email=unique_email(), full_name="Han Meimei"
    )
    correlation_id = f"e2e-{uuid.uuid4().hex}"
    moved = await move(
        http, pipeline, application, "round_2", version=1, correlation_id=correlation_id
    )
    assert moved["stage_key"] == "round_2" and moved["version"] == 2

    notifications_url = (
        f"{ready_suite.url('notifier')}/v1/notifications"
        f"?application_id={application['id']}&kind=stage_passed"
    )
    notifications = await wait_for(
        lambda: _get_json(http, notifications_url), timeout=15, what="notifier notification"
    )
    (notification,) = notifications["items"]
    assert notification["kind"] == "stage_passed" and notification["status"] in ("pending", "sent")
    assert notification["data"]["to_stage"] == "round_2"

    timeline_url = (
        f"{ready_suite.url('talentpool')}/v1/candidates/{application['candidate_id']}"
        "/timeline?kind=stage_changed"
    )
    timeline = await wait_for(lambda: _get_json(http, timeline_url), timeout=15, what="timeline")
    (entry,) = timeline["items"]
    assert entry["application_id"] == application["id"]
    assert entry["data"]["from_stage"] == "ai_interview" and entry["data"]["to_stage"] == "round_2"

    need_url = f"{ready_suite.url('scheduler')}/v1/interview-needs/{application['id']}"
    need = await wait_for(lambda: _get_json(http, need_url), timeout=15, what="interview need")
    assert need["status"] == "open" and need["stage_key"] == "round_2"
    assert need["application_version"] == 2

    # The correlation id of the original request follows the event into every consumer's logs.
    for name in ("notifier", "talentpool", "scheduler"):
        service = ready_suite.services[name]

        async def logged(service: processes.ServiceProcess = service) -> bool:
            records = [json.loads(line) for line in service.log_lines()]
            # Alone, its own line; handled in a batch with others, the batch's line names it.
            return any(
                (r.get("message") == "event.handled" and r.get("correlation_id") == correlation_id)
                or (
                    r.get("message") == "events.handled"
                    and correlation_id in r.get("correlation_ids", [])
                )
                for r in records
            )

        await wait_for(logged, timeout=5, what=f"{name} logging the correlation id")


async def _stage_changes_handled(http: httpx.AsyncClient, service_url: str) -> float:
    """How many stage_changed events the service has handled (from its /metrics)."""
    text = (await http.get(f"{service_url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("events_consumed_total{")
        and 'outcome="handled"' in line
        and 'type="pipeline.stage_changed.v1"' in line
    )


async def test_leaving_the_interview_stage_leaves_no_open_interview_need(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pipeline, scheduler = ready_suite.url("pipeline"), ready_suite.url("scheduler")
    application = await create_application(http, pipeline, email=unique_email(), full_name="Li Lei")
    handled_before = await _stage_changes_handled(http, scheduler)
    await move(http, pipeline, application, "round_2", version=1)
    await move(http, pipeline, application, "first_evaluation", version=2)

    async def both_handled() -> bool:
        return await _stage_changes_handled(http, scheduler) >= handled_before + 2

    await wait_for(both_handled, timeout=15, what="both stage changes handled")
    # The two events may be handled in either order (two consumer workers): if the newer one
    # came first, the older is ignored and no need was ever opened; otherwise it was withdrawn.
    response = await http.get(f"{scheduler}/v1/interview-needs/{application['id']}", headers=HR)
    if response.status_code == 200:
        assert response.json()["status"] == "withdrawn"
        assert response.json()["application_version"] == 3
    else:
        assert response.status_code == 404


async def test_logs_are_json_lines_with_ids_and_without_personal_data(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    email, full_name = unique_email(), "Zhang Xiaoming-Unique"
    pipeline = ready_suite.url("pipeline")
    application = await create_application(http, pipeline, email=email, full_name=full_name)
    await move(http, pipeline, application, "round_2", version=1)
    timeline_url = (
        f"{ready_suite.url('talentpool')}/v1/candidates/{application['candidate_id']}"
        "/timeline?kind=stage_changed"
    )
    await wait_for(lambda: _get_json(http, timeline_url), timeout=15, what="timeline")

    for service in ready_suite.services.values():
        lines = service.log_lines()
        assert lines, service.name
        for line in lines:
            record = json.loads(line)  # every line is one JSON object
            assert record["service"] == service.name
            assert email not in line and full_name not in line
            # The timer loop's ticks are not logged (APScheduler's INFO lines are muted).
            assert not (
                record.get("logger", "").startswith("apscheduler") and record["level"] == "info"
            ), line
            if record.get("message") == "http.request":
                assert record["request_id"] and record["route"]
