"""RabbitMQ restarted under the running services: no process restart is needed, readiness says
the broker is missing meanwhile, and events written during the outage are delivered afterwards."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Suite
from tests.e2e.flow import HR, create_application, move, unique_email
from tests.support.running import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.broker_restart]


def rabbitmqctl(*args: str) -> None:
    executable = shutil.which("rabbitmqctl")
    assert executable, "rabbitmqctl is needed for this test"
    subprocess.run([executable, *args], check=True, capture_output=True, timeout=120)


async def _broker_reported_down(suite: Suite, http: httpx.AsyncClient) -> bool:
    for service in suite.services.values():
        response = await http.get(f"{service.url}/readyz")
        if response.status_code != 503 or response.json()["checks"].get("broker") is not False:
            return False
    return True


async def _body_when(http: httpx.AsyncClient, url: str, ok: Any) -> Any:
    response = await http.get(url, headers=HR)
    if response.status_code == 200 and ok(response.json()):
        return response.json()
    return None


async def test_services_survive_a_rabbitmq_restart_and_deliver_events_written_meanwhile(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pids = {name: service.process.pid for name, service in ready_suite.services.items()}
    pipeline = ready_suite.url("pipeline")
    application = await create_application(
        http, pipeline, email=unique_email(), full_name="Restart Candidate"
    )
    try:
        rabbitmqctl("stop_app")
        await wait_for(
            lambda: _broker_reported_down(ready_suite, http), timeout=30, what="readyz broker=false"
        )
        # The API keeps working without the broker: the change commits, its event waits.
        moved = await move(http, pipeline, application, "round_2", version=1)
        assert moved["version"] == 2
    finally:
        rabbitmqctl("start_app")

    await wait_for(lambda: ready_suite.all_ready(http), timeout=90, what="all ready again")
    need_url = f"{ready_suite.url('scheduler')}/v1/interview-needs/{application['id']}"
    need = await wait_for(
        lambda: _body_when(http, need_url, lambda body: body["status"] == "open"),
        timeout=30,
        what="interview need after the restart",
    )
    assert need["application_version"] == 2
    timeline_url = (
        f"{ready_suite.url('talentpool')}/v1/candidates/{application['candidate_id']}"
        "/timeline?kind=stage_changed"
    )
    await wait_for(
        lambda: _body_when(http, timeline_url, lambda body: len(body["items"]) == 1),
        timeout=30,
        what="timeline entry after the restart",
    )
    notifications_url = (
        f"{ready_suite.url('notifier')}/v1/notifications"
        f"?application_id={application['id']}&kind=stage_passed"
    )
    await wait_for(
        lambda: _body_when(http, notifications_url, lambda body: len(body["items"]) == 1),
        timeout=30,
        what="notification after the restart",
    )
    # Nothing was restarted to get here.
    assert {name: s.process.pid for name, s in ready_suite.services.items()} == pids
    assert all(service.alive() for service in ready_suite.services.values())
