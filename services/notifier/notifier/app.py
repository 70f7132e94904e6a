"""The notifier service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notifier.consumers import handlers
from notifier.db import infra, metadata
from notifier.notifications.router import router as notifications_router
from notifier.settings import NotifierSettings
from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="notifier",
    title="Recruiting notifier",
    description="Messages to candidates, HR and interviewers, and their delivery.",
    version="0.1.0",
    settings_class=NotifierSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[notifications_router],
    handlers=handlers,
    openapi_tags=[{"name": "notifications", "description": "Notifications owed and sent."}],
)


def create(settings: NotifierSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
