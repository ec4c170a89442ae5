"""``bc-tui sync``: Synchronize Now for named records, or every record modified since the last run."""

from __future__ import annotations

import argparse
from typing import Any

from bc_tui.commands.common import (
    Context,
    UsageError,
    add_common_options,
    add_mapping_option,
    cached_numbers,
    command,
    numbers_by_id,
    resolve_numbers,
)
from bc_tui.commands.output import EXIT_OK, Report
from bc_tui.commands.summaries import summary_document, summary_exit_code, summary_lines, summary_report
from bc_tui.domain.words import ONE_RECORD_DIRECTIONS, direction_words

DIRECTION_CHOICES = ONE_RECORD_DIRECTIONS


def register(subparsers: Any) -> None:
    """Add ``sync`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "sync",
        help="synchronize coupled records now (send, get or merge), or all modified records",
        description="Synchronize Now. One record: send (to-dataverse), get (from-dataverse) or merge; without "
        "--direction the recommended direction is used and the reason printed. Several records: "
        "--direction to-dataverse or from-dataverse is required; a record is skipped when it is "
        "not coupled, is Skipped, or its destination changed since the last synchronization. "
        "--modified synchronizes every coupled record changed since the last synchronization.",
        epilog="examples:\n  bc-tui sync 10000\n  bc-tui sync 10000 20000 --direction to-dataverse\n"
        "  bc-tui sync --modified --mapping CUSTOMER",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the records to synchronize")
    parser.add_argument(
        "--direction",
        choices=DIRECTION_CHOICES,
        default=None,
        help="to-dataverse (send), from-dataverse (get) or merge (one record only)",
    )
    parser.add_argument(
        "--modified",
        action="store_true",
        help="synchronize every coupled record modified since the last synchronization",
    )
    add_mapping_option(parser, default=None)
    add_common_options(parser)
    parser.set_defaults(func=command(sync_command, validate=validate, check_mappings=True))


def validate(args: argparse.Namespace) -> None:
    """Refuse contradictory options before connecting to anything."""
    if args.modified:
        if args.numbers:
            raise UsageError("Name BC numbers or pass --modified, not both.")
        if args.direction is not None:
            raise UsageError(
                "--modified synchronizes in the table mapping's own direction (send first, then get); drop --direction."
            )
        return
    if not args.numbers:
        raise UsageError("Name the BC numbers of the records to synchronize, or pass --modified.")
    if len(args.numbers) > 1 and args.direction is None:
        raise UsageError("Several records need --direction to-dataverse or --direction from-dataverse.")
    if len(args.numbers) > 1 and args.direction == "merge":
        raise UsageError("Merge works on one record at a time; for several records use to-dataverse or from-dataverse.")


async def sync_command(ctx: Context) -> Report:
    """Synchronize the named records, or the modified ones."""
    if ctx.args.modified:
        return await _modified(ctx)
    mapping = ctx.args.mapping or "CUSTOMER"
    records = await resolve_numbers(ctx.session, mapping, ctx.args.numbers)
    if len(records) == 1:
        return await _one(ctx, mapping, records[0])
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_many

    direction = SyncDirection(ctx.args.direction)
    summary = await synchronize_many(ctx.session, mapping, [r.id for r in records], direction, progress=ctx.progress)
    return summary_report(summary, direction_words(direction).done, numbers_by_id(records), direction=direction.value)


async def _one(ctx: Context, mapping: str, record: Any) -> Report:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_one

    recommendation: dict[str, Any] | None = None
    lines: list[str] = []
    if ctx.args.direction is None:
        recommendation = await _recommendation(ctx, mapping, record)
        direction = SyncDirection(recommendation["direction"])
        lines.append(f"Recommended for {record.number}: {direction.value}. " + " ".join(recommendation["reasons"]))
        if recommendation["warning"]:
            lines.append(recommendation["warning"])
    else:
        direction = SyncDirection(ctx.args.direction)
    summary = await synchronize_one(ctx.session, mapping, record.id, direction, progress=ctx.progress)
    numbers = numbers_by_id([record])
    lines += summary_lines(summary, direction_words(direction).done, numbers)
    document = summary_document(summary, numbers, direction=direction.value, recommendation=recommendation)
    return Report(document=document, lines=lines, exit_code=summary_exit_code(summary))


async def _recommendation(ctx: Context, mapping: str, record: Any) -> dict[str, Any]:
    """What Synchronize Now would pre-select for one record, and why; UsageError when it would not
    synchronize without asking (one-way mapping whose destination holds newer data)."""
    from bc_tui.sync.preview import preview_sync

    preview = await preview_sync(ctx.session, mapping, record.id)
    if not preview.coupled:
        raise UsageError(
            f"The {preview.record} is not coupled to Dataverse; couple it first with "
            f"'bc-tui couple {record.number} --to NAME' (or --create-new)."
        )
    if preview.problem:
        raise UsageError(f"{preview.problem} (bc-tui retry {record.number}; bc-tui delete-coupling {record.number})")
    advice = preview.recommendation
    assert advice is not None  # coupled, both records there: preview_sync always recommends
    if not advice.confirm_default:
        raise UsageError(
            f"{advice.warning or advice.question} Pass --direction {advice.recommended.value} to synchronize "
            f"{record.number} anyway."
        )
    return {
        "direction": advice.recommended.value,
        "offered": [d.value for d in advice.offered],
        "reasons": list(advice.reasons),
        "conflicts": list(advice.conflicts),
        "warning": advice.warning,
        "state": preview.state.value if preview.state else None,  # the lists' words for the pair
    }


async def _modified(ctx: Context) -> Report:
    from bc_tui.sync.modified import synchronize_modified

    names = [ctx.args.mapping] if ctx.args.mapping else list(ctx.session.mappings)
    documents: list[dict[str, Any]] = []
    lines: list[str] = []
    exit_code = EXIT_OK
    for name in names:
        summary = await synchronize_modified(ctx.session, name, progress=ctx.progress)
        report = summary_report(
            summary, f"Modified records of {name}", await cached_numbers(ctx.session, name, summary), mapping=name
        )
        documents.append(report.document)
        lines += report.lines
        exit_code = max(exit_code, report.exit_code)
    return Report(document={"jobs": documents}, lines=lines, exit_code=exit_code)
