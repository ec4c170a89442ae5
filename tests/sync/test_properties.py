"""Stateful properties of synchronization: random edits, deletes, couplings and syncs on both sides.

A Hypothesis state machine interleaves what users do in Business Central and Dataverse (edit
the City or Phone No. of a coupled pair, delete a record) with what bc-tui does (couple a new
pair, synchronize one record send / get / merge, synchronize all pairs send / get, restore a
deleted record) and checks after every step:

- field by field (docs/coupling-and-sync.md "Conflicts, field by field"): a field changed on one
  side only reaches the other side whatever the direction; a field both sides changed to
  different values takes the chosen side's value (send: Business Central, get: Dataverse);
- a side is written only when one of its values changes, and a conflict touches neither;
- when both sides changed the same bidirectional field to different values, a merge reports a
  conflict naming the field and both values stay as they are;
- synchronizing again right after is "unchanged" and writes nothing (runs converge);
- a deleted counterpart is reported as a broken coupling, never "synchronized".
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.decisions import ConflictPolicy
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.app import create_app, sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling, list_couplings
from bc_tui.store.records import CouplingRecord, Side
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.resolve import restore_deleted
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many, synchronize_one

MAPPING = "CUSTOMER"
SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE
MAX_PAIRS = 4

# The two fields the machine edits: label → (BC field, Dataverse attribute).
FIELDS = {"City": ("city", "address1_city"), "Phone No.": ("phoneNumber", "telephone1")}
VALUES = {"City": ["Alpha", "Beta", "Gamma"], "Phone No.": ["+1 555 0001", "+1 555 0002", "+1 555 0003"]}

field_labels = st.sampled_from(sorted(FIELDS))
value_index = st.integers(min_value=0, max_value=2)
pair_index = st.integers(min_value=0, max_value=MAX_PAIRS - 1)
directions = st.sampled_from([SEND, GET, MERGE])


class SynchronizationMachine(RuleBasedStateMachine):
    """Both services (the sandbox), one coupling database, and a model of what was last synced."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        settings_ = SandboxSettings(data_dir=None, customers=12)
        self.app = create_app(settings_)
        self.store = self.app.state.store
        profile = profile_from_sandbox_info(sandbox_info(settings_, ORIGIN))
        self._session_cm = open_session(profile, "sqlite:///:memory:", transport=asgi_transport(self.app))
        self.session = self.run(self._session_cm.__aenter__())
        self.free = [r["id"] for r in self.store.rows("bc/customers") if r.get("blocked") in (" ", "", None)]
        self.pairs: list[CouplingRecord] = []  # coupled pairs whose records both exist
        self.broken: list[CouplingRecord] = []
        # Per coupling id: label → the value both sides held after the last synchronization.
        self.base: dict[int, dict[str, Any]] = {}

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        try:
            self.run(self._session_cm.__aexit__(None, None, None))
        finally:
            self.loop.close()

    # --- reading the sandbox ---------------------------------------------------------------------

    def bc(self, pair: CouplingRecord) -> dict[str, Any] | None:
        return self.store.get("bc/customers", pair.bc_id)

    def dv(self, pair: CouplingRecord) -> dict[str, Any] | None:
        return self.store.get("dv/accounts", pair.dataverse_id)

    def values(self, pair: CouplingRecord) -> tuple[dict[str, Any], dict[str, Any]]:
        bc, dv = self.bc(pair), self.dv(pair)
        assert bc is not None and dv is not None
        return ({label: bc[f] for label, (f, _) in FIELDS.items()}, {label: dv[a] for label, (_, a) in FIELDS.items()})

    def versions(self) -> dict[str, int]:
        found = {f"bc:{r['id']}": r["_version"] for r in self.store.rows("bc/customers")}
        found.update({f"dv:{r['accountid']}": r["_version"] for r in self.store.rows("dv/accounts")})
        return found

    def in_step(self, pair: CouplingRecord) -> None:
        """Both sides agree on every edited field: remember it as the last synced state."""
        bc, dv = self.values(pair)
        assert bc == dv, f"after a successful synchronization the sides differ: {bc} vs {dv}"
        self.base[pair.id] = bc

    # --- setting up and coupling ----------------------------------------------------------------------

    @initialize()
    def couple_two(self) -> None:
        self.add_pair()
        self.add_pair()

    @precondition(lambda self: len(self.pairs) < MAX_PAIRS and self.free)
    @rule()
    def add_pair(self) -> None:
        bc_id = self.free.pop(0)
        summary = self.run(create_in_dataverse(self.session, MAPPING, [bc_id], allow_duplicates=True))
        assert summary.count(Outcome.INSERTED) == 1, [r.message for r in summary.results]
        pair = get_by_bc_id(MAPPING, bc_id)
        first = self.run(synchronize_one(self.session, MAPPING, bc_id, SEND))
        assert first.result_for(bc_id).outcome in (Outcome.UNCHANGED, Outcome.MODIFIED)
        self.pairs.append(pair)
        self.in_step(pair)

    # --- what users do ---------------------------------------------------------------------------------

    @precondition(lambda self: self.pairs)
    @rule(index=pair_index, label=field_labels, value=value_index)
    def edit_in_bc(self, index: int, label: str, value: int) -> None:
        pair = self.pairs[index % len(self.pairs)]
        self.store.update("bc/customers", pair.bc_id, {FIELDS[label][0]: VALUES[label][value]})

    @precondition(lambda self: self.pairs)
    @rule(index=pair_index, label=field_labels, value=value_index)
    def edit_in_dataverse(self, index: int, label: str, value: int) -> None:
        pair = self.pairs[index % len(self.pairs)]
        self.store.update("dv/accounts", pair.dataverse_id, {FIELDS[label][1]: VALUES[label][value]})

    @precondition(lambda self: self.pairs)
    @rule(index=pair_index, label=field_labels, value=value_index)
    def edit_on_both_sides(self, index: int, label: str, value: int) -> None:
        """Two users change the same field to different values, one in each service."""
        pair = self.pairs[index % len(self.pairs)]
        bc_field, dv_field = FIELDS[label]
        self.store.update("bc/customers", pair.bc_id, {bc_field: VALUES[label][value]})
        self.store.update("dv/accounts", pair.dataverse_id, {dv_field: VALUES[label][(value + 1) % 3]})

    @precondition(lambda self: len(self.pairs) > 1)
    @rule(index=pair_index)
    def delete_account(self, index: int) -> None:
        pair = self.pairs.pop(index % len(self.pairs))
        self.store.delete("dv/accounts", pair.dataverse_id)
        self.broken.append(pair)

    # --- what bc-tui does ------------------------------------------------------------------------------

    @precondition(lambda self: self.pairs)
    @rule(index=pair_index, direction=directions)
    def synchronize_one_record(self, index: int, direction: SyncDirection) -> None:
        pair = self.pairs[index % len(self.pairs)]
        bc, dv = self.values(pair)
        base = self.base[pair.id]
        conflicts = sorted(f for f in FIELDS if bc[f] != base[f] and dv[f] != base[f] and bc[f] != dv[f])
        before = self.versions()

        summary = self.run(synchronize_one(self.session, MAPPING, pair.bc_id, direction))
        result = summary.result_for(pair.bc_id)
        after = self.versions()

        event(
            f"one record {direction.value}: {'conflict' if direction is MERGE and conflicts else result.outcome.value}"
        )
        if direction is MERGE and conflicts:
            assert result.outcome is Outcome.CONFLICT, (conflicts, result)
            assert all(label in result.message for label in conflicts)
            assert after == before  # nothing overwritten
            assert self.values(pair) == (bc, dv)
            return
        assert result.outcome in (Outcome.MODIFIED, Outcome.UNCHANGED), result
        self.assert_field_by_field(pair, direction, bc, dv, base, before, after)
        self.in_step(pair)
        self.assert_converged(pair, direction)

    def assert_field_by_field(
        self,
        pair: CouplingRecord,
        direction: SyncDirection,
        bc: dict[str, Any],
        dv: dict[str, Any],
        base: dict[str, Any],
        before: dict[str, int],
        after: dict[str, int],
    ) -> None:
        """Each field ends with the value of the side that changed it (the chosen side for a
        conflict), and a side whose values all stay is not written."""
        now_bc, now_dv = self.values(pair)
        for label in FIELDS:
            if bc[label] != base[label] and dv[label] != base[label] and bc[label] != dv[label]:
                expected = bc[label] if direction is SEND else dv[label]
            else:
                expected = bc[label] if bc[label] != base[label] else dv[label]
            assert now_bc[label] == now_dv[label] == expected, (direction, label, bc, dv, base)
        if now_bc == bc:
            assert after[f"bc:{pair.bc_id}"] == before[f"bc:{pair.bc_id}"]
        if now_dv == dv:
            assert after[f"dv:{pair.dataverse_id}"] == before[f"dv:{pair.dataverse_id}"]

    @precondition(lambda self: self.pairs)
    @rule(index=pair_index, label=field_labels, value=value_index)
    def merge_after_edits_on_both_sides(self, index: int, label: str, value: int) -> None:
        """Both users change the same field differently, then the user merges: a conflict."""
        self.edit_on_both_sides(index, label, value)
        self.synchronize_one_record(index, MERGE)

    def assert_converged(self, pair: CouplingRecord, direction: SyncDirection) -> None:
        before = self.versions()
        again = self.run(synchronize_one(self.session, MAPPING, pair.bc_id, direction))
        assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED
        assert self.versions() == before

    @precondition(lambda self: self.pairs)
    @rule(direction=st.sampled_from([SEND, GET]))
    def synchronize_all(self, direction: SyncDirection) -> None:
        before = self.versions()
        states = {p.id: (*self.values(p), self.base[p.id]) for p in self.pairs}

        # The run's side wins conflicting fields (a run that skips them: test_field_decisions.py).
        summary = self.run(
            synchronize_many(
                self.session,
                MAPPING,
                [p.bc_id for p in self.pairs + self.broken],
                direction,
                conflicts=ConflictPolicy.WIN,
            )
        )
        after = self.versions()

        for pair in self.pairs:
            bc, dv, base = states[pair.id]
            outcome = summary.result_for(pair.bc_id).outcome
            event(f"many {direction.value}: {outcome.value}")
            assert outcome in (Outcome.MODIFIED, Outcome.UNCHANGED)
            self.assert_field_by_field(pair, direction, bc, dv, base, before, after)
            self.in_step(pair)
        for pair in self.broken:
            assert summary.result_for(pair.bc_id).outcome is Outcome.SKIPPED
        # A second run right after writes nothing.
        before = self.versions()
        again = self.run(synchronize_many(self.session, MAPPING, [p.bc_id for p in self.pairs], direction))
        assert self.versions() == before
        assert again.count(Outcome.MODIFIED) == 0

    @precondition(lambda self: self.broken)
    @rule()
    def synchronize_broken(self) -> None:
        pair = self.broken[0]
        before = self.versions()
        summary = self.run(synchronize_one(self.session, MAPPING, pair.bc_id, SEND))
        result = summary.result_for(pair.bc_id)
        assert result.outcome is Outcome.SKIPPED and "coupled to a deleted" in result.message
        assert self.versions() == before
        assert get_coupling(pair.id).deleted_side is Side.DATAVERSE

    @precondition(lambda self: self.broken)
    @rule()
    def restore(self) -> None:
        pair = self.broken.pop(0)
        accounts = self.store.count("dv/accounts")
        [summary] = self.run(restore_deleted(self.session, [pair.id]))
        assert summary.result_for(pair.bc_id).outcome is Outcome.INSERTED
        assert self.store.count("dv/accounts") == accounts + 1
        restored = get_by_bc_id(MAPPING, pair.bc_id)
        assert restored is not None and not restored.broken
        self.pairs.append(restored)
        self.in_step(restored)

    # --- always ----------------------------------------------------------------------------------

    @invariant()
    def couplings_are_one_to_one(self) -> None:
        found = list_couplings(MAPPING)
        assert len({c.bc_id for c in found}) == len({c.dataverse_id for c in found}) == len(found)
        assert not any(c.skipped for c in found)


SynchronizationMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=16,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSynchronization = SynchronizationMachine.TestCase
