"""``bc-tui errors`` and ``bc-tui retry``: the couplings that need attention, and retrying them."""

from __future__ import annotations

import argparse
from typing import Any

from bc_tui.commands.common import (
    EXIT_OK,
    Context,
    Report,
    UsageError,
    add_common_options,
    add_mapping_option,
    command,
    numbers_by_id,
    resolve_numbers,
    summary_report,
)
from bc_tui.commands.jobs_text import coupling_document, coupling_line


def register(subparsers: Any) -> None:
    """Add ``errors`` and ``retry`` to the CLI's subparsers."""
    errors = subparsers.add_parser(
        "errors", help="list skipped, failed and broken couplings",
        description="Coupled Data Synchronization Errors: couplings marked Skipped after a repeatable failure, "
                    "couplings whose last synchronization failed, and broken couplings (one record was deleted).",
    )
    add_mapping_option(errors, default=None)
    add_common_options(errors)
    errors.set_defaults(func=command(errors_command))

    retry = subparsers.add_parser(
        "retry", help="clear Skipped and synchronize failed couplings again",
        description="Retry / Retry All: clear the Skipped mark of the named records (or all of them) and "
                    "synchronize them again in the direction that failed.",
    )
    retry.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the records to retry")
    retry.add_argument("--all", action="store_true", help="retry every skipped or failed coupling")
    add_mapping_option(retry)
    add_common_options(retry)
    retry.set_defaults(func=command(retry_command, validate=_validate_retry))


def _validate_retry(args: argparse.Namespace) -> None:
    if args.all == bool(args.numbers):
        raise UsageError("Name the BC numbers to retry, or pass --all (not both).")


async def errors_command(ctx: Context) -> Report:
    """The skipped, failed and broken couplings (of one mapping or all)."""
    from bc_tui.store.jobs import errors_overview

    overview = errors_overview(ctx.args.mapping)
    groups = (("skipped", overview.skipped), ("failed", overview.failed), ("broken", overview.broken))
    document = {name: [coupling_document(c, name) for c in couplings] for name, couplings in groups}
    document["total"] = overview.total
    if not overview.total:
        return Report(document=document, lines=["No couplings need attention."])
    lines = [f"{overview.total} couplings need attention: "
             f"{len(overview.skipped)} skipped, {len(overview.failed)} failed, {len(overview.broken)} broken."]
    lines += [coupling_line(c, name) for name, couplings in groups for c in couplings]
    lines.append("Retry with: bc-tui retry NO… (or --all); broken couplings: bc-tui uncouple NO…")
    return Report(document=document, lines=lines, exit_code=EXIT_OK)


async def retry_command(ctx: Context) -> Report:
    """Retry the named couplings, or all skipped and failed ones of the mapping."""
    from bc_tui.sync.resolve import retry

    args = ctx.args
    if args.all:
        summary = await retry(ctx.session, args.mapping, None, progress=ctx.progress)
        return summary_report(summary, f"Retried {args.mapping}")
    records = await resolve_numbers(ctx.session, args.mapping, args.numbers)
    summary = await retry(ctx.session, args.mapping, [r.id for r in records], progress=ctx.progress)
    return summary_report(summary, "Retried", numbers_by_id(records))
