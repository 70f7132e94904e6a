from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pipeline.app import spec as pipeline_spec
from tests.support.running import Running, api


@pytest.fixture
async def pipeline() -> AsyncIterator[Running]:
    """The pipeline's HTTP side only: outbox rows stay unpublished, so tests can inspect them."""
    async with api(pipeline_spec) as service:
        yield service
