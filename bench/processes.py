"""Child processes of a benchmark: services under test, floors, load generators.

Each child runs in its own session with its output in a log file in the run's work directory,
and is stopped by its own pid (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


class ChildFailed(RuntimeError):
    pass


_DISTURBANCES = {
    "broker.connect_failed": "could not reach RabbitMQ",
    "aio_pika.robust_connection": "lost its RabbitMQ connection",
    "db.unavailable": "lost the database",
}


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def disturbances(self) -> list[str]:
        """Signs in the child's log that the broker or the database went away while it ran
        (another test run restarting RabbitMQ, say), which makes its figures meaningless."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [
            f"{self.name}: {meaning}" for marker, meaning in _DISTURBANCES.items() if marker in text
        ]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the child has used so far; 0.0 where /proc is missing."""
        return cpu_seconds(self.process.pid)

    def check_alive(self) -> None:
        if self.process.returncode is not None:
            raise ChildFailed(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )


def cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start(
    name: str,
    args: Sequence[str],
    *,
    env: dict[str, str],
    workdir: Path,
    capture_stdout: bool = False,
    python: bool = True,
) -> Child:
    """Start ``python args...`` (or ``args`` as given when ``python`` is false)."""
    log_path = workdir / f"{name}.log"
    argv = [sys.executable, *args] if python else list(args)
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if capture_stdout else log,
            stderr=log,
            start_new_session=True,
        )
    return Child(name, process, log_path)


async def stop(child: Child, grace_s: float = 20.0) -> None:
    process = child.process
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        await process.wait()


async def wait_http_ok(child: Child, url: str, timeout_s: float = 60.0) -> None:
    """Until ``url`` answers 200 (for a service: ``/readyz``, so broker and consumers are up)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            child.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ChildFailed(f"{child.name} not ready after {timeout_s}s:\n{child.log_tail()}")
            await asyncio.sleep(0.1)


async def wait_port(child: Child, port: int, timeout_s: float = 60.0) -> None:
    """Until something accepts connections on ``port`` (uvicorn binds after its startup)."""
    deadline = time.monotonic() + timeout_s
    while True:
        child.check_alive()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"{child.name} not listening after {timeout_s}s:\n{child.log_tail()}"
                ) from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


@asynccontextmanager
async def service(
    name: str,
    module: str,
    *,
    env: dict[str, str],
    workdir: Path,
    port: int,
    ready_path: str | None = "/readyz",
) -> AsyncIterator[Child]:
    """``python -m <module> serve --port <port>``, ready when ``ready_path`` answers 200 (or,
    without one, when the port accepts connections); stopped on exit."""
    child = await start(
        name, ["-m", module, "serve", "--port", str(port)], env=env, workdir=workdir
    )
    try:
        if ready_path is None:
            await wait_port(child, port)
        else:
            await wait_http_ok(child, f"http://127.0.0.1:{port}{ready_path}")
        yield child
    finally:
        await stop(child)
