from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TalentpoolSettings(ServiceSettings):
    service_name: ClassVar[str] = "talentpool"
    model_config = SettingsConfigDict(env_prefix="TALENTPOOL_")

    port: int = 8004
