"""Settings: the service's own variable beats the suite-wide one, which beats the default; and
production refuses to start with weak token verification."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.support import testkit

STRONG_SECRET = "s" * 32


def test_service_variable_beats_suite_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECRUITING_OUTBOX_BATCH_SIZE", "7")
    monkeypatch.setenv("TESTKIT_OUTBOX_BATCH_SIZE", "9")

    assert testkit.TestkitSettings().outbox_batch_size == 9


def test_suite_variable_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESTKIT_OUTBOX_BATCH_SIZE", raising=False)
    monkeypatch.setenv("RECRUITING_OUTBOX_BATCH_SIZE", "7")

    assert testkit.TestkitSettings().outbox_batch_size == 7


def test_default_applies_when_no_variable_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESTKIT_OUTBOX_BATCH_SIZE", raising=False)
    monkeypatch.delenv("RECRUITING_OUTBOX_BATCH_SIZE", raising=False)

    assert testkit.TestkitSettings().outbox_batch_size == 500


def test_dotenv_comes_after_both_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TESTKIT_OUTBOX_BATCH_SIZE=11\nTESTKIT_TIMER_BATCH_SIZE=12\n")
    monkeypatch.setenv("RECRUITING_OUTBOX_BATCH_SIZE", "7")
    monkeypatch.delenv("TESTKIT_TIMER_BATCH_SIZE", raising=False)
    monkeypatch.delenv("RECRUITING_TIMER_BATCH_SIZE", raising=False)

    settings = testkit.TestkitSettings(_env_file=dotenv)

    assert settings.outbox_batch_size == 7
    assert settings.timer_batch_size == 12


def test_explicit_argument_beats_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECRUITING_OUTBOX_BATCH_SIZE", "7")
    monkeypatch.setenv("TESTKIT_OUTBOX_BATCH_SIZE", "9")

    assert testkit.TestkitSettings(outbox_batch_size=3).outbox_batch_size == 3


def test_invalid_value_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTKIT_OUTBOX_BATCH_SIZE", "0")

    with pytest.raises(ValidationError, match="outbox_batch_size"):
        testkit.TestkitSettings()


def test_database_url_defaults_to_the_service_role_and_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TESTKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("RECRUITING_DATABASE_URL", raising=False)
    monkeypatch.setenv("RECRUITING_DATABASE_NAME", "hiring")

    settings = testkit.TestkitSettings()

    assert settings.database_url == "postgresql+asyncpg://testkit@127.0.0.1:5432/hiring"
    assert settings.role == settings.schema == "testkit"


@pytest.mark.parametrize("secret", [None, "", "s" * 31], ids=["none", "empty", "31-chars"])
def test_production_refuses_a_short_hs256_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="32"):
        testkit.TestkitSettings(environment="production", jwt_algorithm="HS256", jwt_secret=secret)


def test_production_accepts_a_32_character_hs256_secret() -> None:
    settings = testkit.TestkitSettings(environment="production", jwt_secret=STRONG_SECRET)

    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == STRONG_SECRET


def test_production_refuses_rs256_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWT_PUBLIC_KEY", "JWT_JWKS_URL"):
        monkeypatch.delenv(f"TESTKIT_{name}", raising=False)
        monkeypatch.delenv(f"RECRUITING_{name}", raising=False)

    with pytest.raises(ValidationError, match="RS256"):
        testkit.TestkitSettings(environment="production", jwt_algorithm="RS256")


@pytest.mark.parametrize(
    ("public_key", "jwks_url"),
    [
        ("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----", None),
        (None, "https://login.example.test/.well-known/jwks.json"),
    ],
    ids=["public-key", "jwks-url"],
)
def test_production_accepts_rs256_with_a_key(public_key: str | None, jwks_url: str | None) -> None:
    settings = testkit.TestkitSettings(
        environment="production",
        jwt_algorithm="RS256",
        jwt_public_key=public_key,
        jwt_jwks_url=jwks_url,
    )

    assert settings.jwt_algorithm == "RS256"


def test_development_tolerates_a_short_secret() -> None:
    settings = testkit.TestkitSettings(environment="development", jwt_secret="dev")

    assert settings.environment == "development"
