"""Bulk sync-state writes: ``record_sync_results`` and ``refresh_sync_states`` store exactly what
the same items store one call at a time, on every database."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import pytest

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.coupling_rows import CHUNK_SIZE
from bc_tui.store.coupling_writes import couple_many
from bc_tui.store.errors import NotFoundError
from bc_tui.store.records import CouplingRecord, Side, SyncResult, SyncResultUpdate, SyncStateRefresh
from bc_tui.store.sync_state import mark_broken, record_sync_result, record_sync_results, refresh_sync_states

SEND = SyncDirection.TO_DATAVERSE
GET = SyncDirection.FROM_DATAVERSE
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
MAPPING = "CUSTOMER"

# Differ between two couplings given the same history: their ids, and the moment of writing.
_IDENTITY = {"id", "bc_id", "dataverse_id", "created_at", "updated_at", "to_dataverse_at", "from_dataverse_at"}


def state(record: CouplingRecord) -> dict[str, Any]:
    """Everything a coupling remembers, minus identity and wall-clock times (kept as 'was set')."""
    values = {k: v for k, v in dataclasses.asdict(record).items() if k not in _IDENTITY}
    values["to_dataverse_at set"] = record.to_dataverse_at is not None
    values["from_dataverse_at set"] = record.from_dataverse_at is not None
    return values


def new_couplings(count: int) -> list[CouplingRecord]:
    made = couple_many(MAPPING, [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(count)])
    assert all(isinstance(record, CouplingRecord) for record in made)
    return made  # type: ignore[return-value]


def prepare(records: list[CouplingRecord]) -> None:
    """Give the couplings varied starting points: failed once, skipped, broken, synced before."""
    for index, record in enumerate(records):
        kind = index % 5
        if kind == 1:
            record_sync_result(SyncResultUpdate(record.id, SEND, SyncResult.FAILURE, job_id=1, error="Same."))
        elif kind == 2:  # skipped, the way the app gets there: the same failure twice
            record_sync_result(SyncResultUpdate(record.id, SEND, SyncResult.FAILURE, job_id=1, error="Same."))
            record_sync_result(SyncResultUpdate(record.id, SEND, SyncResult.FAILURE, job_id=2, error="Same."))
        elif kind == 3:
            mark_broken(record.id, Side.DATAVERSE)
        elif kind == 4:
            record_sync_result(
                SyncResultUpdate(
                    record.id, GET, SyncResult.SUCCESS, bc_modified_at=T0, bc_etag="e0", snapshot={"bc": {"n": 0}}
                )
            )


def random_update(rng: random.Random, index: int) -> tuple[int, dict[str, Any]]:
    """A sync result for the coupling at ``index``: successes with times moving either way,
    failures repeating or not, transient or not."""
    direction = rng.choice([SEND, GET])
    stamp = lambda: rng.choice([None, T0 + timedelta(minutes=rng.randint(-90, 90))])  # noqa: E731
    fields: dict[str, Any] = {"direction": direction, "job_id": rng.randint(1, 9)}
    if rng.random() < 0.5:
        fields |= {
            "result": SyncResult.SUCCESS,
            "bc_modified_at": stamp(),
            "bc_etag": rng.choice([None, f"b{rng.randint(0, 99)}"]),
            "dataverse_modified_at": stamp(),
            "dataverse_etag": rng.choice([None, f"d{rng.randint(0, 99)}"]),
            "snapshot": rng.choice([None, {"bc": {"n": rng.randint(0, 9)}, "dataverse": {"m": "x"}}]),
        }
    else:
        fields |= {
            "result": SyncResult.FAILURE,
            "error": rng.choice(["Same.", "Same.", "Other.", None]),
            "may_skip": rng.random() < 0.7,
            "bc_modified_at": stamp(),  # ignored on failure, by both functions
        }
    return index, fields


def single(coupling_id: int, fields: dict[str, Any]) -> CouplingRecord:
    rest = {k: v for k, v in fields.items() if k not in ("direction", "result")}
    return record_sync_result(SyncResultUpdate(coupling_id, fields["direction"], fields["result"], **rest))


def test_bulk_results_store_exactly_what_single_results_store(store: peewee.Database) -> None:
    rng = random.Random(20250501)
    one_by_one, in_bulk = new_couplings(40), new_couplings(40)
    prepare(one_by_one)
    prepare(in_bulk)
    for _ in range(6):
        # Some couplings get two results in one call (a merge stores send and get; a repeat
        # must see the first): the bulk call applies them in order, as calls one by one would.
        round_ = [random_update(rng, rng.randrange(40)) for _ in range(60)]
        expected = [single(one_by_one[i].id, fields) for i, fields in round_]
        got = record_sync_results([SyncResultUpdate(in_bulk[i].id, **fields) for i, fields in round_])
        assert [state(r) for r in got] == [state(r) for r in expected]
    stored_single = [state(get_coupling(r.id)) for r in one_by_one]  # type: ignore[arg-type]
    stored_bulk = [state(get_coupling(r.id)) for r in in_bulk]  # type: ignore[arg-type]
    assert stored_bulk == stored_single
    # The scenario really exercised the rules, not just successes.
    assert any(s["skipped"] for s in stored_bulk) and any(not s["skipped"] for s in stored_bulk)
    assert any(s["to_dataverse_result"] is SyncResult.FAILURE for s in stored_bulk)


def test_bulk_refresh_stores_exactly_what_single_refresh_stores(store: peewee.Database) -> None:
    rng = random.Random(7)
    one_by_one, in_bulk = new_couplings(20), new_couplings(20)
    prepare(one_by_one)
    prepare(in_bulk)
    for _ in range(4):
        round_ = [
            (
                rng.randrange(20),
                {
                    "bc_modified_at": rng.choice([None, T0 + timedelta(minutes=rng.randint(-60, 60))]),
                    "bc_etag": rng.choice([None, f"b{rng.randint(0, 9)}"]),
                    "dataverse_modified_at": rng.choice([None, T0 + timedelta(minutes=rng.randint(-60, 60))]),
                    "dataverse_etag": rng.choice([None, f"d{rng.randint(0, 9)}"]),
                    "snapshot": rng.choice([None, {"bc": {"n": rng.randint(0, 9)}}]),
                },
            )
            for _ in range(30)
        ]
        # One call per item is the reference: a bulk call must store what calls one by one store.
        expected = [refresh_sync_states([SyncStateRefresh(one_by_one[i].id, **fields)])[0] for i, fields in round_]
        got = refresh_sync_states([SyncStateRefresh(in_bulk[i].id, **fields) for i, fields in round_])
        assert [state(r) for r in got] == [state(r) for r in expected]
    assert [state(get_coupling(r.id)) for r in in_bulk] == [state(get_coupling(r.id)) for r in one_by_one]  # type: ignore[arg-type]


def test_success_in_bulk_clears_skipped_and_broken_and_keeps_newer_times(
    store: peewee.Database, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    skipped, broken = new_couplings(2)
    make_skipped(skipped.id)
    mark_broken(broken.id, Side.BC)
    record_sync_result(SyncResultUpdate(skipped.id, SEND, SyncResult.SUCCESS, bc_modified_at=T0, bc_etag="new"))
    stale = T0 - timedelta(seconds=1)
    got = record_sync_results(
        [
            SyncResultUpdate(skipped.id, GET, SyncResult.SUCCESS, job_id=5, bc_modified_at=stale, bc_etag="old"),
            SyncResultUpdate(broken.id, SEND, SyncResult.SUCCESS, job_id=5, snapshot={"bc": {"a": 1}}),
        ]
    )
    assert (got[0].skipped, got[0].bc_modified_at, got[0].bc_etag) == (False, T0, "new")
    assert got[0].from_dataverse_result is SyncResult.SUCCESS and got[0].from_dataverse_job_id == 5
    assert (got[1].broken, got[1].snapshot) == (False, {"bc": {"a": 1}})
    assert get_coupling(broken.id) == got[1]


def test_repeated_failure_in_one_call_skips_unless_transient(store: peewee.Database) -> None:
    coupling, transient = new_couplings(2)
    got = record_sync_results(
        [
            SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Name is too long."),
            SyncResultUpdate(transient.id, SEND, SyncResult.FAILURE, error="Throttled.", may_skip=False),
            SyncResultUpdate(coupling.id, SEND, SyncResult.FAILURE, error="Name is too long."),
            SyncResultUpdate(transient.id, SEND, SyncResult.FAILURE, error="Throttled.", may_skip=False),
        ]
    )
    assert [record.skipped for record in got] == [False, False, True, False]
    assert get_coupling(coupling.id).skipped is True  # type: ignore[union-attr]


def test_more_couplings_than_one_query_holds(store: peewee.Database) -> None:
    many = new_couplings(CHUNK_SIZE + 10)
    got = record_sync_results(
        [SyncResultUpdate(r.id, SEND, SyncResult.SUCCESS, job_id=3, bc_etag=f"e{i}") for i, r in enumerate(many)]
    )
    assert [r.id for r in got] == [r.id for r in many]
    last = get_coupling(many[-1].id)
    assert last is not None and (last.bc_etag, last.to_dataverse_job_id) == (f"e{len(many) - 1}", 3)


def test_a_missing_coupling_stores_nothing(store: peewee.Database) -> None:
    present = new_couplings(1)[0]
    items = [
        SyncResultUpdate(present.id, SEND, SyncResult.SUCCESS),
        SyncResultUpdate(present.id + 999, SEND, SyncResult.SUCCESS),
    ]
    with pytest.raises(NotFoundError, match=f"coupling {present.id + 999} no longer exists"):
        record_sync_results(items)
    assert get_coupling(present.id).to_dataverse_result is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("update", "error"),
    [
        (dict(direction=SyncDirection.MERGE, result=SyncResult.SUCCESS), "per direction"),
        (dict(direction=SEND, result=SyncResult.SUCCESS, bc_modified_at=datetime(2025, 1, 1)), "naive datetime"),
    ],
)
def test_invalid_items_are_refused_and_nothing_is_stored(
    store: peewee.Database, update: dict[str, Any], error: str
) -> None:
    first, second = new_couplings(2)
    with pytest.raises(ValueError, match=error):
        record_sync_results(
            [SyncResultUpdate(first.id, SEND, SyncResult.SUCCESS), SyncResultUpdate(second.id, **update)]
        )
    assert get_coupling(first.id).to_dataverse_result is None  # type: ignore[union-attr]


def test_nothing_to_store(store: peewee.Database) -> None:
    assert record_sync_results([]) == []
    assert refresh_sync_states([]) == []


def test_couple_many_returns_what_is_stored_and_caches_names(store: peewee.Database) -> None:
    ids = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(CHUNK_SIZE + 7)]
    names = {bc: (f"C{n:05d}", f"Customer {n}") for n, (bc, _) in enumerate(ids) if n % 3}
    made = couple_many(MAPPING, ids, names=names)
    assert all(isinstance(record, CouplingRecord) for record in made)
    assert made == [get_coupling(record.id) for record in made]  # type: ignore[union-attr]
    assert [(r.bc_number, r.display_name) for r in made] == [  # type: ignore[union-attr]
        names.get(bc, (None, None)) for bc, _ in ids
    ]
    # Coupling the same pairs again leaves them as they are, and names the ones without a name.
    again = couple_many(MAPPING, ids, names={bc: ("N", "Named later") for bc, _ in ids})
    assert [r.id for r in again] == [r.id for r in made]  # type: ignore[union-attr]
    assert [(r.bc_number, r.display_name) for r in again] == [  # type: ignore[union-attr]
        names.get(bc, ("N", "Named later")) for bc, _ in ids
    ]
    assert [get_coupling(r.id) for r in again] == again  # type: ignore[union-attr]
