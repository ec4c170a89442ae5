"""``bc-tui log``: the synchronization job log, or one job with the failures it logged."""

from __future__ import annotations

import argparse
from typing import Any

from bc_tui.commands.common import Context, UsageError, add_common_options, command
from bc_tui.commands.csv_output import add_csv_option, check_csv, csv_report
from bc_tui.commands.jobs_text import job_document, job_error_document, job_error_line, job_line
from bc_tui.commands.output import Report

#: The largest id the database can hold (a 64-bit integer); larger numbers cannot name a job.
MAX_ID = 2**63 - 1


def _positive(text: str) -> int:
    shown = text if len(text) <= 20 else text[:19] + "…"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{shown} is out of range; it must be from 1 to {MAX_ID}")
    return value


def register(subparsers: Any) -> None:
    """Add ``log`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "log",
        help="list the synchronization jobs, or show one job with its errors",
        description="The synchronization job log, newest first, with each job's counters "
        "(inserted, modified, unchanged, skipped, failed, conflicts, coupled, uncoupled …).",
    )
    parser.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many jobs to list (default 20)")
    parser.add_argument(
        "--job", type=_positive, default=None, metavar="ID", help="show this job and the errors it logged"
    )
    add_csv_option(parser, "the jobs (with --job: that job's errors)")
    add_common_options(parser)
    parser.set_defaults(func=command(log, validate=check_csv))


async def log(ctx: Context) -> Report:
    """The newest jobs, or one job and its errors."""
    from bc_tui.store import jobs
    from bc_tui.store.errors import NotFoundError

    if ctx.args.job is not None:
        try:
            job = await ctx.session.db(jobs.get_job, ctx.args.job)
        except NotFoundError as error:
            raise UsageError(str(error)) from None
        errors = await ctx.session.db(jobs.job_errors, job.id)
        if ctx.args.csv is not None:
            from bc_tui.sync.export import JOB_ERROR_HEADER, job_error_rows

            return csv_report(ctx.args, JOB_ERROR_HEADER, job_error_rows(errors), "error")
        lines = [job_line(job)]
        lines += [job_error_line(e) for e in errors] or ["  no errors logged"]
        return Report(
            document={"job": job_document(job), "errors": [job_error_document(e) for e in errors]}, lines=lines
        )
    listed = await ctx.session.db(jobs.list_jobs, limit=ctx.args.limit)
    if ctx.args.csv is not None:
        from bc_tui.sync.export import LOG_HEADER, log_rows

        return csv_report(ctx.args, LOG_HEADER, log_rows(listed), "job")
    return Report(
        document={"jobs": [job_document(j) for j in listed]},
        lines=[job_line(j) for j in listed] or ["No synchronization jobs yet."],
    )
