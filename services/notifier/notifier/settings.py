from __future__ import annotations

from datetime import time
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.directory import PipelineDirectorySettings


class NotifierSettings(PipelineDirectorySettings):
    """Candidates' contact data comes from the pipeline (``shared.directory``)."""

    service_name: ClassVar[str] = "notifier"
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_")

    port: int = 8003

    # What messages say and link to.
    company_name: str = "Recruiting"
    portal_url: str = "http://127.0.0.1:8001/portal"
    # Where this service is reached from outside: open pixels, click and unsubscribe links.
    public_url: str = "http://127.0.0.1:8003"
    # Signs click-redirect and unsubscribe links (HMAC-SHA256). Required in production; in
    # development and tests one is derived from the PII index key when unset.
    link_secret: SecretStr | None = None
    default_time_zone: str = "Asia/Shanghai"
    default_locale: str = "zh-CN"
    # Quiet hours for recipients who set none (their own zone, else the default zone); empty
    # both to have none. In-app messages and urgent kinds are never held.
    default_quiet_start: time | None = time(22, 0)
    default_quiet_end: time | None = time(8, 0)

    # Email over SMTP.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False  # implicit TLS (port 465)
    smtp_start_tls: bool = False
    smtp_from: str = "Recruiting <no-reply@example.com>"
    smtp_connections: int = Field(default=4, ge=1, le=64)
    smtp_timeout_s: float = Field(default=10.0, gt=0)

    # SMS through an HTTP gateway (the generic JSON adapter).
    sms_gateway_url: str = "http://127.0.0.1:9025/messages"
    sms_gateway_token: SecretStr | None = None
    sms_sender: str = "Recruiting"
    # The gateway signs its delivery receipts with this (HMAC-SHA256 of the body).
    sms_receipt_secret: SecretStr | None = None
    sms_timeout_s: float = Field(default=10.0, gt=0)
    # The email provider signs its bounce and delivery events with this (HMAC-SHA256 of the
    # body), posted to /v1/receipts/email.
    email_receipt_secret: SecretStr | None = None

    # Chat robots and customers' webhooks.
    chat_timeout_s: float = Field(default=10.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Allow webhooks and robots on loopback, private and link-local addresses (tests, on-premise).
    outbound_allow_private: bool = False
    webhook_require_https: bool = False
    # An endpoint failing without a success for this long is disabled.
    webhook_disable_after_days: float = Field(default=5.0, gt=0)

    # The dispatcher.
    dispatch_batch_size: int = Field(default=200, ge=1, le=5000)
    dispatch_concurrency: int = Field(default=32, ge=1, le=512)
    dispatch_poll_interval_s: float = Field(default=0.5, gt=0)
    # A delivery being sent is leased this long; a crash leaves it to be taken again after.
    dispatch_lease_s: float = Field(default=60.0, gt=0)
    # Retries of a transient failure (email, SMS, chat), with exponential backoff from the base.
    max_attempts: int = Field(default=6, ge=1, le=50)
    retry_base_s: float = Field(default=5.0, gt=0)
    # Outgoing webhooks: delays before each retry (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    webhook_retry_delays_s: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    # At most this many non-urgent messages to one recipient per rolling hour; the rest wait.
    throttle_per_hour: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _production_secrets(self) -> NotifierSettings:
        """In production, links are signed and the pipeline is asked with configured secrets,
        never with ones derived from other keys."""
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("link_secret", self.link_secret),
                    ("pipeline_token", self.pipeline_token),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)}")
        return self
