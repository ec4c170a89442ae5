"""``sync --modified`` where both services show modified times in whole seconds.

Dataverse's ``modifiedon`` is whole seconds; the sandbox's BC shows ``lastModifiedDateTime`` the
same way with ``bc_modified_whole_seconds``. An edit in the watermark's own second must still be
read (docs/watermarks.md, "Whole seconds: why `ge` and not `gt`").
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from bc_tui.connectors.models import BcCustomer
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store import watermarks
from bc_tui.store.records import Side
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import SyncSession
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """A small sandbox whose BC shows whole-second modified times, as Dataverse does."""
    return SandboxSettings(data_dir=None, customers=20, bc_modified_whole_seconds=True)


async def test_edits_in_the_watermarks_own_second_are_read_on_the_next_run(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 4)
    await synchronize_modified(session, MAPPING)  # the first run: watermarks set
    for round_, (bc_pair, dv_pair) in enumerate(((pairs[0], pairs[1]), (pairs[2], pairs[3]))):
        city, phone = f"Tie Town {round_}", f"+1 555 01{round_:02d}"
        edit_bc(sandbox_app, bc_pair.bc_id, city=city)
        edit_account(sandbox_app, dv_pair.dataverse_id, telephone1=phone)
        # Whole seconds on both sides: the edits show exactly the second they were made in.
        shown = bc_row(sandbox_app, bc_pair.bc_id)["_modified"][:19]
        second = datetime.fromisoformat(shown).replace(tzinfo=UTC)
        # A watermark that landed in that very second (as a run's would, give or take its overlap).
        for side in (Side.BC, Side.DATAVERSE):
            watermarks.advance_watermark(MAPPING, side, second)
            assert watermarks.get_watermark(MAPPING, side) == second

        summary = await synchronize_modified(session, MAPPING)

        assert account_row(sandbox_app, bc_pair.dataverse_id)["address1_city"] == city
        assert bc_row(sandbox_app, dv_pair.bc_id)["phoneNumber"] == phone
        assert summary.count(Outcome.MODIFIED) == 2 and summary.count(Outcome.FAILED) == 0
        assert {r.bc_id for r in summary.results} == {bc_pair.bc_id, dv_pair.bc_id}


async def test_the_sandbox_shows_bc_modified_times_in_whole_seconds(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pairs[0].bc_id, city="Whole")
    found = await session.bc.page(
        BcCustomer, top=1, filter=f"id eq {pairs[0].bc_id}", select=("id", "lastModifiedDateTime")
    )
    shown = str(found[0].get("lastModifiedDateTime"))
    stored = bc_row(sandbox_app, pairs[0].bc_id)["_modified"]
    assert shown == stored[:19] + "Z" and "." not in shown
