"""A write whose answer is lost, and a colleague who edits the record before bc-tui checks it.

The connector settles a write with an unknown outcome by reading the record again: when it
holds the values we wrote, our write committed. But that read may also carry a colleague's
edit made after our write. Recording that read as "what was synchronized" (its ETag and its
values) would make the colleague's edit look synchronized: no later run would carry it over,
and nothing would be reported. These tests drive the real code against the sandbox; only the
network is played: the first PATCH of the record is applied by the sandbox, a colleague edits
another field, and then the answer is lost (as the sandbox's ``lost`` fault does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.store.coupling_queries import problem_couplings
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many, synchronize_one
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc


class LoseFirstAnswer(httpx.AsyncBaseTransport):
    """Passes every request to the sandbox; the first PATCH or POST whose URL holds ``key`` is applied,
    then ``meanwhile`` runs (a colleague's edit), then its answer is lost on the wire."""

    def __init__(self, app: Starlette, key: str, meanwhile: Callable[[], None]) -> None:
        self._inner = asgi_transport(app)
        self._key = key
        self._meanwhile = meanwhile
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not self.lost and request.method in ("PATCH", "POST") and self._key in str(request.url):
            await response.aread()
            assert response.status_code < 300, response.text  # our write committed
            self.lost += 1
            self._meanwhile()
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def problem_ids() -> set[str]:
    """BC ids of the couplings `bc-tui errors` lists (skipped, failed or broken)."""
    return {c.bc_id for c in problem_couplings(MAPPING) if c.failed or c.skipped or c.broken}


async def test_a_colleague_edit_after_a_lost_answer_to_dataverse_is_carried_over(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as clean:
        [pair] = await coupled_customers(clean, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0100")

    def colleague() -> None:
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Colleague City")

    wire = LoseFirstAnswer(sandbox_app, pair.dataverse_id, colleague)
    async with open_session(profile, database_url, transport=wire) as session:
        await synchronize_modified(session, MAPPING)
        assert wire.lost == 1
        await synchronize_modified(session, MAPPING)

    assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == "+1 555 0100"
    # The colleague's edit (a field bc-tui did not write) reached Business Central: no
    # conflict, nothing to report.
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Colleague City"
    assert problem_ids() == set()


async def test_a_colleague_edit_after_a_lost_answer_in_a_multi_record_send_is_carried_over(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as clean:
        pairs = await coupled_customers(clean, sandbox_app, 3)
    for index, pair in enumerate(pairs):
        edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 01{index:02d}")
    target = pairs[1]

    def colleague() -> None:
        edit_account(sandbox_app, target.dataverse_id, emailaddress1="colleague@example.com")

    # The terminal app's "mark all, send": several records go as one batch.
    wire = LoseFirstAnswer(sandbox_app, "$batch", colleague)
    async with open_session(profile, database_url, transport=wire) as session:
        await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], SyncDirection.TO_DATAVERSE)
        assert wire.lost == 1
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as session:
        await synchronize_modified(session, MAPPING)

    for index, pair in enumerate(pairs):
        assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == f"+1 555 01{index:02d}"
    assert bc_row(sandbox_app, target.bc_id)["email"] == "colleague@example.com"
    assert problem_ids() == set()


async def test_a_colleague_edit_after_a_lost_answer_in_a_merge_is_carried_over(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as clean:
        [pair] = await coupled_customers(clean, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0177")
    edit_account(sandbox_app, pair.dataverse_id, emailaddress1="merged@example.com")

    def colleague() -> None:
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Colleague City")

    # The card's "merge": each side's change goes to the other side, Dataverse first.
    wire = LoseFirstAnswer(sandbox_app, pair.dataverse_id, colleague)
    async with open_session(profile, database_url, transport=wire) as session:
        await synchronize_one(session, MAPPING, pair.bc_id, SyncDirection.MERGE)
        assert wire.lost == 1
        await synchronize_modified(session, MAPPING)

    assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == "+1 555 0177"
    assert bc_row(sandbox_app, pair.bc_id)["email"] == "merged@example.com"
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Colleague City"
    assert problem_ids() == set()
