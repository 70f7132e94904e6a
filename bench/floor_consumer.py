"""The event floor's consumer: raw aio-pika, one ack per message, no database.

Declares a durable quorum queue bound to a topic exchange (the shape of a service queue),
consumes with the same prefetch as our services, and reports on stdout, one JSON line each:
when it is consuming, and the moment it acks each checkpoint's message (cumulative counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aio_pika
import uvloop
from aio_pika.abc import AbstractIncomingMessage


def _say(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def consume(args: argparse.Namespace) -> None:
    connection = await aio_pika.connect(args.amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=args.prefetch)
        exchange = await channel.declare_exchange(
            args.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            args.queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(exchange, routing_key=args.routing_key)
        checkpoints = {int(value) for value in args.checkpoints.split(",")}
        last = max(checkpoints)
        acked = 0
        finished = asyncio.Event()

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal acked
            await message.ack()
            acked += 1
            if acked in checkpoints:
                _say(event="acked", count=acked, at=time.time())
            if acked == last:
                finished.set()

        await queue.consume(on_message, no_ack=False)
        _say(event="consuming")
        await finished.wait()
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--routing-key", required=True)
    parser.add_argument("--prefetch", type=int, required=True)
    parser.add_argument(
        "--checkpoints", required=True, help="comma-separated cumulative counts to report"
    )
    uvloop.run(consume(parser.parse_args()))


if __name__ == "__main__":
    main()
