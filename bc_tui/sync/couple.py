"""Set Up Coupling (docs/coupling-and-sync.md "Set Up Coupling").

Couple one BC record with a Dataverse record chosen by id or name.

Also what the coupling dialog shows while the user chooses: the coupled fields side by side
(:func:`preview_coupling`); the lookup of Dataverse candidates is ``bc_tui.sync.lookup``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.domain.filters import conditions_text, failing_conditions
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.names import bc_noun, dataverse_noun, describe_bc, describe_dataverse, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.text import shorten
from bc_tui.domain.transformations import read_bc, read_dataverse
from bc_tui.store import coupling_writes
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import remove_coupling
from bc_tui.store.errors import BcRecordAlreadyCoupledError, DataverseRecordAlreadyCoupledError, StoreError
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.errors import SyncError, as_sync_error, plain
from bc_tui.sync.progress import JobRun, JobSummary
from bc_tui.sync.records import (
    Record,
    conditions_filter,
    dataverse_fields,
    dataverse_kind,
    get_bc,
    get_dataverse,
    to_record,
)
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import DATAVERSE_SIDE
from bc_tui.sync.synchronize import synchronize_one


@dataclass(frozen=True)
class CoupleResult:
    """What Set Up Coupling did."""

    coupling: CouplingRecord | None  # None when Create New failed
    bc_description: str
    dataverse_description: str
    job_id: int
    created: bool = False  # the Dataverse record was created from the BC data (Create New)
    removed_stale: CouplingRecord | None = None  # a coupling whose BC record no longer existed
    sync: Any = None  # what synchronize_one answered, when Synchronize After Coupling was chosen
    message: str = ""  # a sentence for the status line


@dataclass(frozen=True)
class PreviewRow:
    """One coupled field in the dialog: *Field Name, Value, Integration Value, Direction, Validate*."""

    label: str
    bc_value: Any
    dataverse_value: Any
    direction: Direction
    validate: bool = False


@dataclass(frozen=True)
class CouplingPreview:
    """What the coupling dialog shows for a BC record and (optionally) a chosen Dataverse record."""

    bc_description: str
    dataverse_description: str | None
    current_dataverse_id: str | None  # the record's present coupling, if any
    default_sync_after: SyncDirection | None
    create_new_available: bool
    rows: list[PreviewRow]


# --- dialog helpers ----------------------------------------------------------------------------


def create_new_available(mapping: TableMapping) -> bool:
    """Create New is offered only when the mapping's default direction is To Integration Table."""
    return mapping.direction is not Direction.FROM_DATAVERSE and mapping.allows(SyncDirection.TO_DATAVERSE)


def default_sync_after(mapping: TableMapping, *, already_coupled: bool) -> SyncDirection | None:
    """The dialog's default Synchronize After Coupling choice (docs/coupling-and-sync.md "Set Up Coupling").

    None ("No") when the record is already coupled; "use the Dataverse data" for a From
    Integration Table mapping; otherwise "use the Business Central data".
    """
    if already_coupled:
        return None
    if mapping.direction is Direction.FROM_DATAVERSE:
        return SyncDirection.FROM_DATAVERSE
    return SyncDirection.TO_DATAVERSE


async def find_dataverse_by_name(session: SyncSession, mapping: TableMapping, name: str) -> Record:
    """The Dataverse record a typed name means: exact match first, then prefix match.

    See docs/coupling-and-sync.md "Set Up Coupling".

    Raises SyncError "A record with the name X does not exist in Dataverse." when neither finds one.
    """
    text = name.strip()
    if text:
        for expression in (
            odata.eq(mapping.dataverse_name_field, text),
            odata.startswith(mapping.dataverse_name_field, odata.like_literal(text)),
        ):
            rows = await _by_name(session, mapping, expression, 1, within_filter=False)
            if rows:
                return rows[0]
    raise SyncError(f"A record with the name {shorten(text)} does not exist in Dataverse.")


async def preview_coupling(
    session: SyncSession, mapping_name: str, bc_id: str, dataverse_id: str | None = None
) -> CouplingPreview:
    """The coupling dialog's content: both names, the defaults and one row per enabled field mapping.

    Without ``dataverse_id`` the record's present coupling (if any) fills the Dataverse column.
    """
    mapping = session.mapping(mapping_name)
    bc_record = await _require_bc(session, mapping, bc_id)
    current = await session.db(get_by_bc_id, mapping.name, bc_id)
    chosen = dataverse_id or (current.dataverse_id if current else None)
    dataverse_record = await get_dataverse(session, mapping, chosen) if chosen else None
    rows = [
        PreviewRow(
            label=fm.label,
            bc_value=read_bc(fm, bc_record),
            dataverse_value=read_dataverse(fm, dataverse_record) if dataverse_record is not None else None,
            direction=fm.direction,
            validate=fm.validate,
        )
        for fm in mapping.enabled_fields
    ]
    return CouplingPreview(
        bc_description=describe_bc(mapping, bc_record),
        dataverse_description=describe_dataverse(mapping, dataverse_record) if dataverse_record else None,
        current_dataverse_id=current.dataverse_id if current else None,
        default_sync_after=default_sync_after(mapping, already_coupled=current is not None),
        create_new_available=create_new_available(mapping),
        rows=rows,
    )


