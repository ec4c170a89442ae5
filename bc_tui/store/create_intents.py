"""Create intents: what makes "create the counterpart and couple it" safe to interrupt and
re-run. An intent is written *before* the create, holding what the new record is found again by
(the id it will get on Dataverse; on BC the values sent and the time), and turned into a
coupling once the record exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bc_tui.store.coupling_rows import again_after_race, intent_record
from bc_tui.store.coupling_writes import couple
from bc_tui.store.database import atomic
from bc_tui.store.errors import NotFoundError
from bc_tui.store.models import CreateIntent
from bc_tui.store.records import CouplingRecord, CreateIntentRecord, Side, normalize_id


def begin_create_intent(
    mapping: str,
    source_side: Side,
    source_id: str,
    planned_id: str,
    *,
    job_id: int | None = None,
    body: Mapping[str, Any] | None = None,
    begun_at: datetime | None = None,
) -> CreateIntentRecord:
    """Record, *before* creating it, that the counterpart of ``source_id`` is about to be created.

    ``planned_id`` is the id the new record will get: a Dataverse GUID the client generates (empty
    for BC, whose number series numbers it). ``body`` is what the create sends and ``begun_at``
    when (the service's clock when known); a BC record is found again by them. If an intent for
    this record already exists (a previous run was interrupted), that one is returned unchanged:
    the caller must first check whether its record already exists (and reuse its
    ``planned_id``), so a re-run never creates a duplicate.
    """
    source_id = normalize_id(source_id)
    side = Side(source_side).value

    def begin() -> CreateIntentRecord:
        with atomic():
            existing = _intent_row(mapping, side, source_id)
            if existing is not None:
                return intent_record(existing)
            row = CreateIntent.create(
                mapping=mapping,
                source_side=side,
                source_id=source_id,
                planned_id=planned_id,
                job_id=job_id,
                body=dict(body) if body is not None else None,
                begun_at=begun_at,
            )
        return intent_record(row)

    return again_after_race(begin)


def complete_intent(
    intent_id: int,
    *,
    bc_id: str,
    dataverse_id: str,
    bc_number: str | None = None,
    display_name: str | None = None,
) -> CouplingRecord:
    """Couple the source with its newly created counterpart and forget the intent, atomically."""
    with atomic():
        row = CreateIntent.get_or_none(CreateIntent.id == intent_id)
        if row is None:
            raise NotFoundError(f"The create intent {intent_id} no longer exists; it was completed or abandoned.")
        record = couple(row.mapping, bc_id, dataverse_id, bc_number=bc_number, display_name=display_name)
        row.delete_instance()
    return record


def renew_intent(intent_id: int, *, body: Mapping[str, Any], begun_at: datetime, job_id: int | None) -> None:
    """Keep on an intent left by an earlier run what is sent now: its record was looked for and
    never made, and the create is about to be sent again (perhaps with values changed since)."""
    CreateIntent.update(body=dict(body), begun_at=begun_at, job_id=job_id).where(CreateIntent.id == intent_id).execute()


def abandon_intent(intent_id: int) -> None:
    """Forget an intent whose create definitely did not happen (e.g. the service refused it)."""
    CreateIntent.delete().where(CreateIntent.id == intent_id).execute()


def pending_intents(mapping: str | None = None) -> list[CreateIntentRecord]:
    """Intents left open by an interrupted run, oldest first: finish them before creating more."""
    query = CreateIntent.select().order_by(CreateIntent.created_at, CreateIntent.id)
    if mapping is not None:
        query = query.where(CreateIntent.mapping == mapping)
    return [intent_record(row) for row in query]


def _intent_row(mapping: str, side: str, source_id: str) -> CreateIntent | None:
    return CreateIntent.get_or_none(
        (CreateIntent.mapping == mapping) & (CreateIntent.source_side == side) & (CreateIntent.source_id == source_id)
    )
