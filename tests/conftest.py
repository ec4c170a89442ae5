"""Fixtures shared by every test package: the sandbox, in process and over loopback."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.sandbox.app import create_app, sandbox_info as make_sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.server import RunningSandbox, start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store.couplings import CouplingRecord, SyncResult, record_sync_result


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A small deterministic sandbox kept in memory (50 customers, no knobs)."""
    return SandboxSettings(data_dir=None, customers=50)


@pytest.fixture
def sandbox_app(sandbox_settings: SandboxSettings) -> Starlette:
    """The sandbox application (seeded, in memory); ``app.state.store`` is its entity store."""
    return create_app(sandbox_settings)


@pytest.fixture
def sandbox_info(sandbox_settings: SandboxSettings) -> dict[str, Any]:
    """Connection details of the in-process sandbox (origin ``http://sandbox``)."""
    return make_sandbox_info(sandbox_settings, ORIGIN)


@pytest.fixture
async def sandbox_http(sandbox_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the in-process sandbox."""
    async with httpx.AsyncClient(transport=asgi_transport(sandbox_app), base_url=ORIGIN) as client:
        yield client


@pytest.fixture
def loopback_sandbox(sandbox_settings: SandboxSettings) -> Iterator[RunningSandbox]:
    """The sandbox served by uvicorn on 127.0.0.1 (any free port) in a background thread."""
    with start_in_thread(sandbox_settings) as running:
        yield running


@pytest.fixture
def make_skipped() -> Callable[[int], CouplingRecord]:
    """Mark a coupling Skipped the way the app does: the same failure twice in one direction."""

    def skip(coupling_id: int) -> CouplingRecord:
        for _ in range(2):
            record = record_sync_result(
                coupling_id, SyncDirection.TO_DATAVERSE, SyncResult.FAILURE, error="Phone No. is too long."
            )
        assert record.skipped
        return record

    return skip
