"""How the jobs of the store look in the CLI's output (JSON and text)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bc_tui.domain.text import shorten

if TYPE_CHECKING:
    from bc_tui.store.jobs import JobErrorRecord, JobRecord


def job_document(job: JobRecord) -> dict[str, Any]:
    """A job of the log as JSON: its fields, counters and duration in seconds."""
    document = asdict(job)
    document["duration_s"] = None if job.duration is None else round(job.duration.total_seconds(), 3)
    return document


def counter_text(name: str, count: int) -> str:
    """One job counter in words: ``"3 modified"``, ``"1 conflict"``, ``"2 conflicts"``."""
    return f"{count} {'conflict' if name == 'conflicts' and count == 1 else name}"


def job_line(job: JobRecord) -> str:
    """A job of the log as one line: id, what, status, start, non-zero counters."""
    from bc_tui.domain.words import job_type_text
    from bc_tui.store.jobs import COUNTERS

    counts = (
        ", ".join(counter_text(name, getattr(job, name)) for name in COUNTERS if getattr(job, name)) or "no records"
    )
    # The shown words ("Delete coupling"); --json keeps the stored values ("uncoupling").
    what = " ".join(part for part in (job_type_text(job.type), job.mapping or "", job.direction or "") if part)
    line = f"#{job.id} {what}, {job.status}, {job.started_at:%Y-%m-%d %H:%M:%S}: {counts}"
    return line + (f" - {job.message}" if job.message else "")


def job_error_document(error: JobErrorRecord) -> dict[str, Any]:
    """One failure logged by a job, as JSON."""
    return asdict(error)


def job_error_line(error: JobErrorRecord) -> str:
    """One failure logged by a job, as an indented line."""
    who = shorten(error.source_description or error.bc_id or error.dataverse_id or "a record")
    return f"  {error.created_at:%H:%M:%S} {who}: {error.message}"
