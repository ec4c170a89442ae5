"""Connections writing the same unique rows at the same moment (two bc-tui processes, as threads
with a connection each): every one gets an answer, none an integrity error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import peewee
import pytest

from bc_tui.store import database, mapping_store
from bc_tui.store.coupling_writes import couple, couple_many
from bc_tui.store.create_intents import begin_create_intent
from bc_tui.store.errors import BcRecordAlreadyCoupledError
from bc_tui.store.migrations import migrate
from bc_tui.store.models import Coupling, CreateIntent, TableMappingRow
from bc_tui.store.records import CouplingRecord, CreateIntentRecord, Side

RACERS = 4
ROUNDS = 25
BC = "00000000-0000-0000-0000-0000000000{:02d}"
DV = "10000000-0000-0000-0000-0000000000{:02d}"


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(racer)`` in RACERS threads released at the same instant; what each returned or raised."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[Any] = [None] * RACERS

    def one(racer: int) -> None:
        try:
            database.database_proxy.connect(reuse_if_open=True)  # connected before the start
            barrier.wait(timeout=30)
            outcomes[racer] = work(racer)
        except BaseException as error:  # noqa: BLE001 - whatever a racer raises is its outcome, examined by the test
            outcomes[racer] = error
        finally:
            database.close()  # this thread's own connection

    threads = [threading.Thread(target=one, args=(racer,)) for racer in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_coupling_the_same_pair_at_once_gives_one_coupling(store: peewee.Database) -> None:
    for n in range(ROUNDS):
        outcomes = race(lambda racer, n=n: couple("CUSTOMER", BC.format(n), DV.format(n)))
        assert all(isinstance(o, CouplingRecord) for o in outcomes), outcomes
        assert len({o.id for o in outcomes}) == 1
    assert Coupling.select().count() == ROUNDS


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_coupling_one_record_to_different_ones_at_once_lets_one_win(store: peewee.Database) -> None:
    for n in range(ROUNDS):
        outcomes = race(lambda racer, n=n: couple("CUSTOMER", BC.format(n), DV.format(n * RACERS + racer)))
        won = [o for o in outcomes if isinstance(o, CouplingRecord)]
        assert len(won) == 1, outcomes
        assert all(isinstance(o, BcRecordAlreadyCoupledError) for o in outcomes if o not in won), outcomes


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_match_based_coupling_of_the_same_pairs_at_once_gives_one_coupling_each(store: peewee.Database) -> None:
    pairs = [(BC.format(n), DV.format(n)) for n in range(ROUNDS)]
    outcomes = race(lambda racer: couple_many("CUSTOMER", pairs))
    assert all(isinstance(o, list) for o in outcomes), [o for o in outcomes if not isinstance(o, list)]
    for results in outcomes:
        assert all(isinstance(r, CouplingRecord) for r in results)
    assert Coupling.select().count() == ROUNDS


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_two_jobs_beginning_the_same_create_intent_share_it(store: peewee.Database) -> None:
    for n in range(ROUNDS):
        outcomes = race(
            lambda racer, n=n: begin_create_intent("CUSTOMER", Side.BC, BC.format(n), f"planned-{n}-{racer}")
        )
        assert all(isinstance(o, CreateIntentRecord) for o in outcomes), outcomes
        assert len({(o.id, o.planned_id) for o in outcomes}) == 1  # everyone reuses the first plan
    assert CreateIntent.select().count() == ROUNDS


@pytest.mark.parametrize("empty_db", ["sqlite-file", "postgresql"], indirect=True)
def test_processes_starting_at_once_on_a_new_database_seed_the_table_mappings_once(empty_db: peewee.Database) -> None:
    migrate(empty_db)
    outcomes = race(lambda racer: mapping_store.ensure_table_mappings())
    assert all(isinstance(o, tuple) and o for o in outcomes), outcomes
    assert TableMappingRow.select().count() == len(outcomes[0])


def test_starting_with_the_same_config_overrides_again_rewrites_nothing(store: peewee.Database) -> None:
    overrides = {"CUSTOMER": {"direction": "to-dataverse"}}
    first = mapping_store.apply_overrides(overrides)
    rows = sorted((row.id, row.name) for row in TableMappingRow.select())

    again = mapping_store.apply_overrides(overrides)  # the next bc-tui start, same config

    assert again == first
    assert sorted((row.id, row.name) for row in TableMappingRow.select()) == rows  # not deleted and re-inserted
