"""Synchronize modified records: watermarks, both passes, conflict and deletion policies."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from starlette.applications import Starlette

from bc_tui.domain.mappings import ConflictResolution, DeletionResolution, Direction
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import watermarks
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.records import Side, SyncResult
from bc_tui.sync.modified import OVERLAP, directions_of, next_watermark, synchronize_modified
from bc_tui.sync.session import SyncSession
from tests.sync.coupled_pairs import (
    MAPPING,
    account_row,
    active_customer_ids,
    bc_row,
    coupled_customers,
    edit_account,
    edit_bc,
    store_of,
)


def set_policy(session: SyncSession, **changes: object) -> None:
    """Change the CUSTOMER table mapping for this session (as the mapping editor would)."""
    session.mappings[MAPPING] = dataclasses.replace(session.mapping(MAPPING), **changes)


def versions(app: Starlette) -> dict[str, int]:
    store = store_of(app)
    found = {f"bc:{r['id']}": r["_version"] for r in store.rows("bc/customers")}
    found.update({f"dv:{r['accountid']}": r["_version"] for r in store.rows("dv/accounts")})
    return found


async def test_modified_records_flow_both_ways_and_the_watermarks_advance(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 4)
    bc_mark = watermarks.get_watermark(MAPPING, Side.BC)
    dv_mark = watermarks.get_watermark(MAPPING, Side.DATAVERSE)
    assert bc_mark is not None and dv_mark is not None
    edit_bc(sandbox_app, pairs[0].bc_id, city="Springfield")
    edit_account(sandbox_app, pairs[1].dataverse_id, telephone1="+1 555 0111")

    before = datetime.now(UTC).replace(microsecond=0)  # the Date header's precision
    summary = await synchronize_modified(session, MAPPING)
    after = datetime.now(UTC)

    assert account_row(sandbox_app, pairs[0].dataverse_id)["address1_city"] == "Springfield"
    assert bc_row(sandbox_app, pairs[1].bc_id)["phoneNumber"] == "+1 555 0111"
    assert summary.count(Outcome.MODIFIED) == 2 and summary.count(Outcome.FAILED) == 0
    assert get_coupling(pairs[0].id).to_dataverse_result is SyncResult.SUCCESS
    assert get_coupling(pairs[1].id).from_dataverse_result is SyncResult.SUCCESS
    # Each watermark is the service's clock when its pass started, less the overlap: never the
    # newest modified time seen (which would skip records edited while the pages were read).
    for side, mark in ((Side.BC, bc_mark), (Side.DATAVERSE, dv_mark)):
        now_mark = watermarks.get_watermark(MAPPING, side)
        assert now_mark >= mark
        assert before - OVERLAP <= now_mark <= after - OVERLAP
    # The untouched pairs were never even read: only the two edited ones (and the one write
    # each caused on the other side) show up.
    assert {r.bc_id for r in summary.results} == {pairs[0].bc_id, pairs[1].bc_id}

    before = versions(sandbox_app)
    again = await synchronize_modified(session, MAPPING)
    # The overlap is read again (our own writes included), but nothing in it changed since its
    # last synchronization: nothing is written and nothing is counted, not even "unchanged".
    assert again.results == [] and again.message.startswith("The synchronization has run for 0 of 0 records.")
    assert versions(sandbox_app) == before  # nothing written: the run converged


async def test_only_coupled_records_are_synchronized(session: SyncSession, sandbox_app: Starlette) -> None:
    await coupled_customers(session, sandbox_app, 2)
    uncoupled = active_customer_ids(sandbox_app, 3)[2]
    edit_bc(sandbox_app, uncoupled, city="Springfield")
    before = versions(sandbox_app)

    summary = await synchronize_modified(session, MAPPING)

    assert summary.result_for(uncoupled) is None
    assert versions(sandbox_app) == before


async def test_both_sides_changed_is_a_conflict_unless_the_policy_picks_a_side(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for pair in pairs:
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")

    conflict = await synchronize_modified(session, MAPPING)
    assert {r.outcome for r in conflict.results} == {Outcome.CONFLICT}
    assert "City changed on both sides" in conflict.results[0].message
    for pair in pairs:
        assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield"
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"
        assert get_coupling(pair.id).to_dataverse_result is SyncResult.CONFLICT

    set_policy(session, resolve_update_conflicts=ConflictResolution.SEND)
    send_wins = await synchronize_modified(session, MAPPING)
    assert send_wins.count(Outcome.MODIFIED) == 3
    for pair in pairs:
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield"
        assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield"

    set_policy(session, resolve_update_conflicts=ConflictResolution.GET)
    for pair in pairs:
        edit_bc(sandbox_app, pair.bc_id, city="Capital City")
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Ogdenville")
    get_wins = await synchronize_modified(session, MAPPING)
    for pair in pairs:
        assert bc_row(sandbox_app, pair.bc_id)["city"] == "Ogdenville"
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Ogdenville"
    assert get_wins.count(Outcome.FAILED) == 0


async def test_a_failed_record_is_tried_again_on_the_next_run(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Llanfairpwllgwyngyllgogerychwyrndrobwll")

    first = await synchronize_modified(session, MAPPING)
    assert first.result_for(pair.bc_id).outcome is Outcome.FAILED
    # Not modified again, yet tried again (its last synchronization failed): the identical
    # failure now marks it Skipped, as in BC.
    second = await synchronize_modified(session, MAPPING)
    assert second.result_for(pair.bc_id).outcome is Outcome.FAILED
    assert get_coupling(pair.id).skipped
    third = await synchronize_modified(session, MAPPING)
    assert third.result_for(pair.bc_id) is None


async def test_deletion_policy_remove_coupling(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    set_policy(session, resolve_deletion_conflicts=DeletionResolution.REMOVE_COUPLING)
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")

    summary = await synchronize_modified(session, MAPPING)

    assert summary.result_for(pair.bc_id).outcome is Outcome.UNCOUPLED
    assert get_coupling(pair.id) is None
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield"


async def test_deletion_policy_restore(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    set_policy(session, resolve_deletion_conflicts=DeletionResolution.RESTORE)
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    accounts_before = store_of(sandbox_app).count("dv/accounts")

    summary = await synchronize_modified(session, MAPPING)

    assert summary.result_for(pair.bc_id).outcome is Outcome.INSERTED
    coupling = get_by_bc_id(MAPPING, pair.bc_id)
    assert coupling is not None and coupling.dataverse_id != pair.dataverse_id and not coupling.broken
    restored = account_row(sandbox_app, coupling.dataverse_id)
    assert restored["address1_city"] == "Springfield"
    assert restored["name"] == bc_row(sandbox_app, pair.bc_id)["displayName"]
    assert store_of(sandbox_app).count("dv/accounts") == accounts_before + 1


async def test_without_deletion_policy_the_coupling_is_marked_broken(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")

    summary = await synchronize_modified(session, MAPPING)

    assert "coupled to a deleted Dataverse account" in summary.result_for(pair.bc_id).message
    assert get_coupling(pair.id).deleted_side is Side.DATAVERSE


def test_passes_follow_the_mapping_direction(session: SyncSession) -> None:
    mapping = session.mapping(MAPPING)
    assert [d.value for d in directions_of(mapping)] == ["to-dataverse", "from-dataverse"]
    one_way = dataclasses.replace(mapping, direction=Direction.FROM_DATAVERSE)
    assert [d.value for d in directions_of(one_way)] == ["from-dataverse"]


async def test_a_mapping_that_syncs_uncoupled_records_creates_their_counterparts(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    await coupled_customers(session, sandbox_app, 2)
    set_policy(session, sync_only_coupled=False)
    uncoupled = active_customer_ids(sandbox_app, 3)[2]
    edit_bc(sandbox_app, uncoupled, city="Springfield")

    summary = await synchronize_modified(session, MAPPING)

    assert summary.result_for(uncoupled).outcome is Outcome.INSERTED
    coupling = get_by_bc_id(MAPPING, uncoupled)
    assert account_row(sandbox_app, coupling.dataverse_id)["address1_city"] == "Springfield"


def test_the_watermark_is_the_service_time_at_the_start_less_the_overlap() -> None:
    since = datetime(2026, 12, 1, 7, 0, 0, tzinfo=UTC)
    started = datetime(2026, 12, 1, 7, 30, 0, tzinfo=UTC)
    newest_seen = datetime(2026, 12, 1, 7, 31, 5, tzinfo=UTC)
    assert next_watermark(since, started, newest_seen) == started - OVERLAP
    assert next_watermark(None, started, None) == started - OVERLAP
    # No Date header, no service time: the watermark stays, so the next run reads it all again.
    assert next_watermark(since, None, newest_seen) == since
    assert next_watermark(None, None, newest_seen) is None
