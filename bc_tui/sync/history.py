"""A record's history: each job that wrote it, when, in which direction, and each field before
and after (docs/undo-and-history.md "History"); read by the card and ``bc-tui history``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bc_tui.domain.names import bc_noun
from bc_tui.store.errors import NotFoundError
from bc_tui.store.history import bc_id_numbered, record_history
from bc_tui.store.jobs import JobRecord, get_job
from bc_tui.store.records import Side, normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.journal import field_labels
from bc_tui.sync.records import bc_kind, rows_where
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, SIDES


@dataclass(frozen=True)
class FieldHistory:
    """One field a job changed: its label (or API name), the API name, before and after."""

    label: str
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryEntry:
    """One job's write to one side of a coupled pair."""

    job_id: int
    at: datetime | None
    job_type: str
    direction: str | None
    side: Side
    service: str
    action: str  # "modified" / "inserted"
    record: str
    fields: tuple[FieldHistory, ...]


async def history(session: SyncSession, mapping_name: str, bc_number: str) -> list[HistoryEntry]:
    """The history of the BC record numbered ``bc_number`` in ``mapping_name``, newest first.

    Raises :class:`SyncError` when neither Business Central nor a coupling knows that number.
    """
    mapping = session.mapping(mapping_name)
    number = bc_number.strip()
    rows = await rows_where(BC_SIDE, session, bc_kind(mapping), "number", [number], select=("id", "number"))
    bc_id = str(rows[0]["id"]) if rows else await session.db(bc_id_numbered, mapping.name, number)
    if bc_id is None:
        raise SyncError(f"Business Central has no {bc_noun(mapping)} numbered {number}; check the number.")
    return await history_of_record(session, mapping.name, bc_id)


async def history_of_record(session: SyncSession, mapping_name: str, bc_id: str) -> list[HistoryEntry]:
    """The history of the BC record ``bc_id`` (its SystemId) and its counterpart, newest first."""
    mapping = session.mapping(mapping_name)
    changes = await session.db(record_history, mapping.name, normalize_id(bc_id))
    jobs = await session.db(_jobs, sorted({c.job_id for c in changes}))
    entries = []
    for change in changes:
        side = SIDES[change.side]
        job = jobs.get(change.job_id)
        # One row per API field, so a field mapping spread over several fields shows each part.
        fields = tuple(
            FieldHistory(field_labels(mapping, side, [name])[0], name, pair[0], pair[1])
            for name, pair in change.fields.items()
        )
        entries.append(
            HistoryEntry(
                job_id=change.job_id,
                at=change.created_at,
                job_type=str(job.type) if job else "",
                direction=job.direction if job else None,
                side=change.side,
                service=side.service,
                action=change.action,
                record=change.record,
                fields=fields,
            )
        )
    return entries


def _jobs(ids: Sequence[int]) -> dict[int, JobRecord]:
    found: dict[int, JobRecord] = {}
    for job_id in ids:
        try:
            found[job_id] = get_job(job_id)
        except NotFoundError:
            continue  # the job was cleaned up; its changes still tell what they did
    return found


__all__ = ["FieldHistory", "HistoryEntry", "history", "history_of_record"]
