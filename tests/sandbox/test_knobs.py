"""Realism knobs: latency, service-protection limits (429 + Retry-After), DOP hint and faults."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bc_tui.sandbox.app import create_app
from bc_tui.sandbox.app import sandbox_info as make_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.knobs import BC_MAX_QUEUED
from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import FaultSpec, SandboxSettings


class Sandbox:
    """A sandbox with given settings, reached in process or over loopback, with tokens at hand."""

    def __init__(self, http: httpx.AsyncClient, info: dict[str, Any], app: Any) -> None:
        self.http, self.info, self.app = http, info, app
        self.headers: dict[str, dict[str, str]] = {}

    async def authenticate(self) -> None:
        for side, scope in (("bc", self.info["bc_scope"]), ("dataverse", self.info["dataverse_scope"])):
            response = await self.http.post(
                self.info["token_url"],
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.info["client_id"],
                    "client_secret": self.info["client_secret"],
                    "scope": scope,
                },
            )
            assert response.status_code == 200, "the token endpoint is never subject to the knobs"
            self.headers[side] = {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def bc(self, method: str = "GET", path: str = "companies", **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, self.info["bc_api"] + path, headers=self.headers["bc"], **kwargs)

    async def dataverse(self, path: str = "WhoAmI") -> httpx.Response:
        return await self.http.request("GET", self.info["dataverse_api"] + path, headers=self.headers["dataverse"])

    def customer_named(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.app.state.store.rows("bc/customers") if r.get("displayName") == name]


@contextlib.asynccontextmanager
async def in_process(settings: SandboxSettings) -> AsyncIterator[Sandbox]:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=asgi_transport(app), base_url=ORIGIN) as http:
        sandbox = Sandbox(http, make_info(settings, ORIGIN), app)
        await sandbox.authenticate()
        yield sandbox


@contextlib.asynccontextmanager
async def over_loopback(settings: SandboxSettings) -> AsyncIterator[Sandbox]:
    with start_in_thread(settings) as running:
        async with httpx.AsyncClient() as http:
            sandbox = Sandbox(http, running.info, running.app)
            await sandbox.authenticate()
            yield sandbox


def open_sandbox(transport: str, **settings: Any) -> contextlib.AbstractAsyncContextManager[Sandbox]:
    opener = in_process if transport == "in-process" else over_loopback
    return opener(SandboxSettings(**settings))


@pytest.fixture(params=["in-process", "loopback"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


# ------------------------------------------------------------------ latency and DOP hint


async def test_latency_delays_api_requests_but_not_tokens() -> None:
    async with in_process(SandboxSettings(latency_ms=150)) as sandbox:
        started = time.monotonic()
        assert (await sandbox.bc()).status_code == 200
        assert time.monotonic() - started >= 0.14  # asyncio.sleep never wakes early


async def test_dataverse_always_sends_the_dop_hint_and_bc_never_does() -> None:
    async with in_process(SandboxSettings(dop_hint=7)) as sandbox:
        assert (await sandbox.dataverse()).headers["x-ms-dop-hint"] == "7"
        unauthenticated = await sandbox.http.get(sandbox.info["dataverse_api"] + "accounts")
        assert unauthenticated.status_code == 401 and unauthenticated.headers["x-ms-dop-hint"] == "7"
        assert "x-ms-dop-hint" not in (await sandbox.bc()).headers


# ---------------------------------------------------------------------------- limits


async def test_the_request_window_answers_429_with_retry_after() -> None:
    async with in_process(SandboxSettings(limits=True, requests_per_window=3, window_s=60)) as sandbox:
        statuses = [(await sandbox.bc()).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        throttled = await sandbox.bc()
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert throttled.json()["error"]["code"] == "Application_TooManyRequests"
        # The window is per service (and per caller): Dataverse still answers.
        assert (await sandbox.dataverse()).status_code == 200


async def test_limits_are_off_by_default() -> None:
    async with in_process(SandboxSettings(requests_per_window=2)) as sandbox:
        assert {(await sandbox.bc()).status_code for _ in range(5)} == {200}


async def test_dataverse_refuses_requests_beyond_its_concurrency_cap() -> None:
    async with in_process(SandboxSettings(limits=True, dataverse_concurrency=2, latency_ms=200)) as sandbox:
        responses = await asyncio.gather(*(sandbox.dataverse() for _ in range(5)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 200, 429, 429, 429]
        throttled = next(r for r in responses if r.status_code == 429)
        assert throttled.headers["retry-after"] == "1" and throttled.json()["error"]["code"].startswith("0x")


async def test_bc_queues_beyond_its_concurrency_and_refuses_beyond_the_queue() -> None:
    async with in_process(SandboxSettings(limits=True, bc_concurrency=2, latency_ms=5)) as sandbox:
        few = await asyncio.gather(*(sandbox.bc() for _ in range(6)))
        assert {r.status_code for r in few} == {200}  # queued, not refused
        many = await asyncio.gather(*(sandbox.bc() for _ in range(2 + BC_MAX_QUEUED + 3)))
        statuses = [r.status_code for r in many]
        assert statuses.count(429) == 3 and statuses.count(200) == 2 + BC_MAX_QUEUED


# ---------------------------------------------------------------------------- faults


async def test_throttle_and_unavailable_faults(transport: str) -> None:
    for faults, status in ((FaultSpec(throttle=1.0), 429), (FaultSpec(unavailable=1.0), 503)):
        async with open_sandbox(transport, faults=faults) as sandbox:
            response = await sandbox.bc()
            assert response.status_code == status
            assert response.json()["error"]["message"]
            if status == 429:
                assert response.headers["retry-after"] == "1"


async def test_drop_closes_the_connection_before_processing(transport: str) -> None:
    async with open_sandbox(transport, faults=FaultSpec(drop=1.0)) as sandbox:
        version = sandbox.app.state.store.version
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await sandbox.bc(
                "POST", f"companies({sandbox.info['company_id']})/customers", json={"displayName": "Dropped Ltd."}
            )
        assert sandbox.customer_named("Dropped Ltd.") == []
        assert sandbox.app.state.store.version == version


async def test_lost_commits_the_write_but_loses_the_response(transport: str) -> None:
    async with open_sandbox(transport, faults=FaultSpec(lost=1.0)) as sandbox:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await sandbox.bc(
                "POST", f"companies({sandbox.info['company_id']})/customers", json={"displayName": "Lost Response Ltd."}
            )
        [created] = sandbox.customer_named("Lost Response Ltd.")
        assert created["number"]


async def test_seeded_fault_rates_are_repeatable() -> None:
    async def statuses() -> list[int]:
        async with in_process(SandboxSettings(faults=FaultSpec(throttle=0.3, unavailable=0.3, seed=7))) as sandbox:
            return [(await sandbox.bc()).status_code for _ in range(20)]

    first = await statuses()
    assert first == await statuses()
    assert {200, 429, 503} <= set(first)
