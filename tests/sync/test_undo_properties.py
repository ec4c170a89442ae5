"""Properties of undo (docs/undo-and-history.md "Undo") over random edits on both sides:

- after a synchronization and its undo, both sides hold exactly the values from before the
  synchronization, for every record nobody changed in between;
- a record changed in between is reported and not touched;
- after the undo of the undo, both sides hold the synchronized values again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.app import create_app, sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.history import job_changes
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many
from bc_tui.sync.undo import undo

MAPPING = "CUSTOMER"
SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE
PAIRS = 3
# The fields edited: label → (BC field, Dataverse attribute).
FIELDS = {"City": ("city", "address1_city"), "Phone No.": ("phoneNumber", "telephone1")}
VALUES = {"City": ["Alpha", "Beta", "Gamma"], "Phone No.": ["+1 555 0001", "+1 555 0002", "+1 555 0003"]}

edits = st.lists(
    st.tuples(
        st.integers(0, PAIRS - 1),
        st.sampled_from(["bc", "dataverse"]),
        st.sampled_from(sorted(FIELDS)),
        st.integers(0, 2),
    ),
    max_size=6,
)


class World:
    """One sandbox, one coupling database and ``PAIRS`` coupled customers, shared by the examples
    (each example's properties compare its own before and after)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        settings_ = SandboxSettings(data_dir=None, customers=12)
        self.app = create_app(settings_)
        self.store = self.app.state.store
        profile = profile_from_sandbox_info(sandbox_info(settings_, ORIGIN))
        self._session = open_session(profile, "sqlite:///:memory:", transport=asgi_transport(self.app))
        self.session = self.run(self._session.__aenter__())
        free = [r["id"] for r in self.store.rows("bc/customers") if r.get("blocked") in (" ", "", None)][:PAIRS]
        self.run(create_in_dataverse(self.session, MAPPING, free, allow_duplicates=True))
        self.run(synchronize_modified(self.session, MAPPING))
        self.pairs = [(bc_id, get_by_bc_id(MAPPING, bc_id).dataverse_id) for bc_id in free]
        self.counter = itertools.count()

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        try:
            self.run(self._session.__aexit__(None, None, None))
        finally:
            self.loop.close()

    def state(self) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """Per pair: the edited fields in BC and in Dataverse, as the sandbox holds them."""
        result = []
        for bc_id, account_id in self.pairs:
            bc, account = self.store.get("bc/customers", bc_id), self.store.get("dv/accounts", account_id)
            result.append((tuple(bc[f] for f, _ in FIELDS.values()), tuple(account[a] for _, a in FIELDS.values())))
        return result

    def edit(self, index: int, side: str, label: str, value: str) -> None:
        bc_id, account_id = self.pairs[index]
        bc_field, attribute = FIELDS[label]
        if side == "bc":
            self.store.update("bc/customers", bc_id, {bc_field: value})
        else:
            self.store.update("dv/accounts", account_id, {attribute: value})


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    made = World()
    yield made
    made.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edited=edits,
    direction=st.sampled_from([SEND, GET]),
    meddled=st.sets(st.integers(0, PAIRS - 1), max_size=2),
)
def test_undo_restores_what_was_there_and_undoing_it_restores_the_sync(
    world: World, edited: list[tuple[int, str, str, int]], direction: SyncDirection, meddled: set[int]
) -> None:
    for index, side, label, value in edited:
        world.edit(index, side, label, VALUES[label][value])
    before = world.state()
    ids = [bc_id for bc_id, _ in world.pairs]
    job = world.run(synchronize_many(world.session, MAPPING, ids, direction))
    synced = world.state()
    written = {i for i, bc_id in enumerate(ids) if job.result_for(bc_id).outcome is Outcome.MODIFIED}
    if not written:
        assert synced == before  # nothing was written, so there is nothing to undo
        return
    # Someone changes some of the written records in between, on a side the job wrote (a send
    # also writes Business Central when Dataverse changed other fields: they flow back).
    sides_written: dict[str, set[str]] = {}
    for change in world.run(world.session.db(job_changes, job.job_id, None)):
        sides_written.setdefault(change.bc_id.lower(), set()).add(change.side.value)
    meddled &= written
    for index in meddled:
        world.edit(index, min(sides_written[ids[index].lower()]), "City", f"Meddled {next(world.counter)}")
    in_between = world.state()

    undone = world.run(undo(world.session, job.job_id))

    after_undo = world.state()
    for index, bc_id in enumerate(ids):
        if index in meddled:
            assert undone.result_for(bc_id).outcome is Outcome.SKIPPED
            assert "(City)" in undone.result_for(bc_id).message
            assert after_undo[index] == in_between[index]  # not touched
        else:
            assert after_undo[index] == before[index]
    if not written - meddled:
        return
    world.run(undo(world.session, undone.job_id))
    again = world.state()
    for index in written - meddled:
        assert again[index] == synced[index]
