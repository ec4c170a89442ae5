"""Helpers for the synchronization tests: coupled pairs with a baseline, edits on either side."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette

from bc_tui.store.coupling_queries import couplings_by_bc_id
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import SyncSession

MAPPING = "CUSTOMER"


def store_of(app: Starlette) -> Any:
    """The sandbox's entity store (edits there are what another user's edits look like)."""
    return app.state.store


def active_customer_ids(app: Starlette, count: int) -> list[str]:
    """The ids of the first ``count`` customers inside the CUSTOMER table filter (not blocked)."""
    rows = [r for r in store_of(app).rows("bc/customers") if r.get("blocked") in (" ", "", None)]
    assert len(rows) >= count, f"the sandbox has only {len(rows)} unblocked customers"
    return [r["id"] for r in rows[:count]]


async def coupled_customers(session: SyncSession, app: Starlette, count: int) -> list[CouplingRecord]:
    """Create accounts for ``count`` customers, couple them, and synchronize once (the baseline)."""
    ids = active_customer_ids(app, count)
    summary = await create_in_dataverse(session, MAPPING, ids, allow_duplicates=True)
    assert summary.count("inserted") == count, [r.message for r in summary.results]
    baseline = await synchronize_modified(session, MAPPING)
    assert baseline.count("failed") == 0, [r.message for r in baseline.failed]
    found = couplings_by_bc_id(MAPPING, ids)
    return [found[i] for i in ids]


def bc_row(app: Starlette, bc_id: str) -> dict[str, Any] | None:
    """The BC customer as the sandbox holds it."""
    return store_of(app).get("bc/customers", bc_id)


def account_row(app: Starlette, account_id: str) -> dict[str, Any] | None:
    """The Dataverse account as the sandbox holds it."""
    return store_of(app).get("dv/accounts", account_id)


def edit_bc(app: Starlette, bc_id: str, **changes: Any) -> None:
    """Change a customer in Business Central (as a user there would)."""
    store_of(app).update("bc/customers", bc_id, changes)


def edit_account(app: Starlette, account_id: str, **changes: Any) -> None:
    """Change an account in Dataverse (as a user there would)."""
    store_of(app).update("dv/accounts", account_id, changes)


async def next_second() -> None:
    """Wait until the clock enters the next whole second, so that an edit made after this is
    later than one made before it even at Dataverse's whole-second modifiedon."""
    now = time.time()
    await asyncio.sleep(int(now) + 1 - now + 0.01)  # to just past the next whole second
