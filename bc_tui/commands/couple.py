"""``bc-tui couple``, ``delete-coupling`` (alias ``uncouple``) and ``create``: set up, delete and create couplings."""

from __future__ import annotations

import argparse
from typing import Any

from bc_tui.commands.common import (
    Context,
    UsageError,
    add_common_options,
    add_mapping_option,
    add_sync_after_option,
    cached_numbers,
    command,
    numbers_by_id,
    numbers_or_all,
    resolve_numbers,
)
from bc_tui.commands.output import EXIT_OK, Report
from bc_tui.commands.summaries import summary_document, summary_exit_code, summary_lines, summary_report


def register(subparsers: Any) -> None:
    """Add ``couple``, ``delete-coupling`` (alias ``uncouple``) and ``create`` to the CLI's subparsers."""
    couple = subparsers.add_parser(
        "couple",
        help="couple a BC record with a Dataverse record (by name, id, or a new one)",
        description="Set Up Coupling: couple one Business Central customer (or contact) with a Dataverse "
        "account (or contact). Coupling is one-to-one.",
    )
    couple.add_argument("number", metavar="NO", help="the BC number of the record, e.g. 10000 or CT000001")
    target = couple.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="NAME", help="the Dataverse record's name (exact match first, then prefix)")
    target.add_argument("--dataverse-id", metavar="GUID", help="the Dataverse record's id")
    target.add_argument("--create-new", action="store_true", help="create the Dataverse record from the BC data")
    add_sync_after_option(couple)
    add_mapping_option(couple)
    add_common_options(couple)
    couple.set_defaults(func=command(couple_command, validate=_validate_couple, check_mappings=True))

    # "uncouple" was the command's name before bc-tui said "delete coupling" everywhere; scripts
    # that call it keep working (docs/keys-and-words.md, "Delete coupling").
    delete = subparsers.add_parser(
        "delete-coupling",
        aliases=["uncouple"],
        help="delete couplings (the records themselves are untouched); 'uncouple' is an alias",
        description="Delete Coupling: delete the couplings of the named records; neither record is "
        "changed. 'bc-tui uncouple' is an alias of this command, kept for existing scripts.",
    )
    delete.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the records whose coupling to delete")
    delete.add_argument("--all", action="store_true", help="delete every coupling of the table mapping")
    add_mapping_option(delete)
    add_common_options(delete)
    delete.set_defaults(func=command(delete_coupling_command, validate=numbers_or_all("whose coupling to delete")))

    create = subparsers.add_parser(
        "create",
        help="create the counterpart of records and couple it",
        description="Create Account in Dataverse (from BC numbers), or with --from-dataverse create "
        "Customer in Business Central (from Dataverse ids); each new record is coupled. "
        "A same-named uncoupled record on the other side is not duplicated.",
    )
    create.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the records to create in Dataverse")
    create.add_argument(
        "--from-dataverse",
        nargs="+",
        default=None,
        metavar="GUID",
        help="Dataverse ids of the records to create in Business Central instead",
    )
    add_mapping_option(create)
    add_common_options(create)
    create.set_defaults(func=command(create_command, check_mappings=True))


def _validate_couple(args: argparse.Namespace) -> None:
    if args.create_new and args.sync:
        raise UsageError(
            "--create-new creates the Dataverse record from the BC data, so --sync does not apply; drop one of them."
        )


async def couple_command(ctx: Context) -> Report:
    """Couple one BC record; optionally synchronize once afterwards."""
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.couple import couple_record

    args = ctx.args
    (record,) = await resolve_numbers(ctx.session, args.mapping, [args.number])
    result = await couple_record(
        ctx.session,
        args.mapping,
        record.id,
        dataverse_id=args.dataverse_id,
        dataverse_name=args.to,
        create_new=args.create_new,
        sync_after=SyncDirection(args.sync) if args.sync else None,
    )
    coupling = result.coupling
    document: dict[str, Any] = {
        "job_id": result.job_id,
        "number": record.number,
        "bc_id": record.id,
        "dataverse_id": coupling.dataverse_id if coupling else None,
        "created": result.created,
        "message": result.message,
        "removed_stale_coupling": result.removed_stale is not None,
        "sync": None,
    }
    lines = [result.message]
    if result.removed_stale is not None:
        lines.append("A stale coupling of that Dataverse record (its BC record no longer exists) was deleted.")
    exit_code = EXIT_OK
    if result.sync is not None:
        sync = sync_outcome(result.sync)
        numbers = numbers_by_id([record])
        document["sync"] = summary_document(sync, numbers)
        lines += summary_lines(sync, f"Synchronized {args.sync}", numbers)
        exit_code = summary_exit_code(sync)
    return Report(document=document, lines=lines, exit_code=exit_code)


def sync_outcome(answer: Any) -> Any:
    """The job summary inside what ``synchronize_one`` answered (a summary, or a result holding one)."""
    return getattr(answer, "summary", answer)


async def delete_coupling_command(ctx: Context) -> Report:
    """Delete the couplings of the named records, or of the whole mapping."""
    from bc_tui.sync.uncouple import delete_couplings

    args = ctx.args
    if args.all:
        summary = await delete_couplings(ctx.session, args.mapping, all_of_mapping=True, progress=ctx.progress)
        return summary_report(summary, f"Deleted the couplings of {args.mapping}")
    records = await resolve_numbers(ctx.session, args.mapping, args.numbers)
    summary = await delete_couplings(ctx.session, args.mapping, [r.id for r in records], progress=ctx.progress)
    return summary_report(summary, "Deleted couplings", numbers_by_id(records))


async def create_command(ctx: Context) -> Report:
    """Create counterparts: in Dataverse from BC numbers, or in BC from Dataverse ids."""
    from bc_tui.sync.create import create_in_bc, create_in_dataverse

    args = ctx.args
    if bool(args.numbers) == bool(args.from_dataverse):
        raise UsageError("Name the BC numbers to create in Dataverse, or pass --from-dataverse GUID… (not both).")
    if args.from_dataverse:
        summary = await create_in_bc(ctx.session, args.mapping, args.from_dataverse, progress=ctx.progress)
        numbers = await cached_numbers(ctx.session, args.mapping, summary)
        return summary_report(summary, "Created in Business Central", numbers)
    records = await resolve_numbers(ctx.session, args.mapping, args.numbers)
    summary = await create_in_dataverse(ctx.session, args.mapping, [r.id for r in records], progress=ctx.progress)
    return summary_report(summary, "Created in Dataverse", numbers_by_id(records))
