from __future__ import annotations

import asyncpg

from tests.support import testkit
from tests.support.running import running, wait_for
from tests.support.tokens import auth


async def test_created_note_is_published_and_handled(db: asyncpg.Connection) -> None:
    async with running(testkit.spec) as service:
        created = await service.client.post("/v1/notes", json={"text": "hello"}, headers=auth())
        assert created.status_code == 201

        async def handled() -> list[str]:
            rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'ping'")
            return [r["note"] for r in rows]

        assert await wait_for(handled, timeout=10) == ["hello"]
        ready = await service.client.get("/readyz")
        assert ready.json()["checks"] == {
            "database": True, "broker": True, "consumer": True, "relay": True, "timers": True
        }
