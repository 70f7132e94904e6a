"""The pipeline service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from pipeline.applications.router import router as applications_router
from pipeline.db import infra, metadata
from pipeline.jobs.router import router as jobs_router
from pipeline.settings import PipelineSettings
from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="pipeline",
    title="Recruiting pipeline",
    description="Jobs with their stages, and applications moving through them.",
    version="0.1.0",
    settings_class=PipelineSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[jobs_router, applications_router],
    openapi_tags=[
        {"name": "jobs", "description": "Jobs and their stages."},
        {"name": "applications", "description": "Applications and their stage changes."},
    ],
)


def create(settings: PipelineSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
