from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    service_name: ClassVar[str] = "scheduler"
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_")

    port: int = 8002

    # How long a candidate's invitation link stays valid after the invitation closes.
    invitation_link_grace_days: int = Field(default=7, ge=0, le=90)
    # Interview reminders, in minutes before the start (1 day and 2 hours by default).
    interview_reminder_minutes: list[int] = Field(default_factory=lambda: [24 * 60, 120])
