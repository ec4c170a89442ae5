"""A sync session against the in-process sandbox, with a fresh coupling database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.sync.session import SyncSession, open_session


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A coupling database file of its own for each test."""
    return f"sqlite:///{tmp_path / 'c.sqlite'}"


@pytest.fixture
async def session(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], database_url: str
) -> AsyncIterator[SyncSession]:
    """A SyncSession wired to the in-process sandbox (``sandbox_app.state.store`` holds its data)."""
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as opened:
        yield opened
