from __future__ import annotations

from tests.support import testkit
from tests.support.running import api
from tests.support.tokens import auth


async def test_note_is_created_and_read_back() -> None:
    async with api(testkit.spec) as service:
        created = await service.client.post("/v1/notes", json={"text": "hi"}, headers=auth())
        assert created.status_code == 201, created.text
        fetched = await service.client.get(created.headers["location"], headers=auth())
        assert fetched.json()["text"] == "hi"
