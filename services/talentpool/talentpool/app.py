"""The talent pool service's spec and app factory."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI

import talentpool.campaigns.timers
import talentpool.models
import talentpool.tags.timers
from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec
from talentpool.campaigns.router import router as campaigns_router
from talentpool.consents.router import router as consents_router
from talentpool.consumers import handlers
from talentpool.db import infra, metadata
from talentpool.erasure.router import router as erasure_router
from talentpool.no_shows.router import router as no_shows_router
from talentpool.profiles.matching import matcher
from talentpool.profiles.router import router as profiles_router
from talentpool.profiles.service import KEY_ROTATIONS
from talentpool.recommendations.router import router as recommendations_router
from talentpool.segments.router import router as segments_router
from talentpool.settings import TalentpoolSettings
from talentpool.tags.router import router as tags_router
from talentpool.timeline.router import router as timeline_router
from talentpool.timers import timer_handlers

__all__ = ["create", "spec"]
# Imported for what they register: every table on the metadata, the domains' timer handlers.
_REGISTERED = (talentpool.models, talentpool.campaigns.timers, talentpool.tags.timers)

# The domains' event handlers. Within a consumer batch, batch handlers run in the order they were
# registered, so the order matters: the profiles (which create people and their timelines) come
# before the rules that tag them, the outcomes of re-invitations, campaigns and erasure.
for _domain in ("profiles", "tags", "reinvitations", "campaigns", "erasure"):
    importlib.import_module(f"talentpool.{_domain}.consumers")

spec = ServiceSpec(
    name="talentpool",
    title="Recruiting talent pool",
    description=(
        "Every candidate's history across applications: profiles, timelines, tags, engagement, "
        "segments, re-engagement campaigns, recommendations for urgent openings, the no-show "
        "group, consent, retention and erasure."
    ),
    version="0.2.0",
    settings_class=TalentpoolSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[
        profiles_router,
        timeline_router,
        tags_router,
        consents_router,
        segments_router,
        campaigns_router,
        recommendations_router,
        no_shows_router,
        erasure_router,
    ],
    handlers=handlers,
    timer_handlers=timer_handlers,
    workers=[matcher],
    key_rotations=KEY_ROTATIONS,
    openapi_tags=[
        {"name": "profiles", "description": "People in the pool, merging and unmerging."},
        {"name": "timeline", "description": "What happened to a person, across applications."},
        {"name": "tags", "description": "Tags, tag rules and tag history."},
        {"name": "consents", "description": "Consent per purpose."},
        {"name": "segments", "description": "Saved filters over the pool."},
        {"name": "campaigns", "description": "Re-engagement campaigns."},
        {"name": "recommendations", "description": "Past candidates for an urgent opening."},
        {"name": "no_shows", "description": "Who never took their AI interview."},
        {"name": "erasure", "description": "Erasure on request and by retention."},
    ],
)


def create(settings: TalentpoolSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
