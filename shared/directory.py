"""The pipeline's candidate directory, for the services that need a candidate's contact data
(the notifier to send, the talent pool to match people): the pipeline answers a service token
with the scope ``candidates:contact``; one call looks up a whole batch."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from pydantic import Field, SecretStr

from shared.auth.principal import Role
from shared.devtoken import mint
from shared.logging import get_logger
from shared.settings import ServiceSettings

log = get_logger(__name__)

CONTACT_SCOPE = "candidates:contact"
LOOKUP_PATH = "/v1/candidate-contacts/lookup"
MAX_LOOKUP = 500
_MINTED_TTL_S = 3600


class PipelineDirectorySettings(ServiceSettings):
    """Base settings of a service that asks the pipeline for contacts. In development a token
    is minted from the JWT secret when none is configured; production needs one."""

    pipeline_url: str = "http://127.0.0.1:8001"
    pipeline_token: SecretStr | None = None
    pipeline_timeout_s: float = Field(default=5.0, gt=0)


@dataclass(frozen=True)
class CandidateContact:
    full_name: str
    email: str | None
    phone: str | None
    locale: str


class DirectoryUnavailable(Exception):
    """The pipeline could not answer now; the deliveries waiting for it are tried later."""


class CandidateDirectory:
    def __init__(self, settings: PipelineDirectorySettings, client: httpx.AsyncClient) -> None:
        self._url = settings.pipeline_url.rstrip("/") + LOOKUP_PATH
        self._settings = settings
        self._client = client
        self._minted: tuple[str, float] | None = None

    def _token(self) -> str:
        if self._settings.pipeline_token is not None:
            return self._settings.pipeline_token.get_secret_value()
        secret = self._settings.jwt_secret
        if secret is None or self._settings.environment == "production":
            raise DirectoryUnavailable("no token for the pipeline (<SERVICE>_PIPELINE_TOKEN)")
        if self._minted is None or self._minted[1] < time.time() + 60:
            token = mint(
                secret.get_secret_value(),
                subject=self._settings.service_name,
                role=Role.SERVICE,
                scopes=[CONTACT_SCOPE],
                ttl_s=_MINTED_TTL_S,
            )
            self._minted = (token, time.time() + _MINTED_TTL_S)
        return self._minted[0]

    async def contacts(
        self, candidate_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, CandidateContact]:
        """The contacts of those candidates the pipeline knows; raises ``DirectoryUnavailable``
        when it cannot answer (down, slow, refusing our token)."""
        wanted = list(dict.fromkeys(candidate_ids))
        found: dict[uuid.UUID, CandidateContact] = {}
        for start in range(0, len(wanted), MAX_LOOKUP):
            chunk = wanted[start : start + MAX_LOOKUP]
            found.update(await self._lookup(chunk))
        return found

    async def _lookup(self, chunk: list[uuid.UUID]) -> dict[uuid.UUID, CandidateContact]:
        try:
            response = await self._client.post(
                self._url,
                json={"candidate_ids": [str(candidate_id) for candidate_id in chunk]},
                headers={"Authorization": f"Bearer {self._token()}"},
                timeout=self._settings.pipeline_timeout_s,
            )
        except httpx.HTTPError as error:
            raise DirectoryUnavailable(f"pipeline unreachable ({type(error).__name__})") from None
        if response.status_code != 200:
            log.warning("candidates.lookup_refused", status=response.status_code)
            raise DirectoryUnavailable(f"pipeline answered {response.status_code}")
        try:
            items = response.json()["items"]
            return {
                uuid.UUID(item["id"]): CandidateContact(
                    full_name=item["full_name"],
                    email=item.get("email"),
                    phone=item.get("phone"),
                    locale=item.get("locale") or "zh-CN",
                )
                for item in items
            }
        except (ValueError, KeyError, TypeError):
            raise DirectoryUnavailable("pipeline answered an unexpected body") from None
