"""The notifier with the templates router, whether or not ``notifier.app`` mounts it yet, and
the data the template tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from notifier.app import spec as notifier_spec
from notifier.templates.router import router
from shared.service import ServiceSpec
from tests.support.running import Running, api
from tests.support.tokens import auth

ADMIN = auth("admin", "admin-ada")
HR = auth("hr", "hr-alice")
HR_EDITOR = auth("hr", "hr-erin", scopes=("notifications:templates",))
INTERVIEWER = auth("interviewer", "iv-ian")

# Sample data in English, so that English output can be checked for Chinese left in it.
ENGLISH_DATA: dict[str, Any] = {
    "recipient_name": "Li Lei",
    "job_title": "Backend engineer",
    "company_name": "Example Tech",
    "reason": "the role needs more experience with distributed systems",
    "next_steps": ["Confirm your interview time within 3 working days"],
}


def templates_spec() -> ServiceSpec:
    """The notifier's spec, with the templates router added unless it is already there."""
    if any(mounted is router for mounted in notifier_spec.routers):
        return notifier_spec
    return replace(
        notifier_spec,
        routers=[*notifier_spec.routers, router],
        openapi_tags=[
            *notifier_spec.openapi_tags,
            {"name": "templates", "description": "Message templates and their versions."},
        ],
    )


@asynccontextmanager
async def templates_api() -> AsyncIterator[Running]:
    async with api(templates_spec()) as service:
        yield service
