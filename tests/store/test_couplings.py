"""Couplings: one-to-one rules, batch lookups, the sync state rules of docs/coupling-and-sync.md "What a coupling remembers, and Skipped", and create intents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import peewee
import pytest

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.skipped import should_skip
from bc_tui.store.coupling_queries import (
    count_couplings,
    couplings_by_bc_id,
    couplings_by_dataverse_id,
    find_orphans,
    get_by_bc_id,
    get_by_dataverse_id,
    get_coupling,
    iter_couplings,
    list_couplings,
)
from bc_tui.store.coupling_writes import couple, couple_many, remove_coupling, remove_couplings
from bc_tui.store.create_intents import abandon_intent, begin_create_intent, complete_intent, pending_intents
from bc_tui.store.errors import (
    BcRecordAlreadyCoupledError,
    CouplingError,
    DataverseRecordAlreadyCoupledError,
    NotFoundError,
)
from bc_tui.store.records import CouplingRecord, Side, SyncResult, SyncResultUpdate, SyncStateRefresh
from bc_tui.store.sync_state import clear_skipped, mark_broken, record_sync_result, refresh_sync_states

SEND = SyncDirection.TO_DATAVERSE
GET = SyncDirection.FROM_DATAVERSE
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def guid() -> str:
    return str(uuid.uuid4())


# --- one-to-one ----------------------------------------------------------------------------------


def test_couple_and_look_up_from_either_side(store: peewee.Database) -> None:
    bc, dv = guid(), guid()
    record = couple("CUSTOMER", "{" + bc.upper() + "}", dv, bc_number="10000", display_name="Adatum")
    assert (record.bc_id, record.dataverse_id, record.bc_number) == (bc, dv, "10000")  # ids normalized
    assert get_by_bc_id("CUSTOMER", bc) == record
    assert get_by_dataverse_id("CUSTOMER", dv.upper()) == record
    assert get_by_bc_id("CONTACT", bc) is None  # couplings belong to one table mapping


def test_coupling_the_same_pair_again_is_harmless(store: peewee.Database) -> None:
    first = couple("CUSTOMER", "b1", "d1")
    assert couple("CUSTOMER", "b1", "d1") == first
    assert count_couplings("CUSTOMER") == 1


def test_a_bc_record_cannot_be_coupled_twice(store: peewee.Database) -> None:
    existing = couple("CUSTOMER", "b1", "d1", bc_number="10000")
    with pytest.raises(BcRecordAlreadyCoupledError) as caught:
        couple("CUSTOMER", "b1", "d2")
    assert str(caught.value) == (
        "The Business Central record 10000 (b1) is already coupled to another Dataverse record in CUSTOMER; "
        "delete that coupling first."
    )
    assert caught.value.existing == existing


def test_a_dataverse_record_cannot_be_coupled_twice(store: peewee.Database) -> None:
    existing = couple("CUSTOMER", "b1", "d1")
    with pytest.raises(
        DataverseRecordAlreadyCoupledError, match="The Dataverse record d1 is already coupled"
    ) as caught:
        couple("CUSTOMER", "b2", "d1")
    assert caught.value.existing == existing
    assert get_by_bc_id("CUSTOMER", "b2") is None


def test_stale_coupling_is_replaced_and_the_new_one_starts_fresh(store: peewee.Database) -> None:
    """docs/coupling-and-sync.md "Set Up Coupling": when the BC record holding the old coupling is gone, the caller replaces it."""
    stale = couple("CUSTOMER", "gone", "d1")
    record_sync_result(
        SyncResultUpdate(stale.id, SEND, SyncResult.SUCCESS, bc_modified_at=T0, snapshot={"bc": {"name": "x"}})
    )
    with pytest.raises(CouplingError) as caught:
        couple("CUSTOMER", "b2", "d1")
    assert caught.value.existing.bc_id == "gone"  # what the caller checks for existence
    fresh = couple("CUSTOMER", "b2", "d1", replace=True)
    assert get_by_bc_id("CUSTOMER", "gone") is None
    assert (fresh.bc_modified_at, fresh.snapshot, fresh.to_dataverse_result) == (None, {}, None)


def test_find_orphans_lists_couplings_whose_record_vanished(store: peewee.Database) -> None:
    couple("CUSTOMER", "b1", "d1")
    couple("CUSTOMER", "b2", "d2")
    couple("CUSTOMER", "b3", "d3")
    assert [r.bc_id for r in find_orphans("CUSTOMER", existing_bc_ids=["B1", "b3"])] == ["b2"]
    assert [r.bc_id for r in find_orphans("CUSTOMER", existing_dataverse_ids=["d2"])] == ["b1", "b3"]


def test_remove_one_many_and_all_of_a_mapping(store: peewee.Database) -> None:
    records = [couple("CUSTOMER", f"b{i}", f"d{i}") for i in range(5)]
    couple("CONTACT", "c1", "e1")
    assert remove_coupling(records[0].id) == records[0]
    assert remove_coupling(records[0].id) is None
    removed = remove_couplings("CUSTOMER", bc_ids=["b1"], dataverse_ids=["d2"])
    assert sorted(r.bc_id for r in removed) == ["b1", "b2"]
    assert len(remove_couplings("CUSTOMER", all_of_mapping=True)) == 2
    assert count_couplings("CUSTOMER") == 0
    assert count_couplings("CONTACT") == 1


# --- batch lookups ---------------------------------------------------------------------------------


def test_batch_lookups_cover_many_chunks(store: peewee.Database) -> None:
    pairs = [(guid(), guid()) for _ in range(1200)]  # more than two chunks of 500
    assert all(not isinstance(r, CouplingError) for r in couple_many("CUSTOMER", pairs))
    wanted = [bc for bc, _ in pairs[::2]] + ["not-coupled"]
    by_bc = couplings_by_bc_id("CUSTOMER", wanted)
    assert set(by_bc) == set(wanted[:-1])
    assert all(by_bc[bc].dataverse_id == dv for bc, dv in pairs[::2])
    by_dv = couplings_by_dataverse_id("CUSTOMER", [dv.upper() for _, dv in pairs])
    assert len(by_dv) == 1200
    both = list_couplings("CUSTOMER", bc_ids=[pairs[0][0]], dataverse_ids=[pairs[0][1], pairs[1][1]])
    assert len(both) == 2  # the record found through both ids is listed once
    assert len(list_couplings("CUSTOMER")) == 1200


def test_couple_many_applies_the_one_to_one_rules_pair_by_pair(store: peewee.Database) -> None:
    existing = couple("CUSTOMER", "b1", "d1")
    results = couple_many(
        "CUSTOMER",
        [("b1", "d1"), ("b1", "d9"), ("b2", "d1"), ("B3", "D3"), ("b4", "d3"), ("b5", "d5")],
    )
    assert results[0] == existing  # already coupled that way: fine
    assert isinstance(results[1], BcRecordAlreadyCoupledError)
    assert isinstance(results[2], DataverseRecordAlreadyCoupledError)
    assert isinstance(results[3], CouplingRecord) and (results[3].bc_id, results[3].dataverse_id) == ("b3", "d3")
    assert isinstance(results[4], DataverseRecordAlreadyCoupledError)  # claimed earlier in the same call
    assert isinstance(results[5], CouplingRecord) and get_by_bc_id("CUSTOMER", "b5") == results[5]
    assert count_couplings("CUSTOMER") == 3


def test_iter_couplings_pages_through_all_in_id_order(store: peewee.Database) -> None:
    ids = [couple("CUSTOMER", f"b{i}", f"d{i}").id for i in range(7)]
    couple("CONTACT", "x", "y")
    assert [r.id for r in iter_couplings("CUSTOMER", batch_size=3)] == ids


# --- synchronization state -------------------------------------------------------------------------


def test_success_stores_times_etags_and_snapshot(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    snapshot = {"bc": {"displayName": "Adatum"}, "dataverse": {"name": "Adatum"}}
    record = record_sync_result(
        SyncResultUpdate(
            coupling.id,
            SEND,
            SyncResult.SUCCESS,
            job_id=7,
            bc_modified_at=T0,
            bc_etag='W/"1"',
            dataverse_modified_at=T0,
            dataverse_etag='W/"9"',
            snapshot=snapshot,
        )
    )
    assert (record.to_dataverse_result, record.to_dataverse_job_id, record.from_dataverse_result) == (
        SyncResult.SUCCESS,
        7,
        None,
    )
    assert (record.bc_etag, record.dataverse_etag) == ('W/"1"', 'W/"9"')
    assert get_coupling(coupling.id).snapshot == snapshot  # type: ignore[union-attr]


def test_timestamps_only_move_forward(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.SUCCESS, bc_modified_at=T0, bc_etag="new"))
    late = record_sync_result(
        SyncResultUpdate(coupling.id, GET, SyncResult.SUCCESS, bc_modified_at=T0 - timedelta(seconds=1), bc_etag="old")
    )
    assert (late.bc_modified_at, late.bc_etag) == (T0, "new")  # the older read changed nothing
    [later] = refresh_sync_states(
        [SyncStateRefresh(coupling.id, bc_modified_at=T0 + timedelta(microseconds=1), dataverse_modified_at=T0)]
    )
    assert later.bc_modified_at == T0 + timedelta(microseconds=1)  # microseconds survive the round trip
    assert later.dataverse_modified_at == T0


def test_repeated_identical_failure_marks_the_coupling_skipped(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    first = record_sync_result(
        SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, job_id=1, error="Name is too long.")
    )
    assert (first.skipped, first.failed, first.to_dataverse_error) == (False, True, "Name is too long.")
    other = record_sync_result(
        SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, job_id=2, error="Another error.")
    )
    assert other.skipped is False  # a different message is not a repeat
    again = record_sync_result(
        SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, job_id=3, error="Another error.")
    )
    assert again.skipped is True and again.to_dataverse_job_id == 3


def test_a_repeat_differing_only_in_surrounding_whitespace_marks_skipped(store: peewee.Database) -> None:
    # The rule lives in bc_tui.domain.skipped; the store once compared to the letter and disagreed.
    coupling = couple("CUSTOMER", "b1", "d1")
    record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Name is too long.\n"))
    again = record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Name is too long."))
    assert again.skipped is True
    assert again.skipped == should_skip("Name is too long.", "Name is too long.\n", transient=False)


def test_failures_in_different_directions_do_not_add_up(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Same."))
    assert record_sync_result(SyncResultUpdate(coupling.id, GET, SyncResult.FAILURE, error="Same.")).skipped is False


def test_transient_failures_never_skip(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    for _ in range(3):
        record = record_sync_result(
            SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Throttled.", may_skip=False)
        )
    assert record.skipped is False and record.failed is True


def test_failure_keeps_the_last_synced_state(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    record_sync_result(
        SyncResultUpdate(coupling.id, SEND, SyncResult.SUCCESS, bc_modified_at=T0, snapshot={"bc": {"a": 1}})
    )
    failed = record_sync_result(
        SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="x", bc_modified_at=T0 + timedelta(hours=1))
    )
    assert (failed.bc_modified_at, failed.snapshot) == (T0, {"bc": {"a": 1}})


def test_retry_clears_skipped_for_one_or_all(
    store: peewee.Database, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    records = [couple("CUSTOMER", f"b{i}", f"d{i}") for i in range(3)]
    contact = couple("CONTACT", "c", "e")
    for record in [*records, contact]:
        make_skipped(record.id)
    assert clear_skipped([records[0].id]) == 1
    assert get_coupling(records[0].id).skipped is False  # type: ignore[union-attr]
    assert clear_skipped(mapping="CUSTOMER") == 2
    assert get_coupling(contact.id).skipped is True  # type: ignore[union-attr]
    assert clear_skipped() == 1


def test_retried_record_needs_two_fresh_identical_failures(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Same."))
    assert record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Same.")).skipped
    clear_skipped([coupling.id])
    assert record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Same.")).skipped is False
    assert record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Same.")).skipped is True


def test_success_clears_skipped_and_broken(
    store: peewee.Database, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    make_skipped(coupling.id)
    assert mark_broken(coupling.id, Side.DATAVERSE).broken
    record = record_sync_result(SyncResultUpdate(coupling.id, GET, SyncResult.SUCCESS))
    assert (record.skipped, record.broken, record.from_dataverse_error) == (False, False, None)


def test_merge_is_not_a_direction_to_record(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    with pytest.raises(ValueError, match="not merge"):
        record_sync_result(SyncResultUpdate(coupling.id, SyncDirection.MERGE, SyncResult.SUCCESS))


def test_recording_on_a_removed_coupling_says_so(store: peewee.Database) -> None:
    coupling = couple("CUSTOMER", "b1", "d1")
    remove_coupling(coupling.id)
    with pytest.raises(NotFoundError, match=f"The coupling {coupling.id} no longer exists"):
        record_sync_result(SyncResultUpdate(coupling.id, SEND, SyncResult.SUCCESS))


# --- create intents ----------------------------------------------------------------------------


def test_an_interrupted_create_is_resumed_with_the_same_planned_id(store: peewee.Database) -> None:
    planned = guid()
    intent = begin_create_intent("CUSTOMER", Side.BC, "B1", planned, job_id=4)
    # The process dies here; the next run asks again with a freshly generated GUID.
    rerun = begin_create_intent("CUSTOMER", Side.BC, "b1", guid())
    assert rerun == intent and rerun.planned_id == planned and rerun.state == "pending"
    assert pending_intents() == [intent]
    assert pending_intents("CONTACT") == []


def test_completing_an_intent_couples_and_forgets_it(store: peewee.Database) -> None:
    planned = guid()
    intent = begin_create_intent("CUSTOMER", Side.BC, "b1", planned)
    assert pending_intents() == [intent]
    coupling = complete_intent(intent.id, bc_id="b1", dataverse_id=planned, bc_number="10000")
    assert get_by_dataverse_id("CUSTOMER", planned) == coupling
    assert pending_intents() == []
    with pytest.raises(NotFoundError):
        complete_intent(intent.id, bc_id="b1", dataverse_id=planned)


def test_a_failed_completion_keeps_the_intent(store: peewee.Database) -> None:
    couple("CUSTOMER", "other", "d1")
    intent = begin_create_intent("CUSTOMER", Side.BC, "b1", "d1")
    with pytest.raises(DataverseRecordAlreadyCoupledError):
        complete_intent(intent.id, bc_id="b1", dataverse_id="d1")
    assert pending_intents() == [intent]  # nothing half-done: the next run sees it again


def test_abandoned_intent_lets_a_new_plan_start(store: peewee.Database) -> None:
    intent = begin_create_intent("CONTACT", Side.DATAVERSE, "d9", "C00042")
    abandon_intent(intent.id)
    assert begin_create_intent("CONTACT", Side.DATAVERSE, "d9", "C00043").planned_id == "C00043"
