"""``bc-tui status``: where bc-tui is connected and how the couplings stand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bc_tui.commands.common import Context, add_common_options, command
from bc_tui.commands.jobs_text import job_document, job_line
from bc_tui.commands.output import EXIT_OK, EXIT_USAGE, Report, fail
from bc_tui.domain.text import shorten_words
from bc_tui.domain.words import not_connected

if TYPE_CHECKING:
    from bc_tui.store.jobs import ErrorsOverview, JobRecord
    from bc_tui.store.records import CreateIntentRecord


def register(subparsers: Any) -> None:
    """Add ``status`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "status",
        help="show the connection, the coupling database and how the couplings stand",
        description="Check both connections and summarize the coupling database: couplings per table "
        "mapping, skipped/failed/broken couplings, the last synchronization job, jobs "
        "interrupted in the last 7 days and the creations an ended job left unfinished.",
    )
    add_common_options(parser)
    parser.set_defaults(func=command(status))


async def _check_bc(ctx: Context) -> dict[str, Any]:
    from bc_tui.connectors.errors import ConnectorError
    from bc_tui.sync.errors import plain

    try:
        companies = await ctx.session.bc.companies()
    except ConnectorError as error:
        return {"ok": False, "error": plain(error)}
    company = next((c for c in companies if str(c.get("id", "")).lower() == ctx.session.bc.company_id.lower()), None)
    if company is None:
        return {
            "ok": False,
            "error": f"Business Central has no company with the id {ctx.session.bc.company_id}; "
            "check bc_company_id in your profile.",
        }
    return {
        "ok": True,
        "company": company.get("displayName") or company.get("name"),
        "company_id": company.get("id"),
        "environment": ctx.profile.bc_environment,
    }


async def _check_dataverse(ctx: Context) -> dict[str, Any]:
    from bc_tui.connectors.errors import ConnectorError
    from bc_tui.sync.errors import plain

    try:
        await ctx.session.dataverse.who_am_i()
    except ConnectorError as error:
        return {"ok": False, "error": plain(error)}
    return {"ok": True, "organization": ctx.profile.dataverse_org}


async def _check_mappings(ctx: Context, connected: bool) -> dict[str, Any]:
    """The schema check's findings (docs/coupling-and-sync.md "Schema check at connect")."""
    from bc_tui.connectors.errors import ConnectorError
    from bc_tui.sync.errors import plain
    from bc_tui.sync.schema_check import check_schema

    if not connected:
        return {"checked": False, "error": "not connected", "findings": []}
    try:
        findings = await check_schema(ctx.session)
    except ConnectorError as error:
        return {"checked": False, "error": plain(error), "findings": []}
    return {
        "checked": True,
        "findings": [
            {
                "mapping": f.mapping,
                "field_mapping": f.label,
                "service": f.service,
                "field": f.field,
                "problem": f.problem,
                "message": f.message,
            }
            for f in findings
        ],
    }


def _mapping_lines(check: dict[str, Any]) -> list[str]:
    if not check["checked"]:
        return [f"Field mappings:    not checked - {shorten_words(check['error'])}"]
    findings = check["findings"]
    if not findings:
        return ["Field mappings:    OK, every field exists and can be written where mapped"]
    return [
        f"Field mappings:    {len(findings)} finding{'s' if len(findings) != 1 else ''}",
        *(f"  {shorten_words(f['message'])}" for f in findings),
    ]


#: How far back ``status`` lists interrupted jobs (older ones stay in ``bc-tui log``).
INTERRUPTED_DAYS = 7
_SHOWN = 3


def _interrupted_lines(stopped: list[JobRecord]) -> list[str]:
    if not stopped:
        return []
    more = len(stopped) - _SHOWN
    return [
        f"Interrupted jobs:  {len(stopped)} in the last {INTERRUPTED_DAYS} days (their process ended while they ran)",
        *(f"  {job_line(job)}" for job in stopped[:_SHOWN]),
        *([f"  and {more} more; see bc-tui log"] if more > 0 else []),
    ]


def _pending_lines(pending: dict[str, int]) -> list[str]:
    return [
        f"Pending creations: {count:,} on {mapping}, left unfinished by a job that ended; the next job on "
        f"{mapping} settles them (couples what was created, drops the rest)"
        for mapping, count in pending.items()
    ]


async def status(ctx: Context) -> Report:
    """Connection checks, coupling counts per mapping, problem couplings, the last job, and what
    interrupted jobs left behind (docs/interrupted-jobs.md)."""
    from bc_tui.store import interrupted, jobs
    from bc_tui.store.coupling_queries import count_couplings
    from bc_tui.store.database import database_proxy, location
    from bc_tui.sync.resolve import ProblemKind, kind_count

    def read_store() -> tuple[
        list[JobRecord], list[CreateIntentRecord], dict[str, int], ErrorsOverview, list[JobRecord]
    ]:
        # Not a job, but the first thing one runs after a crash: say "interrupted", not "running".
        interrupted.mark_interrupted_jobs()
        return (
            interrupted.interrupted_jobs(days=INTERRUPTED_DAYS),
            interrupted.settleable_intents(),
            {name: count_couplings(name) for name in ctx.session.mappings},
            jobs.errors_overview(),
            jobs.list_jobs(limit=1),
        )

    stopped, intents, couplings, overview, last = await ctx.session.db(read_store)
    pending: dict[str, int] = {}
    for intent in intents:
        pending[intent.mapping] = pending.get(intent.mapping, 0) + 1
    bc = await _check_bc(ctx)
    dataverse = await _check_dataverse(ctx)
    mappings = await _check_mappings(ctx, bc["ok"] and dataverse["ok"])
    document: dict[str, Any] = {
        "connection": "sandbox" if ctx.profile.is_sandbox else ctx.profile.name,
        "sandbox": ctx.profile.is_sandbox,
        "business_central": bc,
        "dataverse": dataverse,
        "field_mappings": mappings,
        "database": location(database_proxy.obj),
        "couplings": couplings,
        "skipped": len(overview.skipped),
        "conflict": len(overview.conflict),
        "failed": len(overview.failed),
        "broken": len(overview.broken),
        "last_job": job_document(last[0]) if last else None,
        "interrupted_jobs": [job_document(job) for job in stopped],
        "pending_creations": pending,
    }
    lines = [
        f"Connection:        {ctx.connection_label}",
        "Business Central:  "
        + (f"OK, company {bc['company']} ({bc['environment']})" if bc["ok"] else f"FAILED - {bc['error']}"),
        "Dataverse:         "
        + (f"OK, organization {dataverse['organization']}" if dataverse["ok"] else f"FAILED - {dataverse['error']}"),
        *_mapping_lines(mappings),
        f"Coupling database: {document['database']}",
        "Couplings:         " + (", ".join(f"{name} {n}" for name, n in couplings.items()) or "none"),
        "Need attention:    " + ", ".join(kind_count(kind, document[kind]) for kind in ProblemKind),
        "Last job:          " + (job_line(last[0]) if last else "none yet"),
        *_interrupted_lines(stopped),
        *_pending_lines(pending),
    ]
    # A service's error text is data: printable and short on stderr too (JSON keeps it whole).
    failures = [shorten_words(check["error"]) for check in (bc, dataverse) if not check["ok"]]
    for failure in failures:  # scripts see why on stderr too, whatever stdout holds
        fail(not_connected(failure))
    return Report(document=document, lines=lines, exit_code=EXIT_USAGE if failures else EXIT_OK)
