"""Tokens, sign-in failures, unreachable hosts, service-protection limits and injected faults."""

from __future__ import annotations

import asyncio
import collections
import socket

import httpx
import pytest
from connector_helpers import FAST_RETRY, Endpoint, open_endpoint

from bc_tui.connectors import (
    AuthenticationFailed,
    BcCustomer,
    BusinessCentralClient,
    ConfigurationError,
    DataverseAccount,
    DataverseClient,
    ServiceCredentials,
    Unreachable,
)
from bc_tui.connectors.throttle import RequestWindow
from bc_tui.sandbox.settings import FaultSpec, SandboxSettings


async def test_revoked_token_gets_one_transparent_retry(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    await bc.companies()
    assert bc.service.tokens.fetch_count == 1
    endpoint.app.state.tokens.revoke_all()  # the next call gets 401
    assert len(await bc.companies()) == 1
    assert bc.service.tokens.fetch_count == 2
    await bc.companies()
    assert bc.service.tokens.fetch_count == 2  # cached again


async def test_short_lived_tokens_are_refreshed_before_expiry() -> None:
    with open_endpoint("in-process", SandboxSettings(token_lifetime_s=1)) as endpoint:
        async with endpoint.dv() as dv:
            await dv.who_am_i()
            await asyncio.sleep(1.1)  # let it expire: the sandbox would answer 401 to the old token
            await dv.who_am_i()
            assert dv.service.tokens.fetch_count == 2


async def test_a_token_refused_twice_fails_after_exactly_one_retry(inprocess: Endpoint) -> None:
    # A Dataverse token sent to Business Central: every fresh token is refused too.
    creds = inprocess.dv_credentials()
    async with BusinessCentralClient(
        inprocess.info["bc_api"], inprocess.info["company_id"], creds, transport=inprocess.transport, retry=FAST_RETRY
    ) as bc:
        with pytest.raises(AuthenticationFailed, match="refused the access token") as caught:
            await bc.companies()
        assert bc.service.tokens.fetch_count == 2
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"client_secret": "wrong"}, "Invalid client secret provided"),
        ({"client_id": "nobody"}, "was not found in the directory"),
    ],
)
async def test_bad_credentials_are_explained(inprocess: Endpoint, override: dict[str, str], words: str) -> None:
    async with DataverseClient(
        inprocess.info["dataverse_api"],
        inprocess.dv_credentials(**override),
        transport=inprocess.transport,
        retry=FAST_RETRY,
    ) as dv:
        with pytest.raises(AuthenticationFailed) as caught:
            await dv.who_am_i()
    message = caught.value.message
    assert message.startswith("Signing in to Dataverse failed (invalid_client)")
    assert words in message and "Check the tenant, client id and client secret" in message
    assert "\n" not in message and "Traceback" not in message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_sign_in_service() -> None:
    port = _closed_port()
    creds = ServiceCredentials(f"http://127.0.0.1:{port}/t/oauth2/v2.0/token", "id", "secret", "s/.default")
    async with DataverseClient(f"http://127.0.0.1:{port}/api/data/v9.2/", creds, retry=FAST_RETRY) as dv:
        with pytest.raises(Unreachable, match="Cannot reach the sign-in service 127.0.0.1"):
            await dv.who_am_i()


async def test_unreachable_api_host() -> None:
    with open_endpoint("loopback", SandboxSettings()) as endpoint:
        port = _closed_port()
        async with BusinessCentralClient(
            f"http://127.0.0.1:{port}/v2.0/t/e/api/v2.0/", "c", endpoint.bc_credentials(), retry=FAST_RETRY
        ) as bc:
            with pytest.raises(Unreachable) as caught:
                await bc.companies()
    assert caught.value.message == (
        "Cannot reach 127.0.0.1: the connection was refused. Check the Business Central URL in your profile "
        "and your network."
    )


def test_plain_http_to_a_remote_host_is_refused() -> None:
    creds = ServiceCredentials("https://login.microsoftonline.com/t/oauth2/v2.0/token", "id", "secret", "s/.default")
    with pytest.raises(ConfigurationError, match="use https://"):
        DataverseClient("http://contoso.crm.dynamics.com/api/data/v9.2/", creds)
    with pytest.raises(ConfigurationError, match="use https://"):
        BusinessCentralClient(
            "https://api.businesscentral.dynamics.com/v2.0/t/e/api/v2.0/",
            "c",
            ServiceCredentials("http://login.example.com/t/token", "id", "secret", "s/.default"),
        )


