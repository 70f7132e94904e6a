"""The scheduler service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from scheduler.consumers import handlers
from scheduler.db import infra, metadata
from scheduler.interview_needs.router import router as interview_needs_router
from scheduler.settings import SchedulerSettings
from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="scheduler",
    title="Recruiting scheduler",
    description="Interview needs, slots, invitations with deadlines, and bookings.",
    version="0.1.0",
    settings_class=SchedulerSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[interview_needs_router],
    handlers=handlers,
    openapi_tags=[
        {"name": "interview needs", "description": "Applications waiting for an interview."}
    ],
)


def create(settings: SchedulerSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
