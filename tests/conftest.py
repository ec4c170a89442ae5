"""Fixtures shared by every test package: the sandbox, in process and over loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.sandbox.app import create_app
from bc_tui.sandbox.app import sandbox_info as make_sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.server import RunningSandbox, start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store.records import CouplingRecord, SyncResult, SyncResultUpdate
from bc_tui.store.sync_state import record_sync_result

POSTGRES_URL_VARIABLE = "BC_TUI_TEST_POSTGRES_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, give each worker a PostgreSQL schema of its own in the test database.

    The PostgreSQL tests drop and create the store's tables at will, so two workers sharing one
    schema would wipe each other's tables mid-test. The role needs no CREATEDB for this: it owns
    the test database, so it may create schemas there. The worker's URL selects its schema through
    libpq's ``options`` (the store passes URL query parameters to the driver), and the changed
    variable reaches the child processes the tests start too.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not worker or not url or "?" in url:
        return
    schema = f"bc_tui_{worker}"  # gw0, gw1, …: letters and digits only
    try:
        import psycopg2
    except ImportError:  # no driver: the PostgreSQL tests say so themselves
        return
    try:
        with psycopg2.connect(url, connect_timeout=5) as connection, connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        connection.close()
    except psycopg2.Error as error:
        raise pytest.UsageError(f"Cannot create the schema {schema} in {POSTGRES_URL_VARIABLE}: {error}") from None
    os.environ[POSTGRES_URL_VARIABLE] = f"{url}?options={quote(f'-csearch_path={schema}')}"


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
                SyncResultUpdate(
                    coupling_id, SyncDirection.TO_DATAVERSE, SyncResult.FAILURE, error="Phone No. is too long."
                )
            )
        assert record.skipped
        return record

    return skip
