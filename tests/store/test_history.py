"""What jobs overwrote (store.history): stored and read back, restored couplings, pruning; on
every database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import peewee

from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.coupling_writes import couple
from bc_tui.store.fields import utc_now
from bc_tui.store.history import (
    MODIFIED,
    CouplingRestore,
    RecordChangeEntry,
    bc_id_numbered,
    job_changes,
    prune_history,
    record_changes,
    record_history,
    restore_coupling_state,
    restore_coupling_states,
)
from bc_tui.store.models import RecordChange
from bc_tui.store.records import Side

MAPPING = "CUSTOMER"


def entry(job_id: int, bc_id: str, dataverse_id: str, **fields: list[object]) -> RecordChangeEntry:
    return RecordChangeEntry(
        job_id=job_id,
        mapping=MAPPING,
        coupling_id=None,
        bc_id=bc_id,
        dataverse_id=dataverse_id,
        side=Side.DATAVERSE,
        action=MODIFIED,
        record=f"customer {bc_id[:4]}",
        fields=dict(fields),
        snapshot={"bc": {"City": "Old"}, "dataverse": {"City": "Old"}},
        etag='W/"7"',
    )


def guid() -> str:
    return str(uuid.uuid4())


def test_changes_are_stored_in_bulk_and_read_back_by_job_and_by_record(store: peewee.Database) -> None:
    ids = [(guid(), guid()) for _ in range(450)]  # more than one INSERT's worth
    record_changes([entry(1, bc, dv, address1_city=["Old", f"New {n}"]) for n, (bc, dv) in enumerate(ids)])
    record_changes([entry(2, ids[0][0], ids[0][1], creditlimit=[Decimal("10.5"), 20])])

    first = job_changes(1)
    assert len(first) == 450
    assert [c.fields["address1_city"][1] for c in first[:2]] == ["New 0", "New 1"]
    assert (first[0].side, first[0].etag, first[0].snapshot["dataverse"]) == (Side.DATAVERSE, 'W/"7"', {"City": "Old"})
    assert [c.bc_id for c in job_changes(1, [ids[3][0].upper()])] == [ids[3][0]]
    # Newest first; values JSON cannot hold are kept as text.
    history = record_history(MAPPING, ids[0][0])
    assert [(c.job_id, c.fields) for c in history] == [
        (2, {"creditlimit": ["10.5", 20]}),
        (1, {"address1_city": ["Old", "New 0"]}),
    ]
    assert history[0].created_at is not None


def test_restoring_a_coupling_puts_back_the_snapshot_labels_and_the_side_etag(store: peewee.Database) -> None:
    coupling = couple(MAPPING, guid(), guid(), bc_number="10000")
    restore_coupling_state(
        coupling.id, Side.DATAVERSE, 'W/"1"', None, {"bc": {"City": "A"}, "dataverse": {"City": "A"}}
    )
    restore_coupling_state(coupling.id, Side.DATAVERSE, 'W/"2"', utc_now(), {"dataverse": {"Phone No.": "1"}})

    restored = get_coupling(coupling.id)
    assert restored.snapshot == {"bc": {"City": "A"}, "dataverse": {"City": "A", "Phone No.": "1"}}
    assert restored.dataverse_etag == 'W/"2"' and restored.dataverse_modified_at is not None
    assert bc_id_numbered(MAPPING, "10000") == coupling.bc_id
    assert bc_id_numbered(MAPPING, "99999") is None
    restore_coupling_state(coupling.id, Side.BC, 'W/"3"', None, None)
    assert (get_coupling(coupling.id).snapshot, get_coupling(coupling.id).bc_etag) == ({}, 'W/"3"')


def test_prune_forgets_only_what_is_older(store: peewee.Database) -> None:
    record_changes([entry(1, guid(), guid(), city=["a", "b"]), entry(2, guid(), guid(), city=["b", "c"])])
    RecordChange.update(created_at=utc_now() - timedelta(days=100)).where(RecordChange.job_id == 1).execute()

    assert prune_history(utc_now() - timedelta(days=90)) == 1
    assert (job_changes(1), len(job_changes(2))) == ([], 1)


def test_many_couplings_are_restored_in_one_call(store: peewee.Database) -> None:
    first, second = couple(MAPPING, guid(), guid()), couple(MAPPING, guid(), guid())
    when = utc_now()
    restore_coupling_states(
        [
            CouplingRestore(first.id, Side.BC, 'W/"5"', when, {"bc": {"City": "X"}}),
            CouplingRestore(second.id, Side.DATAVERSE, 'W/"6"', None, {"dataverse": {"City": "Y"}}),
        ]
    )
    one, two = get_coupling(first.id), get_coupling(second.id)
    assert (one.bc_etag, one.bc_modified_at, one.snapshot) == ('W/"5"', when, {"bc": {"City": "X"}})
    assert (two.dataverse_etag, two.dataverse_modified_at, two.snapshot) == (
        'W/"6"',
        None,
        {"dataverse": {"City": "Y"}},
    )
