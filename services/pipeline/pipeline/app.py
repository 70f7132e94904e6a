"""The pipeline service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

# Imported for what they register: every table in the metadata, event and timer handlers.
import pipeline.ai_interviews.consumers
import pipeline.ai_interviews.timers
import pipeline.erasure.consumers
import pipeline.intake.consumers
import pipeline.messages.timers
import pipeline.models
import pipeline.results.timers  # noqa: F401  (the binding "pipeline" is shared by all of them)
from pipeline.ai_interviews.router import router as ai_interviews_router
from pipeline.analytics.router import router as analytics_router
from pipeline.applications.router import router as applications_router
from pipeline.calendar.router import router as calendar_router
from pipeline.candidates import service as candidates_service
from pipeline.candidates.router import router as candidates_router
from pipeline.consumers import handlers
from pipeline.db import infra, metadata
from pipeline.erasure.router import router as erasure_router
from pipeline.intake.router import router as intake_router
from pipeline.jobs.router import router as jobs_router
from pipeline.messages.router import router as messages_router
from pipeline.no_shows.router import router as no_shows_router
from pipeline.policies.router import router as policies_router
from pipeline.portal.router import router as portal_router
from pipeline.results.router import router as results_router
from pipeline.settings import PipelineSettings
from pipeline.templates.router import router as templates_router
from pipeline.timers import timer_handlers
from shared.clock import Clock
from shared.http.app import create_app
from shared.key_rotation import KeyRotation
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="pipeline",
    title="Recruiting pipeline",
    description=(
        "Jobs and their stage templates, applications moving through the stages, results "
        "released to candidates (at once or after approval), the candidate's own status view "
        "and messages, AI-interview vendor webhooks, and analytics."
    ),
    version="0.2.0",
    settings_class=PipelineSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[
        # Routes are matched in order, one regular expression each: the machine-driven ones
        # (vendors' webhooks, candidates' portal) come first, so their requests do not try the
        # sixty HR routes before theirs (7% of a webhook request's CPU).
        ai_interviews_router,
        portal_router,
        templates_router,
        jobs_router,
        intake_router,
        # Before applications, whose /v1/applications/{id} would take export.csv for an id.
        analytics_router,
        applications_router,
        policies_router,
        results_router,
        erasure_router,
        messages_router,
        calendar_router,
        no_shows_router,
        candidates_router,
    ],
    handlers=handlers,
    timer_handlers=timer_handlers,
    key_rotations=[KeyRotation("candidates", candidates_service.rotate_keys)],
    openapi_tags=[
        {"name": "templates", "description": "Reusable, versioned stage templates."},
        {"name": "jobs", "description": "Jobs and their stages."},
        {"name": "applications", "description": "Applications and their stage changes."},
        {"name": "policies", "description": "Result-release policies and rejection reasons."},
        {"name": "results", "description": "Results, their approval chains and release."},
        {"name": "portal", "description": "The candidate's own view, through a link token."},
        {"name": "messages", "description": "Candidate-HR messages."},
        {"name": "calendar", "description": "Holidays and make-up workdays."},
        {"name": "ai-interviews", "description": "AI-interview vendor webhooks and their state."},
        {"name": "no-shows", "description": "Candidates who did not turn up."},
        {"name": "analytics", "description": "Funnel, time in stage, SLAs, no-shows; exports."},
        {"name": "candidates", "description": "Contact data for the suite's own services."},
    ],
)


def create(settings: PipelineSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
