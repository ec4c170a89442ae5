"""``bc-tui resolve``: settle broken couplings (one side deleted) the way the errors list offers.

Restore records recreates the deleted side from the survivor; Delete coupling removes the link
only; Delete records deletes the survivor too. ``--find`` first looks for couplings whose
records vanished (Find for Deleted), so a deletion made elsewhere is noticed.
"""

from __future__ import annotations

import argparse
from typing import Any

from bc_tui.commands.common import Context, UsageError, add_common_options, add_mapping_option, command, numbers_or_all
from bc_tui.commands.output import Report
from bc_tui.commands.summaries import summary_document, summary_exit_code

ACTIONS = {
    "restore": "recreate the deleted record from the surviving one and couple it",
    "delete-coupling": "delete the coupling only; the surviving record is untouched",
    "delete-record": "delete the surviving record and the coupling",
}


def register(subparsers: Any) -> None:
    """Add ``resolve`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "resolve",
        help="restore, delete the coupling of, or delete the record of broken couplings (one side was deleted)",
        description="Resolve broken couplings: couplings whose Business Central or Dataverse record was "
        "deleted. Name them by BC number (as 'bc-tui errors' lists them) or pass --all.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="actions:\n" + "\n".join(f"  --{name:<16} {text}" for name, text in ACTIONS.items()),
    )
    parser.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the broken couplings")
    parser.add_argument("--all", action="store_true", help="every broken coupling of the table mapping")
    action = parser.add_mutually_exclusive_group(required=True)
    for name, text in ACTIONS.items():
        action.add_argument(f"--{name}", dest="action", action="store_const", const=name, help=text)
    parser.add_argument(
        "--find", action="store_true", help="first look for couplings whose records were deleted (Find for Deleted)"
    )
    add_mapping_option(parser)
    add_common_options(parser)
    parser.set_defaults(
        func=command(resolve_command, validate=numbers_or_all("of the broken couplings"), check_mappings=True)
    )


async def resolve_command(ctx: Context) -> Report:
    """Apply the chosen resolution to the named (or all) broken couplings."""
    from bc_tui.store.coupling_queries import problem_couplings
    from bc_tui.sync.resolve import delete_survivor, find_for_deleted, remove_broken_couplings, restore_deleted

    args = ctx.args
    if args.find:
        await find_for_deleted(ctx.session, args.mapping, check_dataverse=True)
    broken = [c for c in await ctx.session.db(problem_couplings, args.mapping) if c.broken]
    if not args.all:
        by_number = {c.bc_number: c for c in broken if c.bc_number}
        unknown = [n for n in args.numbers if n not in by_number]
        if unknown:
            raise UsageError(
                f"No broken coupling for {', '.join(unknown)} in {args.mapping}. "
                "Run 'bc-tui errors' to list them, or add --find to look for deleted records first."
            )
        broken = [by_number[n] for n in args.numbers]
    ids = [c.id for c in broken]
    if not ids:
        return Report(document={"action": args.action, "resolved": 0}, lines=["No broken couplings to resolve."])
    if args.action == "delete-coupling":
        count = await remove_broken_couplings(ctx.session, ids)
        return Report(
            document={"action": args.action, "resolved": count},
            lines=[f"Deleted {count} broken coupling{'s' if count != 1 else ''}; no record was changed."],
        )
    run = restore_deleted if args.action == "restore" else delete_survivor
    summaries = await run(ctx.session, ids, progress=ctx.progress)
    documents = [summary_document(s) for s in summaries]
    lines = [s.message or f"Job {s.job_id} finished." for s in summaries]
    exit_code = max((summary_exit_code(s) for s in summaries), default=0)
    return Report(document={"action": args.action, "jobs": documents}, lines=lines, exit_code=exit_code)
