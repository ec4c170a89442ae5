"""Synchronize modified records from the terminal app: what ``bc-tui sync --modified`` runs,
for the table mapping of the list in view or for every table mapping, under the job dialog.

Interface — runs inside a Textual worker and never raises (a refusal or a service error is one
sentence in a notification, and the flow returns None):

    async def synchronize_modified_flow(app, mapping_names=None) -> JobSummary | None

See docs/coupling-and-sync.md "Synchronizing modified records".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App

from bc_tui.sync.logged_jobs import combine_summaries
from bc_tui.tui.dialogs.confirm import ConfirmDialog
from bc_tui.tui.dialogs.job import summary_text
from bc_tui.tui.feedback import error_sentence, session_or_notify, tell
from bc_tui.tui.jobs import run_job
from bc_tui.tui.shown import notify

if TYPE_CHECKING:
    from bc_tui.sync.progress import JobSummary, ProgressCallback
    from bc_tui.sync.session import SyncSession

__all__ = ["modified_question", "synchronize_modified_flow"]

#: What a run of modified records does, under the question (the CLI's --modified help, in full).
DETAIL = (
    "Each table mapping runs in its own direction (Business Central to Dataverse first, then back), "
    "field by field; conflicting fields follow its Resolve Update Conflicts policy. "
    "A record that fails the same way twice is skipped: the errors screen (E) lists it."
)


def modified_question(names: Sequence[str], every: bool) -> str:
    """The confirmation's question, naming the table mappings the run covers."""
    which = f"of every table mapping ({', '.join(names)})" if every else f"of {', '.join(names)}"
    return f"Synchronize the records {which} modified since the last synchronization?"


async def synchronize_modified_flow(app: App[Any], mapping_names: Sequence[str] | None = None) -> JobSummary | None:
    """Synchronize modified records of ``mapping_names`` (None: every table mapping), after a
    confirmation: one synchronization job per table mapping, shown as one job with progress,
    cancel and summary; the summary goes to the status line too. None when nothing ran."""
    from bc_tui.sync.modified import synchronize_modified

    session = session_or_notify(app)
    if session is None:
        return None
    every = mapping_names is None
    names = list(session.mappings) if mapping_names is None else list(mapping_names)
    if not names:
        notify(app, "There is no table mapping to synchronize.", severity="warning")
        return None

    async def run_all(progress: ProgressCallback) -> JobSummary:
        return combine_summaries([await synchronize_modified(session, name, progress=progress) for name in names])

    try:
        return await _confirm_and_run(app, session, names, every, run_all)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - the contract: flows never raise
        notify(app, error_sentence(error), severity="error")
        return None


async def _confirm_and_run(
    app: App[Any], session: SyncSession, names: list[str], every: bool, run_all: Any
) -> JobSummary | None:
    for name in names:
        session.mapping(name)  # an unknown name is one sentence, before anything is asked
    question = modified_question(names, every)
    if not await app.push_screen_wait(ConfirmDialog(question, title="Synchronize modified records", detail=DETAIL)):
        return None
    what = "every table mapping" if every else ", ".join(names)
    summary = await run_job(app, f"Synchronize modified records of {what}", run_all)
    if summary is not None:
        tell(app, f"Modified records of {what}: {summary.message or summary_text(summary)}")
    return summary
