"""The notifier refuses to start in production without its own secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from notifier.settings import NotifierSettings
from shared.crypto import generate_key

_PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_secret": "s" * 40,
    "pii_keys": {"k1": generate_key()},
    "pii_index_key": generate_key(),
}


def test_production_needs_a_link_secret_and_a_pipeline_token() -> None:
    with pytest.raises(ValidationError, match="link_secret, pipeline_token"):
        NotifierSettings(**_PRODUCTION)


def test_production_starts_with_both() -> None:
    settings = NotifierSettings(**_PRODUCTION, link_secret="l" * 40, pipeline_token="t" * 40)
    assert settings.link_secret is not None and settings.pipeline_token is not None
