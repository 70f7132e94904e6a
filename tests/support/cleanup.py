"""The suite's schemas, and how the state a test leaves behind is removed: every table back to
what the migrations left, and (when the test used the broker) every queue of the run emptied."""

from __future__ import annotations

import asyncpg
from aio_pika.abc import AbstractRobustConnection

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from talentpool.app import spec as talentpool_spec
from tests.support import broker, database, testkit

SPECS = [pipeline_spec, scheduler_spec, notifier_spec, talentpool_spec, testkit.spec]
SCHEMAS = [spec.name for spec in SPECS]


async def clean(connection: asyncpg.Connection, amqp: AbstractRobustConnection | None) -> None:
    await database.truncate_all(connection, SCHEMAS)
    if amqp is not None:
        await broker.purge(
            amqp, [name for schema in SCHEMAS for name in broker.topology(schema).all_queues()]
        )
