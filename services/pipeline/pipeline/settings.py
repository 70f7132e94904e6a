from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PipelineSettings(ServiceSettings):
    service_name: ClassVar[str] = "pipeline"
    model_config = SettingsConfigDict(env_prefix="PIPELINE_")

    port: int = 8001
