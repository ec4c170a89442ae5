"""Shared benchmark plumbing: a sandbox in its own process, so the server's CPU is not ours."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@contextmanager
def sandbox_process(customers: int, data_dir: Path | None = None, *extra: str) -> Iterator[dict[str, Any]]:
    """Start ``bc-tui sandbox serve`` on a free loopback port; yield its JSON info line."""
    with tempfile.TemporaryDirectory(prefix="bc-tui-bench-") as tmp:
        data = data_dir or Path(tmp)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bc_tui.cli",
                "sandbox",
                "serve",
                "--port",
                "0",
                "--data",
                str(data),
                "--customers",
                str(customers),
                *extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the sandbox did not start; run 'bc-tui sandbox serve' by hand to see why")
            info = json.loads(line)
            info["startup_s"] = time.perf_counter() - started
            yield info
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@dataclass
class Measurement:
    label: str
    records: int
    seconds: float
    peak_mib: float

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else float("inf")
        return (
            f"{self.label:<46} {self.records:>8,} records  {self.seconds:7.2f} s  "
            f"{rate:>9,.0f} records/s  peak {self.peak_mib:7.1f} MiB"
        )


async def measure(label: str, run: Callable[[], Awaitable[int]]) -> Measurement:
    """Time one pass, then measure Python heap peak in a second pass (tracemalloc slows a pass)."""
    started = time.perf_counter()
    records = await run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    await run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measurement(label, records, seconds, peak / 2**20)


def max_rss_mib() -> float:
    """This process's peak resident set size so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def raw_token(info: dict[str, Any], scope: str, client: httpx.AsyncClient | None = None) -> str:
    """A bearer token for ``scope`` from the sandbox's token endpoint, by a bare client-credentials
    POST: the raw-httpx baselines sign in without the connectors."""
    async with httpx.AsyncClient() if client is None else _borrowed(client) as http:
        answer = await http.post(
            info["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "scope": scope,
            },
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


@asynccontextmanager
async def _borrowed(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """``client`` as a context manager that leaves it open (the caller owns it)."""
    yield client
