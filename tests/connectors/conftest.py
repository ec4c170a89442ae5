"""Connector fixtures: the sandbox reached in process (ASGI) or over a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from connector_helpers import Endpoint, open_endpoint

from bc_tui.connectors import BusinessCentralClient, DataverseClient
from bc_tui.sandbox.settings import SandboxSettings


@pytest.fixture(params=["in-process", "loopback"])
def endpoint(request: pytest.FixtureRequest, sandbox_settings: SandboxSettings) -> Iterator[Endpoint]:
    """The default sandbox, once in process and once over loopback."""
    with open_endpoint(request.param, sandbox_settings) as ep:
        yield ep


@pytest.fixture
def inprocess(sandbox_settings: SandboxSettings) -> Iterator[Endpoint]:
    """The default sandbox in process only (for tests where the wire adds nothing)."""
    with open_endpoint("in-process", sandbox_settings) as ep:
        yield ep


@pytest.fixture
async def bc(endpoint: Endpoint) -> AsyncIterator[BusinessCentralClient]:
    async with endpoint.bc() as client:
        yield client


@pytest.fixture
async def dv(endpoint: Endpoint) -> AsyncIterator[DataverseClient]:
    async with endpoint.dv() as client:
        yield client
