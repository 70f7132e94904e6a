from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.directory import PipelineDirectorySettings


class TalentpoolSettings(PipelineDirectorySettings):
    """The pool reads candidates' contact data from the pipeline (``shared.directory``) to match
    people by keyed blind indexes of their email and phone."""

    service_name: ClassVar[str] = "talentpool"
    model_config = SettingsConfigDict(env_prefix="TALENTPOOL_")

    port: int = 8004

    # Ingestion comes in bursts (a bulk import, a campaign's invitations, a vendor catching up):
    # bigger batches share each batch's few statements among more events, and more workers keep
    # the database busy while one batch's results are acknowledged (bench/talentpool_ingest.py).
    consumer_workers: int = Field(default=4, ge=1, le=64)
    consumer_max_batch: int = Field(default=250, ge=1, le=1000)
    broker_prefetch: int = Field(default=1000, ge=1, le=5000)

    # Matching: how many new candidates the matcher reads from the pipeline per round, and how
    # long it waits when there is nothing to do.
    matching_batch: int = Field(default=200, ge=1, le=500)
    matching_idle_s: float = Field(default=1.0, gt=0)

    # Retention (PIPL): a person without consent to stay in the pool is anonymized this many
    # days after their last application ended (rejected, withdrawn); anyone is anonymized
    # this many days after their last activity.
    retention_after_rejection_days: int = Field(default=180, ge=1)
    retention_after_activity_days: int = Field(default=730, ge=1)
    retention_sweep_interval_s: float = Field(default=3600.0, gt=0)
