"""Couplings: which Business Central record is coupled to which Dataverse record, and how each
was last synchronized (docs/coupling-and-sync.md "What a coupling remembers, and Skipped").

This module only gathers the coupling functions under one name for the callers in ``sync``,
``tui`` and their tests that still say ``couplings.get_by_bc_id(...)``. The code lives in:

- :mod:`bc_tui.store.records`: the plain values (CouplingRecord, Side, SyncResult, ...);
- :mod:`bc_tui.store.coupling_queries`: reading couplings;
- :mod:`bc_tui.store.coupling_writes`: coupling and deleting couplings;
- :mod:`bc_tui.store.sync_state`: results, times, ETags, snapshots, Skipped, broken;
- :mod:`bc_tui.store.create_intents`: creating a counterpart safely.

New code imports from those modules; nothing inside ``bc_tui.store`` imports this one.
"""

from __future__ import annotations

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
    problem_couplings,
)
from bc_tui.store.coupling_rows import CHUNK_SIZE
from bc_tui.store.coupling_writes import couple, couple_many, remove_coupling, remove_couplings, update_cached_names
from bc_tui.store.create_intents import abandon_intent, begin_create_intent, complete_intent, pending_intents
from bc_tui.store.records import (
    CouplingRecord,
    CreateIntentRecord,
    Side,
    SyncResult,
    SyncResultUpdate,
    SyncStateRefresh,
    normalize_id,
)
from bc_tui.store.sync_state import (
    clear_skipped,
    mark_broken,
    record_sync_result,
    record_sync_results,
    refresh_sync_states,
)

__all__ = [
    "CHUNK_SIZE",
    "CouplingRecord",
    "CreateIntentRecord",
    "Side",
    "SyncResult",
    "SyncResultUpdate",
    "SyncStateRefresh",
    "abandon_intent",
    "begin_create_intent",
    "clear_skipped",
    "complete_intent",
    "count_couplings",
    "couple",
    "couple_many",
    "couplings_by_bc_id",
    "couplings_by_dataverse_id",
    "find_orphans",
    "get_by_bc_id",
    "get_by_dataverse_id",
    "get_coupling",
    "iter_couplings",
    "list_couplings",
    "mark_broken",
    "normalize_id",
    "pending_intents",
    "problem_couplings",
    "record_sync_result",
    "record_sync_results",
    "refresh_sync_states",
    "remove_coupling",
    "remove_couplings",
    "update_cached_names",
]
