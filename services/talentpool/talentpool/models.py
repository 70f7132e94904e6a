"""Every table of the talent pool, imported so the metadata (and Alembic) sees them all."""

from __future__ import annotations

from talentpool.campaigns.models import Campaign, CampaignRecipient, CandidateSubscription
from talentpool.consents.models import Consent
from talentpool.erasure.models import ErasureConfirmation, ErasureRequest
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.models import Profile, ProfileMember, ProfileMerge, ProfileNote
from talentpool.reinvitations.models import Reinvitation
from talentpool.segments.models import Segment
from talentpool.tags.models import ProfileTag, TagChange, TagRule
from talentpool.timeline.models import TimelineEntry

__all__ = [
    "ApplicationRecord",
    "Campaign",
    "CampaignRecipient",
    "CandidateSubscription",
    "Consent",
    "ErasureConfirmation",
    "ErasureRequest",
    "Job",
    "Profile",
    "ProfileMember",
    "ProfileMerge",
    "ProfileNote",
    "ProfileTag",
    "Reinvitation",
    "Segment",
    "TagChange",
    "TagRule",
    "TimelineEntry",
]
