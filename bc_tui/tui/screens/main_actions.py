"""What the main screen's actions do with the selection of a list (couple, synchronize, delete
coupling, create, fix broken couplings, match-based coupling, synchronize modified, check
couplings): the dispatch to the flows, kept apart from the screen's layout and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App

from bc_tui.sync.lookup import coupled_bc_ids
from bc_tui.sync.progress import JobSummary
from bc_tui.tui import fix_flow, flows
from bc_tui.tui.backend import app_session
from bc_tui.tui.modified_flow import synchronize_modified_flow
from bc_tui.tui.record_sources import RecordSource
from bc_tui.tui.screens.selection import selected_keys
from bc_tui.tui.widgets.record_list import RecordList

#: Puts one sentence on the status line.
Say = Callable[[str], None]

# Outcomes after which a record is done with (its mark is cleared); failures stay marked.
_FINISHED = frozenset({"inserted", "modified", "unchanged", "coupled", "uncoupled", "deleted"})


async def perform(app: App[Any], action: str, record_list: RecordList, source: RecordSource, say: Say) -> list[str]:
    """Do ``action`` of the main screen on the selection of ``record_list``; returns the keys the
    action finished with (the list re-reads those rows). ``say`` puts a sentence on the status line."""
    mapping = source.mapping_name
    if action == "match":
        return await _match(app, record_list, source, say)
    if action in ("sync_modified", "sync_modified_all"):
        # Not about the selection: marks stay as they are.
        await synchronize_modified_flow(app, [mapping] if action == "sync_modified" else None)
        return []
    if action == "check_couplings":
        await fix_flow.check_couplings_flow(app, mapping)
        return []
    keys = await selected_keys(app, action, record_list, source, say)
    if keys is None:
        return []
    if not keys:
        say("No record is selected: move the cursor to one or mark some.")
        return []
    if source.side == "dataverse":
        return await _perform_dataverse(app, action, mapping, keys, say)
    outside = [k for k in keys if k in source.outside_filter]
    if outside:
        keys = [k for k in keys if k not in source.outside_filter]
        say(
            f"{len(outside)} record(s) are outside the {mapping} table filter (e.g. blocked) "
            "and get no Dataverse actions."
        )
        if not keys:
            return []
    if action == "couple":
        coupled = []
        for key in keys:
            if await flows.couple_flow(app, mapping, key):
                coupled.append(key)
        return coupled
    if action == "synchronize":
        return _finished(await flows.synchronize_flow(app, mapping, keys), keys, bc=True)
    if action == "delete_coupling":
        return _finished(await flows.delete_coupling_flow(app, mapping, keys), keys, bc=True)
    if action == "create":
        return _finished(await flows.create_flow(app, mapping, bc_ids=keys), keys, bc=True)
    if action == "fix_broken":
        return [key for key in keys if await fix_flow.fix_broken_flow(app, mapping, key)]
    return []


async def _match(app: App[Any], record_list: RecordList, source: RecordSource, say: Say) -> list[str]:
    """Match-based coupling of the marked BC records when there are marks, else of all."""
    bc_ids = None
    if record_list.marked_count and source.side == "bc":
        bc_ids = await selected_keys(app, "match", record_list, source, say)  # gone, hidden
        if not bc_ids:
            return []
    summary = await flows.match_flow(app, source.mapping_name, bc_ids=bc_ids)
    if summary is None or bc_ids is None:
        return []
    return _finished(summary, bc_ids, bc=True)


async def _perform_dataverse(app: App[Any], action: str, mapping: str, keys: list[str], say: Say) -> list[str]:
    """The actions on a Dataverse list: create in BC, or act on the coupled BC records."""
    if action == "create":
        return _finished(await flows.create_flow(app, mapping, dataverse_ids=keys), keys, bc=False)
    coupled = await coupled_bc_ids_of(app, mapping, keys)
    if not coupled:
        say(
            "None of these Dataverse records is coupled: set up couplings from the Business "
            "Central list, or press n to create them in Business Central."
        )
        return []
    bc_ids = list(coupled.values())
    back = {bc: dv for dv, bc in coupled.items()}
    if action == "synchronize":
        summary = await flows.synchronize_flow(app, mapping, bc_ids)
    elif action == "delete_coupling":
        summary = await flows.delete_coupling_flow(app, mapping, bc_ids)
    elif action == "fix_broken":
        return [dv for bc, dv in back.items() if await fix_flow.fix_broken_flow(app, mapping, bc)]
    else:  # couple: one at a time, from the BC record's side
        done = [dv for bc, dv in back.items() if await flows.couple_flow(app, mapping, bc)]
        return done
    return [back[k] for k in _finished(summary, bc_ids, bc=True) if k in back]


async def coupled_bc_ids_of(app: App[Any], mapping: str, dataverse_ids: Iterable[str]) -> dict[str, str]:
    """Dataverse id → the coupled BC SystemId (read-only lookup in the coupling store);
    nothing without a session (the store is read on the session's database thread)."""
    session = app_session(app)
    if session is None:
        return {}
    return await coupled_bc_ids(session, mapping, dataverse_ids)


def _finished(summary: JobSummary | None, keys: list[str], *, bc: bool) -> list[str]:
    """The keys among ``keys`` whose records the job finished with (not failed or skipped)."""
    if summary is None:
        return []
    wanted = {k.lower(): k for k in keys}
    done = []
    for result in summary.results:
        key = (result.bc_id if bc else result.dataverse_id) or ""
        if str(result.outcome) in _FINISHED and key.lower() in wanted:
            done.append(wanted[key.lower()])
    return done
