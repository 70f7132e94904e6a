"""The talent pool service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec
from talentpool.candidates.router import router as candidates_router
from talentpool.consumers import handlers
from talentpool.db import infra, metadata
from talentpool.settings import TalentpoolSettings

spec = ServiceSpec(
    name="talentpool",
    title="Recruiting talent pool",
    description="Every candidate's history across applications.",
    version="0.1.0",
    settings_class=TalentpoolSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[candidates_router],
    handlers=handlers,
    openapi_tags=[{"name": "candidates", "description": "Candidates and their timelines."}],
)


def create(settings: TalentpoolSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
