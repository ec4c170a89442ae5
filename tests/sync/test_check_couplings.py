"""Check couplings (docs/coupling-and-sync.md "Checking couplings without a synchronization"):
both records of each coupling are looked up in batched reads, and the broken ones are marked in
the coupling store without any synchronization having run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.jobs import JobType, get_job
from bc_tui.store.records import Side
from bc_tui.sync.check import check_couplings, check_visible
from bc_tui.sync.resolve import ProblemKind, errors_overview
from bc_tui.sync.session import SyncSession, open_session
from tests.sync.coupled_pairs import MAPPING, coupled_customers, store_of


class CountingTransport(httpx.AsyncBaseTransport):
    """The in-process sandbox transport, remembering each request's method and path: the
    sandbox's request log as the client sends it."""

    def __init__(self, app: Starlette) -> None:
        self._inner = asgi_transport(app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def reads_of(self, entity: str) -> list[httpx.Request]:
        """The GETs of an entity set or table since the log was last cleared."""
        return [r for r in self.requests if r.method == "GET" and r.url.path.endswith(f"/{entity}")]


@pytest.fixture
def counting(sandbox_app: Starlette) -> CountingTransport:
    return CountingTransport(sandbox_app)


@pytest.fixture
async def counted_session(
    counting: CountingTransport, sandbox_info: dict[str, Any], tmp_path: Path
) -> AsyncIterator[SyncSession]:
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, f"sqlite:///{tmp_path / 'c.sqlite'}", transport=counting) as opened:
        yield opened


async def test_check_couplings_marks_the_broken_ones_in_batched_reads(
    counted_session: SyncSession, counting: CountingTransport, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(counted_session, sandbox_app, 8)
    no_customer, no_account, neither = pairs[0], pairs[1], pairs[2]
    store_of(sandbox_app).delete("bc/customers", no_customer.bc_id)
    store_of(sandbox_app).delete("dv/accounts", no_account.dataverse_id)
    store_of(sandbox_app).delete("bc/customers", neither.bc_id)
    store_of(sandbox_app).delete("dv/accounts", neither.dataverse_id)
    counting.requests.clear()

    seen = []
    summary = await check_couplings(counted_session, MAPPING, progress=seen.append)

    # One batched read of each side for the eight couplings, not one GET per record.
    assert len(counting.reads_of("customers")) == 1
    assert len(counting.reads_of("accounts")) == 1
    assert "or" in counting.reads_of("customers")[0].url.params["$filter"]
    assert summary.count("failed") == 3 and summary.count("unchanged") == 5
    assert summary.message == "Checked 8 couplings: 3 broken."
    assert seen and seen[-1].done == 8
    assert get_coupling(no_customer.id).deleted_side is Side.BC
    assert get_coupling(no_account.id).deleted_side is Side.DATAVERSE
    assert get_coupling(neither.id).deleted_side is Side.BC
    assert all(not get_coupling(p.id).broken for p in pairs[3:])
    assert get_job(summary.job_id).type == JobType.COUPLING_CHECK
    broken = {r.bc_id: r.message for r in summary.failed}
    assert "its Dataverse record was deleted" in broken[no_account.bc_id]
    assert "errors screen" in broken[no_account.bc_id]


async def test_a_mark_found_wrong_is_cleared(counted_session: SyncSession, sandbox_app: Starlette) -> None:
    from bc_tui.store.sync_state import mark_broken

    (pair,) = await coupled_customers(counted_session, sandbox_app, 1)
    mark_broken(pair.id, Side.DATAVERSE)
    checked = await check_visible(counted_session, MAPPING, [pair.bc_id])
    assert [c.broken for c in checked] == [False]
    assert not get_coupling(pair.id).broken


async def test_the_errors_overview_lists_a_visible_broken_coupling_without_a_sync(
    counted_session: SyncSession, counting: CountingTransport, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(counted_session, sandbox_app, 5)
    gone = pairs[3]
    store_of(sandbox_app).delete("dv/accounts", gone.dataverse_id)
    assert await errors_overview(counted_session, MAPPING) == []  # not visible, not listed: not checked
    counting.requests.clear()

    rows = await errors_overview(counted_session, MAPPING, visible={MAPPING: [p.bc_id for p in pairs]})

    assert [(r.coupling_id, r.kind) for r in rows] == [(gone.id, ProblemKind.BROKEN)]
    assert rows[0].record_exists is True and rows[0].coupled_record_exists is False
    # The check (one read per side) and the listed rows' names (one read per side).
    assert len(counting.reads_of("customers")) == 2
    assert len(counting.reads_of("accounts")) == 2
    assert get_coupling(gone.id).deleted_side is Side.DATAVERSE
