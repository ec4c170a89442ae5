"""``bc-tui match``: Match-Based Coupling of the uncoupled records of a table mapping."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bc_tui.commands.common import (
    Context,
    UsageError,
    add_common_options,
    add_mapping_option,
    add_sync_after_option,
    cached_numbers,
    command,
)
from bc_tui.commands.output import Report
from bc_tui.commands.summaries import summary_report

if TYPE_CHECKING:
    from bc_tui.domain.mappings import TableMapping
    from bc_tui.domain.matching import MatchCriterion


@dataclass(frozen=True)
class FieldCriterion:
    """``--field LABEL[:PRIORITY][:cs]`` as typed: which field, its priority group, case-sensitivity."""

    label: str
    priority: int = 0
    case_sensitive: bool = False


def parse_field(text: str) -> FieldCriterion:
    """Parse ``Name``, ``Name:1``, ``E-Mail:cs`` or ``Phone No.:2:cs``."""
    label, *options = text.split(":")
    if not label.strip():
        raise argparse.ArgumentTypeError(f"{text!r} names no field; use LABEL[:priority][:cs], e.g. Name:0:cs")
    priority, case_sensitive = 0, False
    for option in options:
        option = option.strip()
        if option.lower() == "cs":
            case_sensitive = True
        elif option.isdigit():
            priority = int(option)
        else:
            raise argparse.ArgumentTypeError(
                f"{option!r} in {text!r} is neither a priority (a whole number) nor 'cs' (case-sensitive)"
            )
    return FieldCriterion(label.strip(), priority, case_sensitive)


def register(subparsers: Any) -> None:
    """Add ``match`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "match",
        help="couple uncoupled records to Dataverse records with matching field values",
        description="Match-Based Coupling: each uncoupled BC record is coupled to the one uncoupled Dataverse "
        "record whose fields match. Fields of one priority must all match (lowest priority is "
        "tried first); text compares case-insensitively unless ':cs' is given. Without --field "
        "the table mapping's own match fields are used.",
        epilog="example: bc-tui match --field Name --field E-Mail:1 --sync to-dataverse",
    )
    add_mapping_option(parser)
    parser.add_argument(
        "--field",
        dest="fields",
        action="append",
        type=parse_field,
        default=None,
        metavar="LABEL[:PRIORITY][:cs]",
        help="a field mapping to match on, by its label (repeatable)",
    )
    parser.add_argument(
        "--create-new", action="store_true", help="create a Dataverse record for each BC record without a unique match"
    )
    add_sync_after_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=command(match_command, check_mappings=True))


def criteria(mapping: TableMapping, fields: list[FieldCriterion]) -> list[MatchCriterion]:
    """The domain's match criteria for the typed fields; UsageError naming an unknown label."""
    from bc_tui.domain.matching import MatchCriterion

    chosen = []
    for wanted in fields:
        field = next((f for f in mapping.fields if f.label.casefold() == wanted.label.casefold()), None)
        if field is None:
            known = ", ".join(f.label for f in mapping.enabled_fields)
            raise UsageError(f"The table mapping {mapping.name} has no field {wanted.label!r}; use one of: {known}.")
        chosen.append(MatchCriterion(field, case_sensitive=wanted.case_sensitive, priority=wanted.priority))
    return chosen


async def match_command(ctx: Context) -> Report:
    """Run match-based coupling and report every uncoupled record's outcome."""
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.match import match_based_coupling

    args = ctx.args
    mapping = ctx.session.mapping(args.mapping)
    chosen = criteria(mapping, args.fields) if args.fields else None
    summary = await match_based_coupling(
        ctx.session,
        mapping.name,
        chosen,
        create_new=args.create_new,
        sync_after=SyncDirection(args.sync) if args.sync else None,
        progress=ctx.progress,
    )
    numbers = await cached_numbers(ctx.session, mapping.name, summary)
    return summary_report(summary, f"Match-based coupling of {mapping.name}", numbers)
