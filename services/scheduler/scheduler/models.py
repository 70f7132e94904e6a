"""Every table of the scheduler, imported so the metadata (and Alembic) sees them all."""

from __future__ import annotations

from scheduler.busy_blocks.models import BusyBlock, CalendarFeed
from scheduler.calendars.models import HolidayCalendar, HolidayCalendarDay
from scheduler.interview_needs.models import ApplicationStage, InterviewNeed
from scheduler.interviewers.models import AvailabilityOverride, Interviewer, Pool, PoolMember
from scheduler.interviews.models import Booking, Interview, InterviewParticipant
from scheduler.invitations.models import Invitation, InvitationPolicy
from scheduler.jobs.models import Job
from scheduler.proposals.models import Proposal
from scheduler.rooms.models import Room

__all__ = [
    "ApplicationStage",
    "AvailabilityOverride",
    "Booking",
    "BusyBlock",
    "CalendarFeed",
    "HolidayCalendar",
    "HolidayCalendarDay",
    "Interview",
    "InterviewNeed",
    "InterviewParticipant",
    "Interviewer",
    "Invitation",
    "InvitationPolicy",
    "Job",
    "Pool",
    "PoolMember",
    "Proposal",
    "Room",
]
