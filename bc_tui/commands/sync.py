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
        description="Synchronize Now, field by field: a field changed on one side only always flows to the "
        "other side; a side wins only the fields both sides changed (conflicting fields). "
        "One record: send (to-dataverse: Business Central wins the conflicting fields), get "
        "(from-dataverse: Dataverse wins them) or merge (--prefer names a winner per field). Without "
        "--direction the recommended direction is used and the reason printed, but a record with "
        "conflicting fields stays a conflict (exit 1, nothing written) unless --prefer names the winners. "
        "--whole-record with --direction to-dataverse or from-dataverse overwrites every field that "
        "differs, changed on the other side or not, and lists them. Several records: --direction "
        "to-dataverse or from-dataverse is required; a record with conflicting fields is a conflict "
        "and nothing of it is written, unless --prefer names the winners ('*=bc': Business Central wins "
        "every conflicting field); a record is skipped when it is not coupled or is Skipped. "
        "--modified synchronizes every coupled record changed since the last synchronization.",
        epilog="examples:\n  bc-tui sync 10000\n  bc-tui sync 10000 --prefer City=dataverse --prefer '*=bc'\n"
        "  bc-tui sync 10000 --direction to-dataverse --whole-record\n"
        "  bc-tui sync 10000 20000 --direction to-dataverse --prefer '*=bc'\n"
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
        "--prefer",
        action="append",
        default=[],
        metavar="FIELD=SIDE",
        help="who wins a conflicting field: SIDE is bc or dataverse; FIELD is the field mapping's label "
        "(City) or either side's API name (city, address1_city), or '*' for every conflicting field not "
        "named; repeat for several fields",
    )
    parser.add_argument(
        "--whole-record",
        action="store_true",
        help="with --direction to-dataverse or from-dataverse: that side's record as a whole, overwriting "
        "every field that differs (the other side's own changes too)",
    )
    parser.add_argument(
        "--modified",
        action="store_true",
        help="synchronize every coupled record modified since the last synchronization",
    )
    add_mapping_option(parser, default=None)
    add_common_options(parser)
    parser.set_defaults(func=command(sync_command, validate=validate, check_mappings=True))


#: --prefer's sides.
SIDES = {"bc": "to-dataverse", "dataverse": "from-dataverse"}


def parse_prefer(values: list[str]) -> list[tuple[str, str]]:
    """``["City=bc", "*=dataverse"]`` → ``[("City", "to-dataverse"), ("*", "from-dataverse")]``;
    :class:`UsageError` for a value that is not FIELD=bc or FIELD=dataverse."""
    pairs = []
    for value in values:
        name, equals, side = value.rpartition("=")
        if not equals or not name.strip() or side.strip().lower() not in SIDES:
            raise UsageError(
                f"--prefer takes FIELD=bc or FIELD=dataverse (e.g. City=dataverse, '*=bc'), not {value!r}."
            )
        pairs.append((name.strip(), SIDES[side.strip().lower()]))
    return pairs


def validate(args: argparse.Namespace) -> None:
    """Refuse contradictory options before connecting to anything."""
    parse_prefer(args.prefer)
    if args.whole_record and args.direction not in SIDES.values():
        raise UsageError("--whole-record needs --direction to-dataverse or --direction from-dataverse.")
    if args.whole_record and args.prefer:
        raise UsageError("--whole-record overwrites every field that differs; drop --prefer, or drop --whole-record.")
    if args.modified:
        if args.prefer or args.whole_record:
            raise UsageError(
                "--modified resolves conflicts by the table mapping's own policy; "
                "drop --prefer and --whole-record, or name the records."
            )
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
    choices = _choices(ctx, mapping)
    summary = await synchronize_many(
        ctx.session,
        mapping,
        [r.id for r in records],
        direction,
        choices=choices,
        whole_record=ctx.args.whole_record,
        progress=ctx.progress,
    )
    return summary_report(
        summary,
        direction_words(direction).done,
        numbers_by_id(records),
        direction=direction.value,
        prefer={label: _side_word(side) for label, side in choices.items()},
        conflicts=conflicts_of(summary),
    )


