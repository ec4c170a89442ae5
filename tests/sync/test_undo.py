"""Undo and history (docs/undo-and-history.md): what a job keeps, putting it back guarded by
the ETag, records changed since, undoing an undo, creations, and a record's history."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.domain.diff import diff_records
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.history import INSERTED, MODIFIED, job_changes
from bc_tui.store.records import Side
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.errors import SyncError
from bc_tui.sync.history import history, history_of_record
from bc_tui.sync.remember import last_sync
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many, synchronize_one
from bc_tui.sync.undo import undo
from tests.sync.coupled_pairs import (
    MAPPING,
    account_row,
    active_customer_ids,
    bc_row,
    coupled_customers,
    edit_account,
    edit_bc,
)

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: The fields the tests edit: BC field → Dataverse attribute.
FIELDS = {"city": "address1_city", "phoneNumber": "telephone1"}


def both_sides(app: Starlette, pair: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The edited fields of a pair as the sandbox holds them: (BC, Dataverse)."""
    bc, account = bc_row(app, pair.bc_id), account_row(app, pair.dataverse_id)
    return {f: bc[f] for f in FIELDS}, {a: account[a] for a in FIELDS.values()}


def stored_pair(session: SyncSession, app: Starlette, pair: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both records with every field, as the sync engine reads them (for the diff)."""
    store = app.state.store
    bc = dict(store.get("bc/customers", pair.bc_id))
    account = dict(store.get("dv/accounts", pair.dataverse_id))
    bc["@odata.etag"] = f'W/"{bc["_version"]}"'
    account["@odata.etag"] = f'W/"{account["_version"]}"'
    return bc, account


async def test_a_synchronization_keeps_what_it_overwrote(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    old_city = account_row(sandbox_app, pair.dataverse_id)["address1_city"]
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")

    summary = await synchronize_one(session, MAPPING, pair.bc_id, SEND)

    [change] = job_changes(summary.job_id)
    account = account_row(sandbox_app, pair.dataverse_id)
    assert (change.side, change.action, change.bc_id) == (Side.DATAVERSE, MODIFIED, pair.bc_id)
    # Only the field that changed, before and after, and the ETag right after the write.
    assert change.fields == {"address1_city": [old_city, "Springfield"]}
    assert change.etag == f'W/"{account["_version"]}"'
    # The coupling's snapshot before the job, for the labels the job moved.
    assert change.snapshot == {"bc": {"City": old_city}, "dataverse": {"City": old_city}}


async def test_undo_puts_back_the_values_from_before_the_sync(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for n, pair in enumerate(pairs):
        edit_bc(sandbox_app, pair.bc_id, city=f"Town {n}", phoneNumber=f"+1 555 010{n}")
    before = [both_sides(sandbox_app, p) for p in pairs]
    snapshots = [get_coupling(p.id).snapshot for p in pairs]
    job = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], SEND)
    assert job.count("modified") == 3
    assert [both_sides(sandbox_app, p) for p in pairs] != before

    undone = await undo(session, job.job_id)

    assert undone.count("modified") == 3, [r.message for r in undone.results]
    assert [both_sides(sandbox_app, p) for p in pairs] == before
    assert [get_coupling(p.id).snapshot for p in pairs] == snapshots
    assert "Undo of job" in undone.message and "3 records put back" in undone.message
    # The next synchronization does not take the undo for an edit in Dataverse: only the BC
    # edits from before the job are pending again, as they were before it.
    for pair in pairs:
        bc, account = stored_pair(session, sandbox_app, pair)
        diff = diff_records(session.mapping(MAPPING), bc, account, last_sync(get_coupling(pair.id)))
        assert (diff.bc_modified, diff.dataverse_modified) == (True, False)


async def test_undo_of_the_undo_gives_the_synced_values_back(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 2)
    for pair in pairs:
        edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0199")
    job = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], GET)
    synced = [both_sides(sandbox_app, p) for p in pairs]
    synced_snapshots = [get_coupling(p.id).snapshot for p in pairs]

    first = await undo(session, job.job_id)
    assert [bc_row(sandbox_app, p.bc_id)["city"] for p in pairs] != ["Shelbyville"] * 2
    second = await undo(session, first.job_id)

    assert second.count("modified") == 2, [r.message for r in second.results]
    assert [both_sides(sandbox_app, p) for p in pairs] == synced
    assert [get_coupling(p.id).snapshot for p in pairs] == synced_snapshots
    # Right after, a synchronization finds nothing to do.
    again = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], GET)
    assert again.count("unchanged") == 2


async def test_a_record_changed_since_is_reported_and_not_touched(session: SyncSession, sandbox_app: Starlette) -> None:
    changed, kept = await coupled_customers(session, sandbox_app, 2)
    for pair in (changed, kept):
        edit_bc(sandbox_app, pair.bc_id, city="Capital City")
    kept_before = both_sides(sandbox_app, kept)
    job = await synchronize_many(session, MAPPING, [changed.bc_id, kept.bc_id], SEND)
    edit_account(sandbox_app, changed.dataverse_id, address1_city="Ogdenville")

    undone = await undo(session, job.job_id)

    result = undone.result_for(changed.bc_id)
    assert result.outcome is Outcome.SKIPPED
    assert "was changed in Dataverse after job" in result.message and "(City)" in result.message
    assert account_row(sandbox_app, changed.dataverse_id)["address1_city"] == "Ogdenville"
    assert undone.result_for(kept.bc_id).outcome is Outcome.MODIFIED
    assert both_sides(sandbox_app, kept) == kept_before
    assert "1 record put back, 1 not touched" in undone.message


async def test_undo_of_some_records_of_a_job(session: SyncSession, sandbox_app: Starlette) -> None:
    first, second = await coupled_customers(session, sandbox_app, 2)
    old = both_sides(sandbox_app, first)
    for pair in (first, second):
        edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0142")
    job = await synchronize_many(session, MAPPING, [first.bc_id, second.bc_id], SEND)

    undone = await undo(session, job.job_id, [second.bc_id.upper()])

    assert [r.bc_id for r in undone.results] == [second.bc_id]
    assert account_row(sandbox_app, first.dataverse_id)["telephone1"] == "+1 555 0142"
    assert account_row(sandbox_app, second.dataverse_id)["telephone1"] != "+1 555 0142"
    assert both_sides(sandbox_app, first)[0] == {**old[0], "phoneNumber": "+1 555 0142"}


async def test_undo_of_a_merge_puts_both_sides_back(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0177")
    before = both_sides(sandbox_app, pair)
    job = await synchronize_one(session, MAPPING, pair.bc_id, MERGE)
    assert {c.side for c in job_changes(job.job_id)} == {Side.BC, Side.DATAVERSE}

    undone = await undo(session, job.job_id)

    assert undone.count("modified") == 2
    assert both_sides(sandbox_app, pair) == before


async def test_undo_of_a_creation_deletes_only_when_confirmed(session: SyncSession, sandbox_app: Starlette) -> None:
    [bc_id] = active_customer_ids(sandbox_app, 1)
    created = await create_in_dataverse(session, MAPPING, [bc_id], allow_duplicates=True)
    [change] = job_changes(created.job_id)
    assert change.action == INSERTED and change.fields["name"][0] is None
    account_id = get_by_bc_id(MAPPING, bc_id).dataverse_id

    asked = await undo(session, created.job_id)
    assert asked.result_for(bc_id).outcome is Outcome.SKIPPED
    assert "only when that is confirmed" in asked.result_for(bc_id).message
    assert account_row(sandbox_app, account_id) is not None

    confirmed = await undo(session, created.job_id, delete_created=True)

    assert confirmed.result_for(bc_id).outcome is Outcome.DELETED
    assert account_row(sandbox_app, account_id) is None
    assert get_by_bc_id(MAPPING, bc_id) is None


async def test_a_created_record_changed_since_is_not_deleted(session: SyncSession, sandbox_app: Starlette) -> None:
    [bc_id] = active_customer_ids(sandbox_app, 1)
    created = await create_in_dataverse(session, MAPPING, [bc_id], allow_duplicates=True)
    account_id = get_by_bc_id(MAPPING, bc_id).dataverse_id
    edit_account(sandbox_app, account_id, address1_city="North Haverbrook")

    undone = await undo(session, created.job_id, delete_created=True)

    result = undone.result_for(bc_id)
    assert result.outcome is Outcome.SKIPPED and "(City)" in result.message
    assert account_row(sandbox_app, account_id)["address1_city"] == "North Haverbrook"
    assert get_by_bc_id(MAPPING, bc_id) is not None


async def test_undo_refuses_an_unknown_job_or_one_that_wrote_nothing(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    with pytest.raises(SyncError, match="There is no synchronization job 999"):
        await undo(session, 999)
    nothing = await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    with pytest.raises(SyncError, match=f"job {nothing.job_id} wrote nothing"):
        await undo(session, nothing.job_id)


async def test_history_lists_each_job_that_wrote_the_record(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    old_city = account_row(sandbox_app, pair.dataverse_id)["address1_city"]
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    job = await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    undone = await undo(session, job.job_id)

    entries = await history(session, MAPPING, bc_row(sandbox_app, pair.bc_id)["number"])

    assert [e.job_id for e in entries[:2]] == [undone.job_id, job.job_id]
    latest, synced = entries[0], entries[1]
    assert (synced.service, synced.direction, synced.job_type) == ("Dataverse", "to-dataverse", "synchronization")
    [field] = synced.fields
    assert (field.label, field.field, field.before, field.after) == ("City", "address1_city", old_city, "Springfield")
    assert (latest.fields[0].before, latest.fields[0].after) == ("Springfield", old_city)
    assert entries[-1].action == INSERTED  # the creation of the account, first of all
    assert await history_of_record(session, MAPPING, pair.bc_id.upper()) == entries
    with pytest.raises(SyncError, match="no customer numbered NOPE"):
        await history(session, MAPPING, "NOPE")


async def test_changes_older_than_the_profiles_history_days_are_forgotten(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    from datetime import timedelta

    from bc_tui.store.fields import utc_now
    from bc_tui.store.models import RecordChange, SyncJob

    session.profile = dataclasses.replace(session.profile, history_days=30)
    first, second = await coupled_customers(session, sandbox_app, 2)
    edit_bc(sandbox_app, first.bc_id, city="Springfield")
    old = await synchronize_one(session, MAPPING, first.bc_id, SEND)
    # As if the job had run 31 days ago.
    RecordChange.update(created_at=utc_now() - timedelta(days=31)).where(RecordChange.job_id == old.job_id).execute()
    SyncJob.update(started_at=utc_now() - timedelta(days=31)).where(SyncJob.id == old.job_id).execute()
    edit_bc(sandbox_app, second.bc_id, city="Shelbyville")

    new = await synchronize_one(session, MAPPING, second.bc_id, SEND)  # every job forgets what is too old

    assert job_changes(old.job_id) == [] and len(job_changes(new.job_id)) == 1
    with pytest.raises(SyncError, match=f"job {old.job_id} is older than the 30 days history_days keeps"):
        await undo(session, old.job_id)
