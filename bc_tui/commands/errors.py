"""``bc-tui errors``, ``bc-tui check-couplings`` and ``bc-tui retry``: the couplings that need
attention, finding the broken ones without a synchronization, and retrying them."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from bc_tui.commands.common import (
    Context,
    UsageError,
    add_common_options,
    add_mapping_option,
    command,
    numbers_or_all,
    resolve_numbers,
)
from bc_tui.commands.csv_output import add_csv_option, check_csv, csv_report
from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, Report
from bc_tui.domain.text import shorten

KINDS = ("skipped", "conflict", "failed", "broken")


def register(subparsers: Any) -> None:
    """Add ``errors`` and ``retry`` to the CLI's subparsers."""
    errors = subparsers.add_parser(
        "errors",
        help="list skipped, conflicting, failed and broken couplings",
        description="Coupled Data Synchronization Errors: couplings marked Skipped after a repeatable failure, "
        "conflicts (both records changed: pick the side that wins), couplings whose last synchronization "
        "failed, and broken couplings (one record was deleted). Each coupling is listed once.",
    )
    add_mapping_option(errors, default=None)
    add_csv_option(errors, "the couplings")
    add_common_options(errors)
    errors.set_defaults(func=command(errors_command, validate=check_csv))

    check = subparsers.add_parser(
        "check-couplings",
        help="find broken couplings without a synchronization",
        description="Check couplings: look up both records of every coupling (batched reads) and mark those whose "
        "record was deleted on one side or both as broken, so that 'bc-tui errors' and the terminal app list them. "
        "Exit code 0 when none is broken, 1 when some are.",
    )
    add_mapping_option(check, default=None)
    add_common_options(check)
    check.set_defaults(func=command(check_couplings_command, check_mappings=True))

    retry = subparsers.add_parser(
        "retry",
        help="clear the Skipped mark so that the next synchronization includes the records again",
        description="Retry / Retry All: clear the Skipped mark (and the remembered error) of the named records, "
        "or of all skipped couplings of the table mapping. A record whose last synchronization "
        "failed counts as modified, so 'bc-tui sync --modified' or 'bc-tui sync NO…' picks it up.",
    )
    retry.add_argument("numbers", nargs="*", metavar="NO", help="BC numbers of the records to retry")
    retry.add_argument("--all", action="store_true", help="retry every skipped or failed coupling")
    add_mapping_option(retry, default=None)
    add_common_options(retry)
    retry.set_defaults(func=command(retry_command, validate=numbers_or_all("to retry"), check_mappings=True))


async def errors_command(ctx: Context) -> Report:
    """The skipped, conflicting, failed and broken couplings (of one mapping or all), each once."""
    from bc_tui.store.coupling_queries import get_coupling
    from bc_tui.sync.resolve import errors_overview, kind_count

    rows = await errors_overview(ctx.session, ctx.args.mapping)
    if ctx.args.csv is not None:
        from bc_tui.sync.export import PROBLEM_HEADER, problem_rows

        return csv_report(ctx.args, PROBLEM_HEADER, problem_rows(rows), "coupling")
    found = await ctx.session.db(lambda: {row.coupling_id: get_coupling(row.coupling_id) for row in rows})
    documents = []
    for row in rows:
        coupling = found[row.coupling_id]
        documents.append({**asdict(row), "number": coupling.bc_number if coupling else None})
    counts = Counter(str(row.kind) for row in rows)
    document: dict[str, Any] = {
        "total": len(rows),
        **{kind: counts.get(kind, 0) for kind in KINDS},
        "couplings": documents,
    }
    if not rows:
        return Report(document=document, lines=["No couplings need attention."])
    needs = "1 coupling needs" if len(rows) == 1 else f"{len(rows)} couplings need"
    lines = [f"{needs} attention: " + ", ".join(kind_count(k, counts.get(k, 0)) for k in KINDS) + "."]
    for row in rows:
        missing = []
        if row.record_exists is False:
            missing.append("the Business Central record no longer exists")
        if row.coupled_record_exists is False:
            missing.append("the Dataverse record no longer exists")
        note = f" ({'; '.join(missing)})" if missing else ""
        lines.append(
            f"  {row.mapping} {shorten(row.description)} -> {shorten(row.coupled_to)}: {row.kind}{note} - {row.error}"
        )
    lines.append(
        "Next: bc-tui retry NO… (or --all) for skipped records; bc-tui sync NO --direction to-dataverse or "
        "from-dataverse for a conflict (the side that wins); bc-tui delete-coupling NO… for broken couplings."
    )
    return Report(document=document, lines=lines)


async def check_couplings_command(ctx: Context) -> Report:
    """Check couplings of one table mapping or all; exit code 1 when some are broken."""
    from bc_tui.sync.check import FIX_ON_ERRORS_SCREEN, check_couplings, checked_message

    names = [ctx.args.mapping] if ctx.args.mapping else list(ctx.session.mappings)
    mappings: dict[str, Any] = {}
    lines: list[str] = []
    for name in names:
        summary = await check_couplings(ctx.session, name)
        broken = summary.failed
        mappings[name] = {"checked": len(summary.results), "broken": len(broken), "job_id": summary.job_id}
        lines.append(f"{name}: {checked_message(len(summary.results), len(broken))}")
        # The fixes are named once, after the list, as commands.
        said = ((r.message or r.description).replace(FIX_ON_ERRORS_SCREEN, "").strip() for r in broken)
        lines.extend(f"  {shorten(sentence)}" for sentence in said)
    total = sum(m["broken"] for m in mappings.values())
    if total:
        lines.append(
            "Next: bc-tui errors lists them; bc-tui resolve NO… --restore|--delete-coupling|--delete-record fixes them."
        )
    return Report(
        document={"broken": total, "mappings": mappings}, lines=lines, exit_code=EXIT_FAILURES if total else EXIT_OK
    )


async def retry_command(ctx: Context) -> Report:
    """Clear Skipped on the named couplings, or on all of the mapping."""
    from bc_tui.store.coupling_queries import couplings_by_bc_id
    from bc_tui.sync.resolve import retry

    args = ctx.args
    if args.all:
        mapping = args.mapping
        count = await retry(ctx.session, all=True, mapping_name=mapping)
        retried: list[str] = []
    else:
        mapping = args.mapping or "CUSTOMER"
        records = await resolve_numbers(ctx.session, mapping, args.numbers)
        coupled = await ctx.session.db(couplings_by_bc_id, mapping, [r.id for r in records])
        uncoupled = [r.number for r in records if r.id not in coupled]
        if uncoupled:
            raise UsageError(
                f"{', '.join(uncoupled)} {'is' if len(uncoupled) == 1 else 'are'} not coupled, "
                "so there is nothing to retry."
            )
        count = await retry(ctx.session, [coupled[r.id].id for r in records])
        retried = [r.number for r in records]
    document = {"retried": count, "numbers": retried, "mapping": mapping}
    what = f"{count} coupling{'s' if count != 1 else ''}"
    lines = [
        f"Cleared Skipped on {what}." if count else "No skipped couplings to retry.",
        "Synchronize them with: bc-tui sync --modified (or bc-tui sync NO…).",
    ]
    return Report(document=document, lines=lines)