async def _one(ctx: Context, mapping: str, record: Any) -> Report:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_one

    choices = _choices(ctx, mapping)
    preview, recommendation = await _recommendation(ctx, mapping, record)
    lines: list[str] = []
    if ctx.args.direction is not None:
        direction = SyncDirection(ctx.args.direction)
    elif choices:
        direction = SyncDirection.MERGE  # the user named the winners: each field as chosen
    else:
        direction = SyncDirection(recommendation["direction"])
        lines.append(f"Recommended for {record.number}: {direction.value}. " + " ".join(recommendation["reasons"]))
        if recommendation["conflicts"]:
            # A conflict is the user's to decide: nothing is written until they name a winner.
            direction = SyncDirection.MERGE
            lines.append(
                f"{record.number} stays a conflict; nothing was written. Name the winners with --prefer "
                f"FIELD=bc|dataverse ('*=bc' for every conflicting field), or overwrite one side with "
                "--direction to-dataverse|from-dataverse --whole-record."
            )
        elif recommendation["warning"]:
            lines.append(recommendation["warning"])
    decisions = preview.decisions(direction, choices=choices, whole_record=ctx.args.whole_record)
    lines += [f"  {d.sentence()}" for d in decisions if d.unresolved or d.writes_bc or d.writes_dataverse]
    summary = await synchronize_one(
        ctx.session,
        mapping,
        record.id,
        direction,
        choices=choices,
        whole_record=ctx.args.whole_record,
        progress=ctx.progress,
    )
    numbers = numbers_by_id([record])
    lines += summary_lines(summary, direction_words(direction).done, numbers)
    document = summary_document(
        summary,
        numbers,
        direction=direction.value,
        whole_record=ctx.args.whole_record,
        prefer={label: _side_word(side) for label, side in choices.items()},
        recommendation=recommendation if ctx.args.direction is None and not choices else None,
        fields=[_field_document(d) for d in decisions],
        conflicts=conflicts_of(summary, decisions),
    )
    return Report(document=document, lines=lines, exit_code=summary_exit_code(summary))


def _choices(ctx: Context, mapping: str) -> dict[str, Any]:
    """--prefer as choices (field mapping label or ``"*"`` → direction); UsageError for an unknown field."""
    from bc_tui.domain.decisions import DecisionError, field_label
    from bc_tui.domain.mappings import SyncDirection

    table = ctx.session.mapping(mapping)
    choices: dict[str, Any] = {}
    for name, side in parse_prefer(ctx.args.prefer):
        try:
            choices[field_label(table, name)] = SyncDirection(side)
        except DecisionError as error:
            raise UsageError(str(error)) from None
    return choices


def _side_word(direction: Any) -> str:
    """--prefer's word for the side that wins (a send/get direction): bc or dataverse."""
    return "bc" if str(direction) == SIDES["bc"] else "dataverse"


def _field_document(decision: Any) -> dict[str, Any]:
    """One field's decision in the JSON output."""
    to = {"to-dataverse": "dataverse", "from-dataverse": "bc"}.get(decision.to.value if decision.to else "")
    written = [side for side, yes in (("bc", decision.writes_bc), ("dataverse", decision.writes_dataverse)) if yes]
    return {
        "field": decision.label,
        "bc": decision.bc,
        "dataverse": decision.dataverse,
        "state": decision.state.value,
        "conflict": decision.conflict,
        "unresolved": decision.unresolved,
        "written_to": written if not to else [to],
        "overwrites_changes_in": ["bc" if s == "Business Central" else "dataverse" for s in decision.overwritten],
        "sentence": decision.sentence(),
    }


def conflicts_of(summary: Any, decisions: Any = ()) -> list[dict[str, Any]]:
    """The records of a job that ended in conflict, each with its conflicting fields when known."""
    unresolved = [d.label for d in decisions if d.unresolved]
    return [
        {"bc_id": r.bc_id, "description": r.description, "fields": unresolved, "message": r.message}
        for r in summary.results
        if str(r.outcome) == "conflict"
    ]


async def _recommendation(ctx: Context, mapping: str, record: Any) -> tuple[Any, dict[str, Any]]:
    """The preview of one record and what Synchronize Now would pre-select, and why; UsageError
    when it would not synchronize without asking (one-way mapping whose destination holds newer
    data, and no --direction)."""
    from bc_tui.sync.preview import preview_sync

    preview = await preview_sync(ctx.session, mapping, record.id)
    if ctx.args.direction is not None and (not preview.coupled or preview.problem or not preview.recommendation):
        return preview, {}  # the synchronization itself says why it cannot run (skipped, broken)
    if not preview.coupled:
        raise UsageError(
            f"The {preview.record} is not coupled to Dataverse; couple it first with "
            f"'bc-tui couple {record.number} --to NAME' (or --create-new)."
        )
    if preview.problem:
        raise UsageError(f"{preview.problem} (bc-tui retry {record.number}; bc-tui delete-coupling {record.number})")
    advice = preview.recommendation
    assert advice is not None  # coupled, both records there: preview_sync always recommends
    if not advice.confirm_default and ctx.args.direction is None:
        raise UsageError(
            f"{advice.warning or advice.question} Pass --direction {advice.recommended.value} to synchronize "
            f"{record.number} anyway."
        )
    return preview, {
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
