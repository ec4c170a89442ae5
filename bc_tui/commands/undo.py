"""``bc-tui undo`` and ``bc-tui history``: take a synchronization job back, and read what the
jobs wrote to one record (docs/undo-and-history.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bc_tui.commands.common import (
    Context,
    UsageError,
    add_common_options,
    add_mapping_option,
    cached_numbers,
    command,
)
from bc_tui.commands.log import _positive
from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, Report, to_json
from bc_tui.commands.summaries import summary_document, summary_lines
from bc_tui.domain.text import shorten

if TYPE_CHECKING:
    from bc_tui.sync.history import HistoryEntry


def register(subparsers: Any) -> None:
    """Add ``undo`` and ``history`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "undo",
        help="undo a synchronization job, or some of its records",
        description="Put back what synchronization job JOB wrote: each field it changed gets its value "
        "from before the job, and the coupling remembers the values from before it too. A record "
        "changed since the job wrote it is not touched and is reported with the fields that changed. "
        "The undo is a job of its own, so it can be undone in turn. Records a job created are deleted "
        "(with their couplings) only with --delete-created, and only when unchanged since. --force puts "
        "back named fields of the records named although they changed since.",
        epilog="examples:\n  bc-tui log\n  bc-tui undo 42\n  bc-tui undo 42 10000 20000\n"
        "  bc-tui undo 41 --delete-created\n  bc-tui undo 42 10000 --force City --force 'Phone No.'\n"
        "  bc-tui undo 42 10000 --force '*'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("job", type=_positive, metavar="JOB", help="the job's number, as 'bc-tui log' lists it")
    parser.add_argument("numbers", nargs="*", metavar="NO", help="only these BC numbers of the job's records")
    parser.add_argument(
        "--delete-created",
        action="store_true",
        help="for a job that created records: delete them and their couplings (if unchanged since)",
    )
    parser.add_argument(
        "--force",
        action="append",
        default=[],
        metavar="FIELD",
        help="for the records named (NO): put this field back although the record changed since the job "
        "wrote it (its label, BC or Dataverse name, or '*' for every field the job wrote); repeatable",
    )
    add_common_options(parser)
    parser.set_defaults(func=command(undo_command))

    parser = subparsers.add_parser(
        "history",
        help="show what the synchronization jobs wrote to one record",
        description="The history of a BC record and its Dataverse counterpart, newest first: each "
        "job that wrote either of them, when, in which direction, and each field before -> after.",
        epilog="examples:\n  bc-tui history 10000\n  bc-tui history CT000123 --mapping CONTACT --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("number", metavar="NO", help="the BC number of the record")
    add_mapping_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=command(history_command))


async def undo_command(ctx: Context) -> Report:
    """Undo the job, or the named records of it."""
    from bc_tui.store import jobs
    from bc_tui.store.errors import NotFoundError
    from bc_tui.sync.errors import SyncError
    from bc_tui.sync.undo import forced_labels, undo

    try:
        job = await ctx.session.db(jobs.get_job, ctx.args.job)
    except NotFoundError:
        raise UsageError(f"There is no synchronization job {ctx.args.job}; 'bc-tui log' lists the jobs.") from None
    if job.mapping is None:
        raise UsageError(f"Job {job.id} wrote no records of a table mapping, so there is nothing to undo.")
    fields = [f for f in ctx.args.force if f.strip()]
    if ctx.args.force and not fields:
        raise UsageError("Name the field to force after --force: its label, BC or Dataverse name, or '*'.")
    if fields and not ctx.args.numbers:
        raise UsageError(
            f"Name the BC numbers of the records whose fields to force: bc-tui undo {job.id} NO --force FIELD."
        )
    try:
        labels = forced_labels(ctx.session.mapping(job.mapping), fields)
    except SyncError as error:
        raise UsageError(str(error)) from None
    ids = None
    if ctx.args.numbers:
        ids = await _coupled_ids(ctx, job.mapping, ctx.args.numbers)
    force = {bc_id: labels for bc_id in ids or ()} if labels else None
    summary = await undo(
        ctx.session, job.id, ids, delete_created=ctx.args.delete_created, force=force, progress=ctx.progress
    )
    numbers = await cached_numbers(ctx.session, job.mapping, summary)
    lines = summary_lines(summary, "Undo", numbers)
    if job.inserted and not ctx.args.delete_created:
        lines.append(
            f"Job {job.id} created records: 'bc-tui undo {job.id} --delete-created' deletes them and their "
            "couplings (each only if unchanged since)."
        )
    untouched = summary.count("skipped") + summary.count("failed")
    return Report(
        document=summary_document(summary, numbers, undone_job_id=job.id),
        lines=lines,
        exit_code=EXIT_FAILURES if untouched else EXIT_OK,
    )


async def _coupled_ids(ctx: Context, mapping: str, numbers: list[str]) -> list[str]:
    """The BC records of the job's table mapping with these numbers, by their couplings (the
    number the coupling remembers: a record deleted since is still named)."""
    from bc_tui.domain.names import bc_noun
    from bc_tui.store.history import bc_id_numbered

    wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    found = {number: await ctx.session.db(bc_id_numbered, mapping, number) for number in wanted}
    missing = [number for number, bc_id in found.items() if bc_id is None]
    if missing:
        noun = bc_noun(ctx.session.mapping(mapping))
        raise UsageError(
            f"No coupled {noun} of {mapping} is numbered {shorten(', '.join(missing))}; check the number "
            "('bc-tui history NO' shows what the jobs wrote to a record)."
        )
    return [bc_id for bc_id in found.values() if bc_id is not None]


async def history_command(ctx: Context) -> Report:
    """The history of one record."""
    from bc_tui.sync.errors import SyncError
    from bc_tui.sync.history import history

    number = ctx.args.number.strip()
    if not number:
        raise UsageError("Name the BC number of the record whose history to show.")
    try:
        entries = await history(ctx.session, ctx.args.mapping, number)
    except SyncError as error:
        raise UsageError(str(error)) from None
    document = {"mapping": ctx.args.mapping, "number": number, "entries": to_json(entries)}
    if not entries:
        return Report(document=document, lines=[f"No synchronization job has written {number} yet."])
    lines = [f"History of {number} ({ctx.args.mapping}), newest first:"]
    for entry in entries:
        lines += _entry_lines(entry)
    return Report(document=document, lines=lines)


def _entry_lines(entry: HistoryEntry) -> list[str]:
    """'2026-12-02 13:20:01 job 7 Synchronization send: Dataverse account … modified' and its fields."""
    from bc_tui.domain.words import job_type_text, short_direction

    when = f"{entry.at:%Y-%m-%d %H:%M:%S}" if entry.at else "?"
    what = " ".join(p for p in (job_type_text(entry.job_type), short_direction(entry.direction)) if p)
    head = f"{when} job {entry.job_id} {what}: {entry.service} {shorten(entry.record)} {entry.action}"
    return [head] + [f"    {f.label}: {_value(f.before)} -> {_value(f.after)}" for f in entry.fields]


def _value(value: Any) -> str:
    """A field value as the history shows it: empty ones say so, text is quoted."""
    if value is None or value == "":
        return "(empty)"
    return shorten(repr(value) if isinstance(value, str) else str(value))
