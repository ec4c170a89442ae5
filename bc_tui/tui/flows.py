"""The coupling and synchronization journeys the screens start: dialogs, then the engine.

Interface — each runs inside a Textual worker (it waits for dialogs with
``push_screen_wait``) and never raises: a refusal or a service error becomes one sentence in
a notification (``shown.notify``: literal, never markup) and the flow returns None (or False).

    async def couple_flow(app, mapping_name, bc_id) -> bool
    async def match_flow(app, mapping_name, *, bc_ids=None) -> JobSummary | None
    async def synchronize_flow(app, mapping_name, bc_ids, *, picked=None, edits=None) -> JobSummary | None
    async def delete_coupling_flow(app, mapping_name, bc_ids) -> JobSummary | None
    async def create_flow(app, mapping_name, *, bc_ids=None, dataverse_ids=None) -> JobSummary | None
    async def undo_flow(app, job_id, bc_ids=None, record=None) -> JobSummary | None
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.names import bc_noun, dataverse_noun, join_labels
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.recommend import OPTION_TEXT, recommend_many
from bc_tui.domain.text import shorten
from bc_tui.tui.dialogs.confirm import ConfirmDialog
from bc_tui.tui.dialogs.coupling import CouplingChoice, CouplingDialog
from bc_tui.tui.dialogs.direction import DirectionDialog
from bc_tui.tui.dialogs.job import summary_text
from bc_tui.tui.dialogs.match import MatchDialog
from bc_tui.tui.feedback import error_sentence, session_or_notify, tell
from bc_tui.tui.fix_flow import fix_broken_flow
from bc_tui.tui.jobs import run_job
from bc_tui.tui.shown import notify

if TYPE_CHECKING:
    from bc_tui.sync.couple import CoupleResult
    from bc_tui.sync.progress import JobSummary
    from bc_tui.sync.session import SyncSession

#: What a guarded piece of work returns.
T = TypeVar("T")

__all__ = [
    "couple_flow",
    "create_flow",
    "delete_coupling_flow",
    "match_flow",
    "synchronize_flow",
    "undo_flow",
]


# --- shared helpers ------------------------------------------------------------------------------


async def _guarded(app: App[Any], work: Callable[[], Awaitable[T]], failed: T | None = None) -> T | None:
    """Run ``work``; any error becomes a notification and ``failed`` is returned."""
    try:
        return await work()
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - the contract: flows never raise
        app.log.error(f"flow failed: {error!r}")
        notify(app, error_sentence(error), severity="error")
        return failed


def _session_for(app: App[Any], chosen: bool, hint: str) -> SyncSession | None:
    """The open session when records are chosen; otherwise None, after telling the user why
    (``hint`` when nothing is chosen, the connection's state when no session is open)."""
    if not chosen:
        notify(app, hint, severity="warning")
        return None
    return session_or_notify(app)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- Set Up Coupling ---------------------------------------------------------------------------


async def couple_flow(app: App[Any], mapping_name: str, bc_id: str) -> bool:
    """Open Set Up Coupling for one BC record; True when the coupling was made.

    The dialog couples (and synchronizes once, when chosen) itself so that refusals stay in
    the dialog; this tells the user the result.
    """
    result = await _couple(app, mapping_name, bc_id)
    return result is not None


async def _couple(app: App[Any], mapping_name: str, bc_id: str) -> CoupleResult | None:
    if session_or_notify(app) is None:
        return None

    async def work() -> CoupleResult | None:
        choice: CouplingChoice | None = await app.push_screen_wait(CouplingDialog(mapping_name, bc_id))
        if choice is None:
            return None
        result = choice.result
        _tell_coupled(app, result)
        return result

    return await _guarded(app, work)


def _tell_coupled(app: App[Any], result: CoupleResult) -> None:
    """Say what Set Up Coupling did, including how the synchronization after it ended."""
    message = result.message
    sync = result.sync
    severity = "information"
    if sync is not None:
        outcome = sync.result_for(result.coupling.bc_id) if result.coupling else None
        if (
            outcome is not None
            and outcome.message
            and outcome.outcome in (Outcome.FAILED, Outcome.CONFLICT, Outcome.SKIPPED)
        ):
            message += f" The synchronization after coupling did not complete: {outcome.message}"
            severity = "warning"
        elif sync.message:
            message += f" {sync.message}"
    notify(app, message, title="Coupled", severity=severity)  # type: ignore[arg-type]


# --- Synchronize ---------------------------------------------------------------------------------


async def synchronize_flow(
    app: App[Any],
    mapping_name: str,
    bc_ids: Sequence[str],
    *,
    picked: Mapping[str, SyncDirection] | None = None,
    edits: Mapping[str, str] | None = None,
) -> JobSummary | None:
    """Synchronize Now (docs/coupling-and-sync.md "Synchronize Now") for one record or several; the
    summary, or None when nothing ran.

    One record: not coupled → offer to set up a coupling; bidirectional mapping → the direction
    dialog (recommended choice pre-selected, reasons, and for conflicting fields the per-field
    winners, starting from ``picked`` and ``edits``, the card's picks); one-way → a confirmation (No
    pre-selected when the destination holds newer data). Several records: send/get (or a
    confirmation) for all, run as one job with progress.
    """
    ids = [i for i in dict.fromkeys(bc_ids) if i]
    session = _session_for(app, bool(ids), "Choose a record to synchronize first.")
    if session is None:
        return None
    if len(ids) == 1:
        return await _guarded(app, lambda: _synchronize_one(app, session, mapping_name, ids[0], picked, edits))
    return await _guarded(app, lambda: _synchronize_many(app, session, mapping_name, ids))


async def _synchronize_one(
    app: App[Any],
    session: SyncSession,
    mapping_name: str,
    bc_id: str,
    picked: Mapping[str, SyncDirection] | None = None,
    edits: Mapping[str, str] | None = None,
) -> JobSummary | None:
    from bc_tui.sync.field_picks import picks_advice, record_choices
    from bc_tui.sync.preview import preview_sync
    from bc_tui.sync.synchronize import synchronize_one

    preview = await preview_sync(session, mapping_name, bc_id)
    record = shorten(preview.record)  # "customer 10000 <name>": the name may be very long
    if not preview.coupled:
        question = preview.question or f"The {record} is not coupled to Dataverse. Do you want to create a coupling?"
        if await app.push_screen_wait(ConfirmDialog(question, title="Not coupled")):
            result = await _couple(app, mapping_name, bc_id)
            sync = getattr(result, "sync", None)
            return sync
        return None
    if preview.bc_record is None or preview.dataverse_record is None:
        # A broken coupling cannot be synchronized: offer its fixes right here (the errors screen's).
        await fix_broken_flow(app, mapping_name, bc_id)
        return None
    if preview.problem or preview.recommendation is None:
        notify(app, preview.problem or f"The {record} cannot be synchronized now.", severity="warning")
        return None
    choices = record_choices(session, preview)
    advice = picks_advice(preview.recommendation, choices.picks)
    if len(advice.offered) < 2:
        return await _ask_and_synchronize(
            app,
            advice,
            preview.fields,
            record,
            lambda direction, progress: synchronize_one(session, mapping_name, bc_id, direction, progress=progress),
        )
    dialog = DirectionDialog(
        advice, fields=preview.fields, title="Synchronize", choices=choices, picked=picked, edits=edits
    )
    direction = await app.push_screen_wait(dialog)
    if direction is None:
        return None
    # The picked winners and typed values decide the conflicting fields of a merge; send and get
    # let their side win them, or (whole record) overwrite every field that differs.
    merge = direction is SyncDirection.MERGE
    typed = dict(dialog.edits) if merge else None
    winners = {label: side for label, side in dialog.picked.items() if label not in (typed or {})} if merge else None
    whole = dialog.whole_record
    return await run_job(
        app,
        f"Synchronize {record}",
        lambda progress: synchronize_one(
            session, mapping_name, bc_id, direction, choices=winners, edits=typed, whole_record=whole, progress=progress
        ),
    )


async def _synchronize_many(
    app: App[Any], session: SyncSession, mapping_name: str, ids: list[str]
) -> JobSummary | None:
    from bc_tui.domain.decisions import ConflictPolicy
    from bc_tui.sync.synchronize import synchronize_many

    advice = recommend_many(session.mapping(mapping_name), len(ids))
    if len(advice.offered) < 2:
        return await _ask_and_synchronize(
            app,
            advice,
            (),
            f"{len(ids)} records",
            lambda direction, progress: synchronize_many(session, mapping_name, ids, direction, progress=progress),
        )
    # Several records of a two-way mapping: the dialog also asks what to do with conflicting fields.
    dialog = DirectionDialog(advice, title="Synchronize", several=True)
    direction = await app.push_screen_wait(dialog)
    if direction is None:
        return None
    policy = ConflictPolicy.WIN if dialog.conflicts_win else ConflictPolicy.SKIP
    return await run_job(
        app,
        f"Synchronize {len(ids)} records",
        lambda progress: synchronize_many(session, mapping_name, ids, direction, conflicts=policy, progress=progress),
    )


async def _ask_and_synchronize(
    app: App[Any],
    advice: Any,
    fields: Sequence[Any],
    what: str,
    synchronize: Callable[[SyncDirection, Any], Awaitable[JobSummary]],
) -> JobSummary | None:
    """Ask the direction; then run the job "Synchronize <what>" (a record, or "N records") in
    that direction, or nothing when the user declines."""
    direction = await _ask_direction(app, advice, fields)
    if direction is None:
        return None
    return await run_job(app, f"Synchronize {what}", lambda progress: synchronize(direction, progress))


async def _ask_direction(app: App[Any], advice: Any, fields: Sequence[Any]) -> SyncDirection | None:
    """The direction dialog when there is a choice, else a yes/no confirmation of the one way."""
    if len(advice.offered) > 1:
        return await app.push_screen_wait(DirectionDialog(advice, fields=fields, title="Synchronize"))
    [only] = advice.offered
    question = advice.warning or advice.question
    detail = None if advice.warning is None else OPTION_TEXT[only]
    confirmed = await app.push_screen_wait(
        ConfirmDialog(question, title="Synchronize", detail=detail, default=advice.confirm_default)
    )
    return only if confirmed else None


# --- Delete Coupling -----------------------------------------------------------------------------


async def delete_coupling_flow(app: App[Any], mapping_name: str, bc_ids: Sequence[str]) -> JobSummary | None:
    """Delete Coupling (docs/coupling-and-sync.md "Delete Coupling") for the records, after a
    confirmation; neither record is changed."""
    from bc_tui.sync.lookup import couplings_of_bc_records
    from bc_tui.sync.uncouple import delete_couplings

    ids = [i for i in dict.fromkeys(bc_ids) if i]
    session = _session_for(app, bool(ids), "Choose a coupled record first.")
    if session is None:
        return None

    async def work() -> JobSummary | None:
        mapping = session.mapping(mapping_name)
        found = await couplings_of_bc_records(session, mapping.name, ids)
        if not found:
            what = f"The {bc_noun(mapping)} is" if len(ids) == 1 else "None of the selected records is"
            notify(app, f"{what} not coupled, so there is no coupling to delete.", severity="warning")
            return None
        if len(ids) == 1:
            [coupling] = found.values()
            name = " ".join(
                p for p in (bc_noun(mapping), shorten(coupling.bc_number), shorten(coupling.display_name)) if p
            )
            question = f"Delete the coupling of the {name}?"
        else:
            question = f"Delete the couplings of {_plural(len(found), 'selected record')}?"
        detail = "Neither the Business Central nor the Dataverse record is changed; only their coupling is deleted."
        if not await app.push_screen_wait(ConfirmDialog(question, title="Delete Coupling", detail=detail)):
            return None
        return await run_job(
            app,
            "Delete coupling" if len(found) == 1 else f"Delete {len(found)} couplings",
            lambda progress: delete_couplings(session, mapping_name, list(found), progress=progress),
        )

    return await _guarded(app, work)


# --- Create counterparts -----------------------------------------------------------------------


async def create_flow(
    app: App[Any],
    mapping_name: str,
    *,
    bc_ids: Sequence[str] | None = None,
    dataverse_ids: Sequence[str] | None = None,
) -> JobSummary | None:
    """Create Account in Dataverse (``bc_ids``) or Create Customer in BC (``dataverse_ids``), after
    a confirmation; each new record is coupled to the one it was made from."""
    from bc_tui.sync.create import create_in_bc, create_in_dataverse

    bc = [i for i in dict.fromkeys(bc_ids or ()) if i]
    dataverse = [i for i in dict.fromkeys(dataverse_ids or ()) if i]
    session = _session_for(app, bool(bc or dataverse), "Choose the records to create counterparts for first.")
    if session is None:
        return None

    async def work() -> JobSummary | None:
        mapping = session.mapping(mapping_name)
        if bc:
            target, count, source = "Dataverse", len(bc), bc_noun(mapping)
            made = dataverse_noun(mapping)
        else:
            target, count, source = "Business Central", len(dataverse), f"Dataverse {dataverse_noun(mapping)}"
            made = bc_noun(mapping)
        question = (
            f"Create {'a new ' + made if count == 1 else _plural(count, made)} in {target} from the "
            f"{'selected ' + source if count == 1 else _plural(count, 'selected ' + source)} and couple "
            f"{'it' if count == 1 else 'them'}?"
        )
        detail = (
            "Records already coupled are skipped; "
            "a record whose name already exists uncoupled is reported, not duplicated."
        )
        if not await app.push_screen_wait(ConfirmDialog(question, title=f"Create in {target}", detail=detail)):
            return None
        if bc:
            return await run_job(
                app,
                f"Create {made}s in Dataverse",
                lambda progress: create_in_dataverse(session, mapping_name, bc, progress=progress),
            )
        return await run_job(
            app,
            f"Create {made}s in Business Central",
            lambda progress: create_in_bc(session, mapping_name, dataverse, progress=progress),
        )

    return await _guarded(app, work)


# --- Match-Based Coupling ------------------------------------------------------------------------


async def match_flow(app: App[Any], mapping_name: str, *, bc_ids: Sequence[str] | None = None) -> JobSummary | None:
    """Match-Based Coupling of ``mapping_name``: the criteria dialog, then the job with progress,
    then its summary (coupled / created / failed). ``bc_ids``: only these BC records (the marked
    ones), else all; the job's title and the summary say which. Runs inside a worker; never raises."""
    from bc_tui.sync.errors import SyncError
    from bc_tui.sync.match import match_based_coupling

    session = session_or_notify(app)
    if session is None:
        return None
    try:
        mapping = session.mapping(mapping_name)
    except SyncError as error:
        notify(app, str(error), severity="error")
        return None
    request = await app.push_screen_wait(MatchDialog(mapping))
    if request is None:
        return None
    which = "all records" if bc_ids is None else f"the {_plural(len(bc_ids), 'marked record')}"
    summary = await run_job(
        app,
        f"Match-based coupling of {mapping.name} ({which})",
        lambda progress: match_based_coupling(
            session,
            mapping.name,
            request.criteria,
            create_new=request.create_new,
            sync_after=request.sync_after,
            progress=progress,
            bc_ids=bc_ids,
        ),
    )
    if summary is not None:
        tell(app, f"Match-based coupling of {mapping.name} ({which}): {summary.message or summary_text(summary)}")
    return summary


# --- Undo ----------------------------------------------------------------------------------------


async def undo_flow(
    app: App[Any],
    job_id: int,
    bc_ids: Sequence[str] | None = None,
    record: str | None = None,
    *,
    force: Sequence[str] = (),
) -> JobSummary | None:
    """Undo synchronization job ``job_id`` (docs/undo-and-history.md "Undo") after a confirmation;
    a second question, No by default, decides whether the records it created are deleted.
    ``bc_ids``: only these BC records of the job (``record`` names the one, e.g. on its history);
    ``force``: the fields (labels) of those records to put back although they changed since."""
    from bc_tui.sync.undo import undo, undoable

    session = session_or_notify(app)
    if session is None:
        return None
    wanted = list(bc_ids) if bc_ids is not None else None
    forced = {bc_id: list(force) for bc_id in wanted or ()} if force else None

    async def work() -> JobSummary | None:
        plan = await undoable(session, job_id, wanted)
        if not (plan.changed or plan.created):
            what = f" to {shorten(record)}" if record else ""
            notify(app, f"Job {job_id} wrote nothing{what}, so there is nothing to undo.", severity="warning")
            return None
        question = f"Undo job {job_id} for {shorten(record)}?" if record else f"Undo job {job_id}?"
        if force:
            question = f"{question[:-1]}, forcing {shorten(join_labels(list(force)))}?"
        changed = {
            0: "",
            1: "The record it changed gets the values it had before it. ",
        }.get(plan.changed, f"The {plan.changed} records it changed get the values they had before it. ")
        since = (
            "A record changed since is left alone and reported. "
            if not force
            else f"Forced: {shorten(join_labels(list(force)))} too, although changed since (the write is "
            "guarded by the version just read); other fields changed since stay as they are. "
        )
        detail = f"{changed}{since}The undo is a job of its own: it can be undone."
        if not await app.push_screen_wait(ConfirmDialog(question, title="Undo", detail=detail)):
            return None
        delete_created = False
        if plan.created:
            delete_created = await app.push_screen_wait(
                ConfirmDialog(
                    f"Also delete the {_plural(plan.created, 'record')} job {job_id} created, and their couplings?",
                    title="Undo a creation",
                    detail="Only records unchanged since they were created are deleted. A deletion cannot be undone.",
                    default=False,
                )
            )
        return await run_job(
            app,
            f"Undo job {job_id}",
            lambda progress: undo(
                session, job_id, wanted, delete_created=delete_created, force=forced, progress=progress
            ),
        )

    return await _guarded(app, work)
