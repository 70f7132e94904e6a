from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PipelineSettings(ServiceSettings):
    service_name: ClassVar[str] = "pipeline"
    model_config = SettingsConfigDict(env_prefix="PIPELINE_")

    port: int = 8001

    # AI-interview vendors allowed to post webhooks, each with its Standard Webhooks secrets
    # (``whsec_...``); two at once while a secret is rotated. JSON: {"vendor": ["whsec_..."]}.
    # Smaller timer batches than the suite's default: the timer loop shares its process with
    # the requests of vendors and candidates, and a batch's Python work between two database
    # round trips holds every request waiting meanwhile.
    timer_batch_size: int = Field(default=200, ge=1, le=10_000)
    vendor_secrets: dict[str, list[SecretStr]] = Field(default_factory=dict)
    # How long a candidate's status link stays valid.
    candidate_link_ttl_days: int = Field(default=90, ge=1, le=365)
    # A candidate's message unanswered this long raises ``message_unanswered`` for HR.
    message_unanswered_after_minutes: int = Field(default=24 * 60, ge=1)
