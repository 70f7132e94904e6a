"""Every table of the pipeline, imported so the metadata (and Alembic) sees them all."""

from __future__ import annotations

from pipeline.ai_interviews.models import AiInterview, UnmatchedDelivery
from pipeline.applications.models import Application, StageChange
from pipeline.calendar.models import CalendarDay
from pipeline.candidates.models import Candidate
from pipeline.jobs.models import Job
from pipeline.messages.models import Message
from pipeline.no_shows.models import NoShow
from pipeline.policies.models import RejectionReason, ReleasePolicy
from pipeline.results.models import ApprovalStep, Result
from pipeline.templates.models import StageTemplate, StageTemplateVersion

__all__ = [
    "AiInterview",
    "Application",
    "ApprovalStep",
    "CalendarDay",
    "Candidate",
    "Job",
    "Message",
    "NoShow",
    "RejectionReason",
    "ReleasePolicy",
    "Result",
    "StageChange",
    "StageTemplate",
    "StageTemplateVersion",
    "UnmatchedDelivery",
]