# --- the use case ---------------------------------------------------------------------------------


async def couple_record(
    session: SyncSession,
    mapping_name: str,
    bc_id: str,
    *,
    dataverse_id: str | None = None,
    dataverse_name: str | None = None,
    create_new: bool = False,
    sync_after: SyncDirection | None = None,
    replace: bool = False,
) -> CoupleResult:
    """Couple the BC record ``bc_id`` with a Dataverse record (the dialog's OK).

    See docs/coupling-and-sync.md "Set Up Coupling".

    Choose the Dataverse record by ``dataverse_id`` or by ``dataverse_name`` (exact, then prefix),
    or pass ``create_new`` to create it from the BC data. The chosen record must pass the
    mapping's integration table filter. Coupling is one-to-one: a record coupled elsewhere is
    refused, except that a coupling whose BC record no longer exists is removed silently;
    ``replace`` re-couples a BC record that is coupled to another Dataverse record (the user
    confirmed). ``sync_after`` synchronizes once in that direction after coupling.
    Raises :class:`SyncError` (one sentence) when the coupling cannot be made.
    """
    mapping = session.mapping(mapping_name)
    bc_id = normalize_id(bc_id)
    bc_record = await _require_bc(session, mapping, bc_id)
    bc_description = describe_bc(mapping, bc_record)
    if failing := failing_conditions(bc_record, mapping.table_filter):
        raise SyncError(
            f"{sentence(bc_description)} is outside the table filter of the table mapping {mapping.name} "
            f"({conditions_text(failing)}), so it cannot be coupled."
        )
    if create_new:
        return await _create_new(session, mapping, bc_id, bc_description)
    if dataverse_id:
        dataverse_record = await get_dataverse(session, mapping, dataverse_id)
        if dataverse_record is None:
            raise SyncError(
                f"The Dataverse {dataverse_noun(mapping)} {dataverse_id} does not exist; "
                f"choose another record to couple {bc_description} with."
            )
    elif dataverse_name and dataverse_name.strip():
        dataverse_record = await find_dataverse_by_name(session, mapping, dataverse_name)
    else:
        raise SyncError(f"Choose the Dataverse record to couple {bc_description} with, or tick Create New.")
    dataverse_description = describe_dataverse(mapping, dataverse_record)
    if failing := failing_conditions(dataverse_record, mapping.integration_table_filter):
        raise SyncError(
            f"The {dataverse_description} is hidden by the integration table filter of the table mapping "
            f"{mapping.name} ({conditions_text(failing)}); choose another record or change that filter."
        )
    target = DATAVERSE_SIDE.record_id(mapping, dataverse_record)
    refusal: SyncError | None = None
    async with JobRun(JobType.COUPLING, mapping=mapping.name, session=session) as run:
        try:
            coupling, stale = await _couple(
                session, mapping, bc_id, target, bc_record, dataverse_description, replace=replace
            )
        except SyncError as error:
            # A one-to-one refusal is this record's failure, not a crash of the job: the log
            # says "1 failed" with the reason, and the caller still gets the sentence.
            refusal = error
            run.message = str(error)
            run.record(
                Outcome.FAILED,
                str(error),
                bc_id=bc_id,
                dataverse_id=target,
                description=bc_description,
                destination=dataverse_description,
            )
        else:
            run.record(Outcome.COUPLED, bc_id=bc_id, dataverse_id=target, description=bc_description)
    if refusal is not None:
        raise refusal
    sync = None
    if sync_after is not None:
        sync = await synchronize_one(session, mapping.name, bc_id, sync_after)
    return CoupleResult(
        coupling=coupling,
        bc_description=bc_description,
        dataverse_description=dataverse_description,
        job_id=run.job_id,
        removed_stale=stale,
        sync=sync,
        message=f"{sentence(bc_description)} is now coupled to the Dataverse {dataverse_description}.",
    )


