"""Fixing one broken coupling from the list or the card, and checking a table mapping's
couplings (docs/coupling-and-sync.md "Checking couplings without a synchronization").

Interface — each runs inside a Textual worker and never raises (as ``flows``)::

    async def fix_broken_flow(app, mapping_name, bc_id) -> bool
    async def check_couplings_flow(app, mapping_name) -> JobSummary | None

``fix_broken_flow`` looks both records up again, and when one is gone offers the errors screen's
fixes (``FixesDialog``): restore the deleted record, delete the coupling, delete the surviving
record (asked once more). The work is the errors screen's own (``sync.resolve``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App

from bc_tui.domain.names import sentence
from bc_tui.domain.text import shorten
from bc_tui.sync.check import broken_sentence, check_couplings, check_visible
from bc_tui.sync.logged_jobs import combine_summaries
from bc_tui.sync.pairs import coupling_description
from bc_tui.sync.resolve import delete_survivor, remove_broken_couplings, restore_deleted
from bc_tui.tui.dialogs.confirm import delete_survivor_dialog
from bc_tui.tui.dialogs.fixes import FixesDialog
from bc_tui.tui.dialogs.job import summary_text
from bc_tui.tui.feedback import error_sentence, session_or_notify, tell
from bc_tui.tui.jobs import run_job
from bc_tui.tui.shown import notify

if TYPE_CHECKING:
    from bc_tui.sync.progress import JobSummary

__all__ = ["check_couplings_flow", "fix_broken_flow"]

_FIXES = (
    "Restore the deleted record from the surviving one, delete the coupling (neither record is touched), "
    "or delete the surviving record."
)


async def fix_broken_flow(app: App[Any], mapping_name: str, bc_id: str) -> bool:
    """Offer the fixes of the coupling of ``bc_id`` when a record of it is gone; True when one
    was carried out (the caller reads its data again)."""
    session = session_or_notify(app)
    if session is None:
        return False
    try:
        mapping = session.mapping(mapping_name)
        checked = await check_visible(session, mapping_name, [bc_id])
    except Exception as error:  # noqa: BLE001 - flows never raise: one sentence
        notify(app, error_sentence(error), severity="error")
        return False
    if not checked:
        notify(app, "This record is not coupled, so it has no broken coupling to fix.", severity="warning")
        return False
    item = checked[0]
    description = coupling_description(mapping, item.coupling)
    if not item.broken:
        notify(app, f"{sentence(shorten(description))} and its coupled record both exist: the coupling is not broken.")
        return False
    fix = await app.push_screen_wait(
        FixesDialog(
            f"{broken_sentence(mapping, item)} {_FIXES}", can_delete_survivor=item.bc_exists or item.dataverse_exists
        )
    )
    ids = [item.coupling.id]
    try:
        if fix == "restore":
            summary = await run_job(
                app, f"Restore {shorten(description)}", lambda p: _combined(restore_deleted(session, ids, progress=p))
            )
        elif fix == "delete_coupling":
            await remove_broken_couplings(session, ids)
            tell(app, f"The coupling of {shorten(description)} was deleted; the records were not touched.")
            return True
        elif fix == "delete_record":
            sure = await app.push_screen_wait(delete_survivor_dialog(f"the surviving record of {shorten(description)}"))
            if not sure:
                tell(app, "Nothing was deleted.")
                return False
            summary = await run_job(
                app, f"Delete {shorten(description)}", lambda p: _combined(delete_survivor(session, ids, progress=p))
            )
        else:
            return False
    except Exception as error:  # noqa: BLE001 - flows never raise: one sentence
        notify(app, error_sentence(error), severity="error")
        return False
    if summary is not None:
        tell(app, summary_text(summary))
    return summary is not None


async def check_couplings_flow(app: App[Any], mapping_name: str) -> JobSummary | None:
    """Check couplings of a whole table mapping under the job dialog (progress, cancel); the
    summary, whose message says how many are broken."""
    session = session_or_notify(app)
    if session is None:
        return None
    summary = await run_job(
        app, f"Check couplings of {mapping_name}", lambda p: check_couplings(session, mapping_name, progress=p)
    )
    if summary is not None:
        tell(app, summary.message or summary_text(summary))
    return summary


async def _combined(jobs: Any) -> JobSummary:
    """One summary of an errors-screen call that runs one job per table mapping."""
    return combine_summaries(list(await jobs))
