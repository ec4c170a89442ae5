"""How jobs and couplings of the store look in the CLI's output (JSON and text)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bc_tui.store.couplings import CouplingRecord
    from bc_tui.store.jobs import JobErrorRecord, JobRecord


def job_document(job: "JobRecord") -> dict[str, Any]:
    """A job of the log as JSON: its fields, counters and duration in seconds."""
    document = asdict(job)
    document["duration_s"] = None if job.duration is None else round(job.duration.total_seconds(), 3)
    return document


def job_line(job: "JobRecord") -> str:
    """A job of the log as one line: id, what, status, start, non-zero counters."""
    from bc_tui.store.jobs import COUNTERS

    counts = ", ".join(f"{getattr(job, name)} {name}" for name in COUNTERS if getattr(job, name)) or "no records"
    what = " ".join(part for part in (str(job.type), job.mapping or "", job.direction or "") if part)
    line = f"#{job.id} {what}, {job.status}, {job.started_at:%Y-%m-%d %H:%M:%S}: {counts}"
    return line + (f" - {job.message}" if job.message else "")


def job_error_document(error: "JobErrorRecord") -> dict[str, Any]:
    """One failure logged by a job, as JSON."""
    return asdict(error)


def job_error_line(error: "JobErrorRecord") -> str:
    """One failure logged by a job, as an indented line."""
    who = error.source_description or error.bc_id or error.dataverse_id or "a record"
    return f"  {error.created_at:%H:%M:%S} {who}: {error.message}"


def coupling_document(coupling: "CouplingRecord", problem: str) -> dict[str, Any]:
    """A coupling that needs attention, as JSON (the field snapshot is left out)."""
    document = asdict(coupling)
    document.pop("snapshot", None)
    document["problem"] = problem
    return document


def coupling_line(coupling: "CouplingRecord", problem: str) -> str:
    """A coupling that needs attention, as one line naming the record and the last error."""
    who = coupling.bc_number or coupling.bc_id
    name = f" ({coupling.display_name})" if coupling.display_name else ""
    if problem == "broken":
        side = "Business Central" if str(coupling.deleted_side) == "bc" else "Dataverse"
        why = f"the {side} record was deleted"
    else:
        why = coupling.to_dataverse_error or coupling.from_dataverse_error or "the last synchronization failed"
    return f"  {coupling.mapping} {who}{name}: {problem} - {why}"
