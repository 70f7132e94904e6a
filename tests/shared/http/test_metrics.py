"""``/metrics`` counts HTTP requests by route template, so ids in paths cannot blow up the
number of time series."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families

from tests.support.running import Running
from tests.support.tokens import auth

TEMPLATE = "/v1/notes/{note_id}"


async def _requests_total(service: Running) -> dict[tuple[str, str, str], float]:
    """``http_requests_total`` of the test kit, by (method, route, status), as /metrics says."""
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    totals: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "http_requests_total" and sample.labels["service"] == "testkit":
                labels = sample.labels
                totals[(labels["method"], labels["route"], labels["status"])] = sample.value
    return totals


async def test_requests_are_counted_by_route_template_not_raw_path(service: Running) -> None:
    created = await service.client.post("/v1/notes", json={"text": "m"}, headers=auth())
    note_id = created.json()["id"]
    missing_id = str(uuid.uuid4())
    before = await _requests_total(service)

    await service.client.get(f"/v1/notes/{note_id}", headers=auth())
    await service.client.get(f"/v1/notes/{note_id}", headers=auth())
    await service.client.get(f"/v1/notes/{missing_id}", headers=auth())
    after = await _requests_total(service)

    def delta(key: tuple[str, str, str]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta(("GET", TEMPLATE, "200")) == 2
    assert delta(("GET", TEMPLATE, "404")) == 1
    routes = {route for _, route, _ in after}
    assert not any(note_id in route or missing_id in route for route in routes)


async def test_unmatched_paths_share_one_series(service: Running) -> None:
    before = await _requests_total(service)

    for n in range(3):
        await service.client.get(f"/probe-{uuid.uuid4()}/{n}")
    after = await _requests_total(service)

    key = ("GET", "<unmatched>", "404")
    assert after[key] - before.get(key, 0.0) == 3
    assert not any(route.startswith("/probe-") for _, route, _ in after)


async def test_request_duration_is_recorded_by_route_template(service: Running) -> None:
    await service.client.get(f"/v1/notes/{uuid.uuid4()}", headers=auth())

    response = await service.client.get("/metrics")

    counts = [
        sample
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "http_request_duration_seconds_count"
        and sample.labels.get("service") == "testkit"
        and sample.labels.get("route") == TEMPLATE
    ]
    assert counts
    assert counts[0].value >= 1