async def _couple(
    session: SyncSession,
    mapping: TableMapping,
    bc_id: str,
    dataverse_id: str,
    bc_record: Mapping[str, Any],
    dataverse_description: str,
    *,
    replace: bool,
) -> tuple[CouplingRecord, CouplingRecord | None]:
    """Write the coupling; remove a stale one (its BC record is gone) silently; return (new, stale).

    A one-to-one refusal names both records by number and name, never by GUID alone."""
    names = {
        "bc_number": str(bc_record.get("number") or "") or None,
        "display_name": str(bc_record.get("displayName") or "") or None,
    }

    async def write() -> CouplingRecord:
        return await session.db(coupling_writes.couple, mapping.name, bc_id, dataverse_id, replace=replace, **names)

    try:
        try:
            return await write(), None
        except DataverseRecordAlreadyCoupledError as taken:
            holder = taken.existing
            if await get_bc(session, mapping, holder.bc_id) is not None:
                raise
            # The BC record that held the coupling no longer exists: BC removes it silently.
            await session.db(remove_coupling, holder.id)
            return await write(), holder
    except BcRecordAlreadyCoupledError as taken:
        other = await get_dataverse(session, mapping, taken.existing.dataverse_id)
        other_text = (
            describe_dataverse(mapping, other) if other else f"{dataverse_noun(mapping)} {taken.existing.dataverse_id}"
        )
        raise SyncError(
            f"The Business Central {describe_bc(mapping, bc_record)} is already coupled to the Dataverse "
            f"{other_text} in {mapping.name}; delete that coupling first."
        ) from None
    except DataverseRecordAlreadyCoupledError as taken:
        raise SyncError(
            f"The Dataverse {dataverse_description} is already coupled to the Business Central "
            f"{_coupled_bc(mapping, taken.existing)} in {mapping.name}; delete that coupling first."
        ) from None
    except StoreError as error:  # any other refusal of the store carries its own sentence
        raise SyncError(plain(error)) from None


def _coupled_bc(mapping: TableMapping, coupling: CouplingRecord) -> str:
    """'customer 10000 Adatum Corporation': the BC side of a coupling, as the store remembers it."""
    named = " ".join(part for part in (coupling.bc_number, coupling.display_name) if part)
    return f"{bc_noun(mapping)} {named or coupling.bc_id}"


async def _create_new(session: SyncSession, mapping: TableMapping, bc_id: str, bc_description: str) -> CoupleResult:
    if not create_new_available(mapping):
        raise SyncError(
            f"Create New is not available for the table mapping {mapping.name}: it does not send data to Dataverse."
        )
    existing = await session.db(get_by_bc_id, mapping.name, bc_id)
    if existing is not None:
        raise SyncError(
            f"{sentence(bc_description)} is already coupled to a Dataverse {dataverse_noun(mapping)}; "
            "delete that coupling before creating a new one."
        )
    summary: JobSummary = await create_in_dataverse(session, mapping.name, [bc_id])
    result = summary.result_for(bc_id)
    if result is None or result.outcome is not Outcome.INSERTED:
        raise SyncError(
            result.message
            if result and result.message
            else f"{sentence(bc_description)} could not be created in Dataverse."
        )
    coupling = await session.db(get_by_bc_id, mapping.name, bc_id)
    dataverse_record = await get_dataverse(session, mapping, coupling.dataverse_id) if coupling else None
    dataverse_description = (
        describe_dataverse(mapping, dataverse_record)
        if dataverse_record
        else f"{dataverse_noun(mapping)} {result.dataverse_id}"
    )
    return CoupleResult(
        coupling=coupling,
        bc_description=bc_description,
        dataverse_description=dataverse_description,
        job_id=summary.job_id,
        created=True,
        message=(
            f"{sentence(bc_description)} was created in Dataverse as the {dataverse_description} and coupled to it."
        ),
    )


# --- helpers ------------------------------------------------------------------------------------


async def _require_bc(session: SyncSession, mapping: TableMapping, bc_id: str) -> Record:
    record = await get_bc(session, mapping, bc_id)
    if record is None:
        raise SyncError(
            f"The Business Central {bc_noun(mapping)} {bc_id} does not exist (it may have been deleted); "
            "refresh the list."
        )
    return record


async def _by_name(
    session: SyncSession, mapping: TableMapping, expression: str, limit: int, within_filter: bool
) -> list[Record]:
    combined = odata.and_(conditions_filter(mapping.integration_table_filter) if within_filter else "", expression)
    found: list[Record] = []
    pages = session.dataverse.pages(
        dataverse_kind(mapping),
        filter=combined,
        select=dataverse_fields(mapping),
        orderby=mapping.dataverse_name_field,
        top=limit,
        page_size=max(limit, 1),
    )
    with as_sync_error():
        async with aclosing(pages):
            async for page in pages:
                found.extend(to_record(entity) for entity in page)
                if len(found) >= limit:
                    break
    return found[:limit]
