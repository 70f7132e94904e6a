"""Test-run wide settings, applied to the environment before any service settings are read,
so every app built in-process and every service process started by a test inherits them."""

from __future__ import annotations

import json
import os
import secrets

from shared.crypto import generate_key

RUN_ID = secrets.token_hex(4)
DATABASE = f"recruiting_test_{RUN_ID}"
BROKER_NAMESPACE = f"test-{RUN_ID}"
JWT_SECRET = "test-jwt-secret-" + secrets.token_hex(16)
# Personal-data keys of this run only: generated, never stored anywhere.
PII_KEYS = {"test-1": generate_key()}
PII_INDEX_KEY = generate_key()
ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def apply() -> None:
    os.environ.update(
        {
            "RECRUITING_ENVIRONMENT": "test",
            "RECRUITING_ENV_FILE": "",
            "RECRUITING_DATABASE_NAME": DATABASE,
            "RECRUITING_ADMIN_DATABASE_URL": ADMIN_URL,
            "RECRUITING_AMQP_URL": AMQP_URL,
            "RECRUITING_BROKER_NAMESPACE": BROKER_NAMESPACE,
            "RECRUITING_JWT_SECRET": JWT_SECRET,
            "RECRUITING_PII_KEYS": json.dumps(PII_KEYS),
            "RECRUITING_PII_CURRENT_KEY": "test-1",
            "RECRUITING_PII_INDEX_KEY": PII_INDEX_KEY,
            "RECRUITING_LOG_LEVEL": "WARNING",
            # Short retry delays so retry-then-park paths run in test time.
            "RECRUITING_RETRY_DELAYS_MS": "[200, 400]",
            "RECRUITING_OUTBOX_POLL_INTERVAL_S": "0.5",
            "RECRUITING_TIMER_POLL_INTERVAL_S": "0.2",
            "RECRUITING_BROKER_RECONNECT_INTERVAL_S": "0.5",
        }
    )
