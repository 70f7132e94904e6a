"""The scheduler service's spec and app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

# Imported for what they register: every table in the metadata, timer and event handlers.
import scheduler.erasure
import scheduler.interviews.timers
import scheduler.invitations.consumers
import scheduler.invitations.reinvitations
import scheduler.invitations.timers
import scheduler.models  # noqa: F401
from scheduler.busy_blocks.router import router as busy_blocks_router
from scheduler.calendars.router import router as calendars_router
from scheduler.consumers import handlers
from scheduler.db import infra, metadata
from scheduler.interview_needs.router import router as interview_needs_router
from scheduler.interviewers.router import router as interviewers_router
from scheduler.interviews.router import router as interviews_router
from scheduler.invitations.router import router as invitations_router
from scheduler.proposals.router import router as proposals_router
from scheduler.rooms.router import router as rooms_router
from scheduler.settings import SchedulerSettings
from scheduler.timers import timer_handlers
from shared.clock import Clock
from shared.http.app import create_app
from shared.service import ServiceSpec

spec = ServiceSpec(
    name="scheduler",
    title="Recruiting scheduler",
    description=(
        "Interviewers, rooms, working hours, busy time and holidays; ranked interview slots for "
        "a panel and a room; invitations with deadlines, reminders and expiry; bookings that "
        "never collide; interview reminders."
    ),
    version="0.2.0",
    settings_class=SchedulerSettings,
    metadata=metadata,
    infra=infra,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[
        interviewers_router,
        rooms_router,
        calendars_router,
        busy_blocks_router,
        proposals_router,
        invitations_router,
        interviews_router,
        interview_needs_router,
    ],
    handlers=handlers,
    timer_handlers=timer_handlers,
    extensions=("btree_gist",),
    openapi_tags=[
        {"name": "interviewers", "description": "Interviewers, working hours, pools, overrides."},
        {"name": "rooms", "description": "Interview rooms."},
        {"name": "calendars", "description": "Holiday calendars and their days."},
        {"name": "busy-blocks", "description": "Busy time: API, bulk upsert, iCalendar feeds."},
        {"name": "proposals", "description": "Ranked interview slots, and why none fit."},
        {
            "name": "invitations",
            "description": "Invitations with deadlines, and the candidate's link.",
        },
        {"name": "interviews", "description": "Bookings, confirmations, reschedules, cancels."},
        {"name": "interview needs", "description": "Applications waiting for an interview."},
    ],
)


def create(settings: SchedulerSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_app(spec, settings, clock=clock)
