"""Service settings: one pydantic-settings class per service, read from the environment.

Each service reads ``<SERVICE>_<FIELD>`` first, then the suite-wide ``RECRUITING_<FIELD>``,
then ``.env``, then the defaults below, which suit a developer machine running PostgreSQL and
RabbitMQ locally.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shared.crypto import KID_PATTERN, check_key_id, decode_key

SUITE_ENV_PREFIX = "RECRUITING_"
# The dotenv file to read; RECRUITING_ENV_FILE="" turns it off (tests do, so a developer's .env
# can never point a test run at real data).
ENV_FILE: str | None = os.environ.get("RECRUITING_ENV_FILE", ".env") or None
DEFAULT_DATABASE_NAME = "recruiting"
DEFAULT_PG_HOST = "127.0.0.1:5432"


class ServiceSettings(BaseSettings):
    """Base settings; a service subclasses it, sets ``service_name`` and its env prefix."""

    service_name: ClassVar[str] = ""

    # Errors name the field but never echo its value: it may be a key or a password.
    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # PostgreSQL. The service connects as its own role, which may touch only its schema.
    database_url: str = (
        ""  # default: postgresql+asyncpg://<service>@<database_host>/<database_name>
    )
    database_host: str = DEFAULT_PG_HOST
    database_password: SecretStr | None = None
    admin_database_url: str = f"postgresql+asyncpg://postgres@{DEFAULT_PG_HOST}/postgres"
    database_name: str = DEFAULT_DATABASE_NAME
    # Opened as needed and then kept: an overflow connection is closed as soon as it is given
    # back, so under steady load beyond the pool every request paid for a new connection
    # (and PostgreSQL for a new backend). The same 15 at most, none of them thrown away.
    db_pool_size: int = Field(default=15, ge=1, le=100)
    db_max_overflow: int = Field(default=0, ge=0, le=100)
    db_connect_timeout_s: float = Field(default=2.0, gt=0)
    db_pool_timeout_s: float = Field(default=2.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)

    # RabbitMQ.
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    broker_namespace: str = Field(default="recruiting", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    broker_prefetch: int = Field(default=200, ge=1, le=5000)
    broker_reconnect_interval_s: float = Field(default=2.0, gt=0)
    # Delays before each retry of a failed event handler; after the last the event is parked.
    retry_delays_ms: list[int] = Field(default_factory=lambda: [1_000, 10_000, 60_000])
    delivery_limit: int = Field(default=20, ge=1)
    # Consumer workers per process; each handles whatever is waiting (up to the batch size) in
    # one transaction. Few workers make batches form under load; services whose handlers wait
    # on slow third parties may want more workers and smaller batches.
    consumer_workers: int = Field(default=2, ge=1, le=64)
    consumer_max_batch: int = Field(default=100, ge=1, le=1000)

    # Which background components this process runs (all of them by default).
    run_relay: bool = True
    run_consumers: bool = True
    run_timers: bool = True
    run_workers: bool = True  # the service's own background loops (ServiceSpec.workers)

    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    outbox_retention_hours: float = Field(default=72.0, gt=0)
    inbox_retention_hours: float = Field(default=24.0 * 30, gt=0)
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    # A received webhook-id is remembered this long: a sender's retry within it is a replay
    # (answered, nothing done again). Standard Webhooks senders give up after a few days.
    webhook_receipt_retention_hours: float = Field(default=24.0 * 30, gt=0)
    housekeeping_interval_s: float = Field(default=300.0, gt=0)

    timer_poll_interval_s: float = Field(default=1.0, gt=0)
    # Due timers claimed per transaction; a batch handler gets all of its kind at once.
    timer_batch_size: int = Field(default=1_000, ge=1, le=10_000)
    timer_max_attempts: int = Field(default=10, ge=1)

    # HTTP.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # Bearer JWTs for HR, interviewers and admins.
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: int = Field(default=30, ge=0, le=300)

    # Personal data at rest (shared.crypto): AES-256-GCM keys by id, JSON {"kid": "<base64 of
    # 32 bytes>"}; the current one encrypts, any decrypts (rotation). The index key makes the
    # keyed blind indexes used to look up equal values. Required in production.
    pii_keys: dict[str, SecretStr] = Field(default_factory=dict)
    pii_current_key: str | None = Field(default=None, pattern=KID_PATTERN)
    pii_index_key: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        suite_env = EnvSettingsSource(settings_cls, env_prefix=SUITE_ENV_PREFIX)
        env_file = cls.model_config.get("env_file")
        suite_dotenv = DotEnvSettingsSource(
            settings_cls, env_file=env_file, env_prefix=SUITE_ENV_PREFIX
        )
        return (
            init_settings,
            env_settings,
            suite_env,
            dotenv_settings,
            suite_dotenv,
            file_secret_settings,
        )

    @field_validator("retry_delays_ms")
    @classmethod
    def _retry_delays_positive(cls, value: list[int]) -> list[int]:
        if any(delay <= 0 for delay in value):
            raise ValueError("retry delays must be positive milliseconds")
        return value

    @field_validator("pii_keys")
    @classmethod
    def _pii_keys_well_formed(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for kid, key in value.items():
            check_key_id(kid)
            try:
                decode_key(key.get_secret_value())
            except ValueError as error:
                raise ValueError(f"key {kid!r} {error}") from None
        return value

    @field_validator("pii_index_key")
    @classmethod
    def _pii_index_key_well_formed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _pii_current_key_is_a_key(self) -> ServiceSettings:
        if self.pii_current_key is not None and self.pii_current_key not in self.pii_keys:
            raise ValueError("pii_current_key must name one of pii_keys")
        if self.pii_current_key is None and len(self.pii_keys) > 1:
            raise ValueError("pii_current_key must name the key that encrypts (several keys)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _default_database_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("database_url"):
            name = data.get("database_name") or DEFAULT_DATABASE_NAME
            host = data.get("database_host") or DEFAULT_PG_HOST
            data["database_url"] = f"postgresql+asyncpg://{cls.service_name}@{host}/{name}"
        return data

    @model_validator(mode="after")
    def _production_is_safe(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        if self.jwt_algorithm == "HS256":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < 32:
                raise ValueError("production needs RS256, or an HS256 secret of 32+ characters")
        elif not (self.jwt_public_key or self.jwt_jwks_url):
            raise ValueError("RS256 needs jwt_public_key or jwt_jwks_url")
        if not self.pii_keys or self.pii_index_key is None:
            raise ValueError(
                "production needs pii_keys and pii_index_key to encrypt personal data "
                "(see docs/deployment.md)"
            )
        return self

    # Shadows pydantic's deprecated v1 ``schema()`` classmethod, which nothing here uses.
    @property
    def schema(self) -> str:  # type: ignore[override]
        return self.service_name

    @property
    def role(self) -> str:
        return self.service_name
