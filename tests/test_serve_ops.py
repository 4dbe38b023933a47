"""'carnews serve --scheduler' as an operator runs it: the leader shows in /healthz from its
start, and a SIGTERM stops it cleanly, lease given back, so it is not taken for dead."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from carnews.demo.servers import free_port
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.leases import SCHEDULER_LEASE, lease_state


async def scheduler_state(client: httpx.AsyncClient, port: int) -> Any:
    try:
        answer = await client.get(f"http://127.0.0.1:{port}/healthz")
    except httpx.TransportError:
        return None  # not listening yet
    return answer.json()["scheduler"]["state"]


async def test_serve_runs_the_scheduler_and_gives_its_lease_back_on_sigterm(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    environment["CARNEWS_DATABASE_URL"] = settings.database.url
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "carnews", "serve", "--scheduler", "--port", str(port),
        cwd=tmp_path, env=environment, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(120), httpx.AsyncClient() as client:  # a bound on a hang
            while await scheduler_state(client, port) != "running":
                assert server.returncode is None, "serve stopped before it answered"
                await asyncio.sleep(0.2)
        assert await lease_state(db, SCHEDULER_LEASE) is not None
        server.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            await server.wait()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert await lease_state(db, SCHEDULER_LEASE) is None, "a clean stop gives the lease up"