async def test_429_pauses_every_request_then_all_succeed() -> None:
    settings = SandboxSettings(limits=True, requests_per_window=6, window_s=1.0)
    with open_endpoint("in-process", settings) as endpoint:
        async with endpoint.bc() as bc:
            customers = [c async for c in bc.rows(BcCustomer, page_size=50)]  # 1 request
            picked = customers[:14]
            fetched = await asyncio.gather(*(bc.get(BcCustomer, c.id) for c in picked))
            assert [c.id for c in fetched] == [c.id for c in picked]
            assert bc.service.gate.pauses >= 1  # a 429 closed the gate for Retry-After...
            assert bc.service.gate.waits >= 1  # ...and other requests waited at it


async def test_a_job_larger_than_the_window_is_paced_and_gets_no_429() -> None:
    # The sandbox's window shrunk to 10 requests per second (the documented one is 6,000 per 5
    # minutes), and the client told the same: 33 requests are more than three windows' worth.
    window = RequestWindow(10, 1.0)
    settings = SandboxSettings(limits=True, requests_per_window=window.requests, window_s=window.seconds)
    with open_endpoint("in-process", settings) as endpoint:
        async with endpoint.bc(request_window=window) as bc:
            customers = [c async for c in bc.rows(BcCustomer, page_size=20)]  # 3 requests
            picked = [customers[n % len(customers)] for n in range(30)]
            fetched = await asyncio.gather(*(bc.get(BcCustomer, c.id) for c in picked))
            assert [c.id for c in fetched] == [c.id for c in picked]
            assert bc.service.pacer.waits > 0  # it was paced...
            assert (bc.service.gate.throttled, bc.service.gate.pauses, bc.service.retries) == (
                0,
                0,
                0,
            )  # ...never refused


class CountThrottled(httpx.AsyncBaseTransport):
    """Network scaffolding: passes every request on and counts the 429s each URL got."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.throttled: collections.Counter[str] = collections.Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.throttled[str(request.url)] += 1
        return response


async def test_a_burst_of_429s_costs_one_retry_after() -> None:
    # Eight reads at once, each held 0.3 s, half of them answered 429 with Retry-After: 1 (injected
    # after the latency): those of one round come back together, a burst, and are retried together
    # after one pause. So there are as many pauses as rounds, the most 429s any one read got.
    settings = SandboxSettings(latency_ms=300, dop_hint=8, faults=FaultSpec(throttle=0.5, seed=1))
    with open_endpoint("in-process", settings) as endpoint:
        ids = [row["accountid"] for row in endpoint.store_rows("dv/accounts")][:8]
        wire = CountThrottled(endpoint.wire())
        async with endpoint.dv(max_concurrency=8, transport=wire) as dv:
            fetched = await asyncio.gather(*(dv.get(DataverseAccount, key) for key in ids))
            assert [a.id for a in fetched] == ids
            gate = dv.service.gate
    assert gate.throttled == sum(wire.throttled.values()) == 10  # the seed's draw
    assert gate.pauses == max(wire.throttled.values()) == 4  # one pause per round, not one per 429


async def test_injected_faults_never_duplicate_creates() -> None:
    faults = FaultSpec(throttle=0.05, unavailable=0.1, drop=0.1, lost=0.15, seed=11)
    n = 10
    # BC creates name their numbers, which a lost answer is reconciled by: the series allow that
    # here (Manual Nos.). Where they do not, bc-tui finds a create again by its values (refind).
    settings = SandboxSettings(faults=faults, bc_refuse_manual_numbers=False)
    with open_endpoint("in-process", settings) as endpoint:
        async with endpoint.bc() as bc, endpoint.dv() as dv:
            customers = await asyncio.gather(
                *(bc.create(BcCustomer, {"number": f"F-{i:02}", "displayName": f"Fault {i}"}) for i in range(n))
            )
            accounts = await asyncio.gather(*(dv.create(DataverseAccount, {"name": f"Fault {i}"}) for i in range(n)))
            assert bc.service.retries + dv.service.retries > 0  # the faults did hit
        stored_customers = [r for r in endpoint.store_rows("bc/customers") if r["number"].startswith("F-")]
        stored_accounts = [r for r in endpoint.store_rows("dv/accounts") if (r.get("name") or "").startswith("Fault ")]
    assert len(stored_customers) == n and {c.id for c in customers} == {r["id"] for r in stored_customers}
    assert len(stored_accounts) == n and {a.id for a in accounts} == {r["accountid"] for r in stored_accounts}
