"""A finished synchronization job as a command's result: the JSON document, the text lines
(every record up to a few, then only those that need attention) and the exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bc_tui.commands.jobs_text import counter_text
from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, Report
from bc_tui.domain.text import shorten

if TYPE_CHECKING:
    from bc_tui.sync.progress import JobSummary


def summary_document(summary: JobSummary, numbers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON shape of a finished job: id, status, counters, per-record results."""
    from bc_tui.store.jobs import COUNTERS

    numbers = numbers or {}
    return {
        "job_id": summary.job_id,
        "status": summary.status,
        "message": summary.message,
        "counters": {name: summary.counters.get(name, 0) for name in COUNTERS},
        "results": [
            {
                "number": numbers.get((r.bc_id or "").lower()),
                "bc_id": r.bc_id,
                "dataverse_id": r.dataverse_id,
                "description": r.description,
                "outcome": r.outcome,
                "message": r.message,
            }
            for r in summary.results
        ],
        **extra,
    }


#: Up to this many records a text summary lists every record; beyond, only the ones that need attention.
LIST_ALL_UP_TO = 20


def summary_lines(summary: JobSummary, title: str, numbers: dict[str, str] | None = None) -> list[str]:
    """A job as text: a headline with the non-zero counters, then one line per notable record."""
    numbers = numbers or {}
    counts = ", ".join(counter_text(name, n) for name, n in summary.counters.items() if n) or "nothing to do"
    lines = [f"{title}: {counts} (job {summary.job_id})."]
    if summary.message and summary.message not in lines[0]:
        lines.append(summary.message)
    shown = summary.results
    if len(shown) > LIST_ALL_UP_TO:
        shown = [r for r in summary.results if r.message or str(r.outcome) in ("failed", "conflict", "skipped")]
    for result in shown:
        who = numbers.get((result.bc_id or "").lower())
        description = shorten(result.description) if result.description else ""
        line = (
            f"  {who} ({description})"
            if who and description
            else f"  {who or description or result.bc_id or result.dataverse_id}"
        )
        line += f": {result.outcome}"
        if result.message:
            line += f" - {result.message}"
        lines.append(line)
    if len(shown) < len(summary.results):
        lines.append(
            f"  … and {len(summary.results) - len(shown)} more records that went well (--json lists every record)."
        )
    return lines


def summary_exit_code(summary: JobSummary) -> int:
    """1 when a record failed, conflicted or was left unmatched by match-based coupling (or the job
    did not finish), else 0. Unmatched is no failure, but the job did not couple every record it
    was asked to: scripts that checked the exit code before unmatched had its own word still can."""
    from bc_tui.store.jobs import JobStatus

    if (
        summary.failed
        or summary.conflicts
        or summary.counters.get("failed", 0)
        or summary.counters.get("conflicts", 0)
        or summary.counters.get("unmatched", 0)
        or summary.status is not JobStatus.FINISHED
    ):
        return EXIT_FAILURES
    return EXIT_OK


def summary_report(summary: JobSummary, title: str, numbers: dict[str, str] | None = None, **extra: Any) -> Report:
    """A finished job as a :class:`Report`."""
    return Report(
        document=summary_document(summary, numbers, **extra),
        lines=summary_lines(summary, title, numbers),
        exit_code=summary_exit_code(summary),
    )
