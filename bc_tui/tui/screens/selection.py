"""What an action on the main screen acts on, and the questions before it (docs/coupling-and-sync.md
"Marks"): marks of records that are gone are dropped, marks the filter hides are asked about, and a
job over several records first says how many of them will be skipped and why.

The counting is the sync layer's (``sync/marked.py``): batched reads and the store's coupling
count, never a loop over the marks here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from bc_tui.sync.marked import MarkCheck, SelectionCount, check_marks, count_selection
from bc_tui.tui.backend import app_session
from bc_tui.tui.dialogs.confirm import ConfirmDialog
from bc_tui.tui.record_sources import RecordSource
from bc_tui.tui.widgets.record_list import RecordList

#: Above this many explicit marks, they are not read back by id after each refresh (that would be
#: one request per 60 marks); the job itself then reports the records that are gone.
MARK_CHECK_LIMIT = 5_000

#: Per action: which selected records it skips, in words ("not coupled": they have no coupling).
SKIPPED_WHEN: dict[str, str] = {
    "synchronize": "not coupled",
    "delete_coupling": "not coupled",
    "create": "already coupled",
}


def _records(count: int) -> str:
    return f"{count:,} record{'' if count == 1 else 's'}"


def gone_text(count: int) -> str:
    """The status sentence after dropping the marks of records that no longer exist."""
    verb = "no longer exists; its mark was" if count == 1 else "no longer exist; their marks were"
    return f"{count:,} marked record{'' if count == 1 else 's'} {verb} dropped."


async def check_list_marks(app: App[Any], record_list: RecordList, source: RecordSource) -> MarkCheck | None:
    """Read the explicit marks of ``record_list`` back by id: drop those of records that are gone
    and note those the filter hides. None when there is nothing to check (no marks, "mark all",
    more than `MARK_CHECK_LIMIT`, no session) or the list changed meanwhile."""
    session = app_session(app)
    selection = record_list.selection
    if session is None or selection.all or not selection.keys or len(selection.keys) > MARK_CHECK_LIMIT:
        if not selection.keys:
            record_list.set_hidden_marks(frozenset())
        return None
    check = await check_marks(session, source.mapping_name, source.side, source.query, selection.keys)
    if record_list.source is not source:  # filtered again meanwhile: a newer check follows
        return None
    if check.gone:
        record_list.unmark_keys(list(check.gone))
    record_list.set_hidden_marks(check.hidden)
    return check


async def _count(
    app: App[Any], record_list: RecordList, source: RecordSource, keys: list[str] | None
) -> SelectionCount:
    session = app_session(app)
    if session is None:
        return SelectionCount(len(keys or ()), 0)
    if keys is not None:
        return await count_selection(session, source.mapping_name, source.side, keys=keys)
    selection = record_list.selection
    return await count_selection(
        session,
        source.mapping_name,
        source.side,
        every=record_list.row_count,
        excluded=selection.excluded,
        coupled_filter=source.query.coupled,
    )


def skipped_text(action: str, counts: SelectionCount) -> str:
    """E.g. "96,000 selected: 0 coupled, 96,000 will be skipped (not coupled)."."""
    why = SKIPPED_WHEN[action]
    if why == "already coupled":
        acted, skipped, acted_word = counts.not_coupled, counts.coupled, "not coupled"
    else:
        acted, skipped, acted_word = counts.coupled, counts.not_coupled, "coupled"
    return f"{counts.selected:,} selected: {acted:,} {acted_word}, {skipped:,} will be skipped ({why})."


def _skipped(action: str, counts: SelectionCount) -> int:
    return counts.coupled if SKIPPED_WHEN[action] == "already coupled" else counts.not_coupled


async def selected_keys(
    app: App[Any], action: str, record_list: RecordList, source: RecordSource, say: Callable[[str], None]
) -> list[str] | None:
    """The keys ``action`` acts on: the marks (after the questions) or the cursor row; None when
    the user stops or nothing would be done (``say`` tells why on the status line)."""
    if not record_list.marked_count:
        key = record_list.cursor_key
        return [key] if key else []
    selection = record_list.selection
    counted_by_store = not source.query.text.strip()  # a text filter's rows are counted by key
    if selection.all and record_list.count_known and counted_by_store and action in SKIPPED_WHEN:
        # "Mark all" of 100,000 rows: count before reading a single key, so nobody waits for nothing.
        counts = await _count(app, record_list, source, None)
        if not await _confirm_skipped(app, action, counts, say):
            return None
        return await record_list.marked_keys()
    check = await check_list_marks(app, record_list, source)
    if check is not None and check.gone:
        say(gone_text(len(check.gone)))
    keys = await record_list.marked_keys()
    if not keys:
        return None
    hidden = [k for k in keys if k in record_list.hidden_marks]
    if hidden and not await app.push_screen_wait(
        ConfirmDialog(
            f"{_records(len(keys))} marked, {len(hidden):,} of them hidden by the filter. Act on all "
            f"{len(keys):,} marked records?",
            title="Marks hidden by the filter",
            detail="No keeps them marked and does nothing: clear the marks (u) or the filter (/, then esc) "
            "to see what you act on.",
            default=False,
        )
    ):
        say("Nothing done: the marks hidden by the filter are still marked.")
        return None
    if len(keys) > 1 and action in SKIPPED_WHEN:
        counts = await _count(app, record_list, source, keys)
        if not await _confirm_skipped(app, action, counts, say):
            return None
    return keys


async def _confirm_skipped(app: App[Any], action: str, counts: SelectionCount, say: Callable[[str], None]) -> bool:
    """Whether to go on: yes when nothing is skipped; a question when some are; no (and the
    sentence on the status line) when all would be."""
    skipped = _skipped(action, counts)
    if not skipped:
        return True
    text = skipped_text(action, counts)
    if skipped >= counts.selected:
        say(f"{text} Nothing to do.")
        return False
    if await app.push_screen_wait(
        ConfirmDialog(text, title="Some records will be skipped", detail="Go on with the others?")
    ):
        return True
    say("Nothing done.")
    return False


__all__ = ["MARK_CHECK_LIMIT", "check_list_marks", "gone_text", "selected_keys", "skipped_text"]
