"""Reading the records of a table mapping from either side, as the domain wants them.

The domain works on plain dicts: the API's own fields plus ``@odata.etag`` (and the modified
field, ``lastModifiedDateTime`` / ``modifiedon``). Many records are read with OData
``id eq … or id eq …`` filters in chunks that run concurrently (the connectors cap the
concurrency per service), never one GET per record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from bc_tui.connectors import NotFound
from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import (
    BcContact,
    BcCustomer,
    BcEntity,
    DataverseAccount,
    DataverseContact,
    DataverseEntity,
    Entity,
)
from bc_tui.domain.mappings import Condition, TableMapping
from bc_tui.domain.selection import bc_select, dataverse_select
from bc_tui.store.couplings import normalize_id
from bc_tui.sync.errors import SyncError, as_sync_error
from bc_tui.sync.session import SyncSession

Record = dict[str, Any]

ETAG = "@odata.etag"
#: Ids per ``id eq … or …`` filter: keeps the URL well under 8 KB (a GUID term is ~45 characters).
ID_CHUNK = 60
#: Rows per page when streaming a whole table.
PAGE_SIZE = 1000

# Fields a use case needs beyond what the mapping synchronizes (names, the contact's company).
_BC_EXTRA: dict[str, tuple[str, ...]] = {"contacts": ("type", "companyNumber", "companyName")}
_DATAVERSE_EXTRA: dict[str, tuple[str, ...]] = {
    "accounts": ("name",),
    "contacts": ("firstname", "lastname", "_parentcustomerid_value"),
}

_BC_KINDS: dict[str, type[BcEntity]] = {"customers": BcCustomer, "contacts": BcContact}
_DATAVERSE_KINDS: dict[str, type[DataverseEntity]] = {"accounts": DataverseAccount, "contacts": DataverseContact}


# --- kinds, fields and conversions --------------------------------------------------------------


def bc_kind(mapping: TableMapping) -> type[BcEntity]:
    """The connector model of the mapping's BC entity (``BcCustomer``, ``BcContact``)."""
    try:
        return _BC_KINDS[mapping.bc_entity]
    except KeyError:
        raise SyncError(f"The table mapping {mapping.name} names the unknown Business Central entity {mapping.bc_entity}.") from None


def dataverse_kind(mapping: TableMapping) -> type[DataverseEntity]:
    """The connector model of the mapping's Dataverse table (``DataverseAccount``, ``DataverseContact``)."""
    try:
        return _DATAVERSE_KINDS[mapping.dataverse_table]
    except KeyError:
        raise SyncError(f"The table mapping {mapping.name} names the unknown Dataverse table {mapping.dataverse_table}.") from None


def bc_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The BC fields read for the mapping's records (``$select``)."""
    return tuple(dict.fromkeys((*bc_select(mapping), *_BC_EXTRA.get(mapping.bc_entity, ()))))


def dataverse_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The Dataverse attributes read for the mapping's records (``$select``)."""
    return tuple(dict.fromkeys((*dataverse_select(mapping), *_DATAVERSE_EXTRA.get(mapping.dataverse_table, ()))))


def to_record(entity: Entity) -> Record:
    """A connector model as the domain's dict: its fields plus ``@odata.etag``."""
    record = dict(entity.data)
    record[ETAG] = entity.etag
    return record


def record_id(mapping: TableMapping, record: Mapping[str, Any], *, dataverse: bool) -> str:
    """The normalized key of a record of either side."""
    return normalize_id(str(record[mapping.dataverse_key if dataverse else "id"]))


def conditions_filter(conditions: Iterable[Condition]) -> str:
    """A table filter as an OData ``$filter`` (escaped; empty string when there are none)."""
    clauses = []
    for condition in conditions:
        if condition.op == "eq":
            clauses.append(odata.eq(condition.field, condition.value))
        elif condition.op == "ne":
            clauses.append(odata.ne(condition.field, condition.value))
        else:
            raise SyncError(f"The filter on {condition.field} uses the unsupported operator {condition.op}.")
    return odata.and_(*clauses)


def ids_filter(key: str, ids: Iterable[str]) -> str:
    """``key eq <guid> or key eq <guid> …``; GUIDs are rendered bare, as both APIs expect."""
    return odata.or_(*(odata.eq(key, _guid(value)) for value in ids))


# --- many records by id ---------------------------------------------------------------------------


async def fetch_bc(
    session: SyncSession, mapping: TableMapping, ids: Iterable[str], *, select: Sequence[str] | None = None
) -> dict[str, Record]:
    """The BC records with these SystemIds, keyed by normalized id; missing ones are absent.

    ``select`` defaults to :func:`bc_fields`; pass ``()`` for every field.
    """
    kind = bc_kind(mapping)
    fields = bc_fields(mapping) if select is None else tuple(select)
    return await _fetch(session.bc, kind, "id", ids, fields)


async def fetch_dataverse(
    session: SyncSession, mapping: TableMapping, ids: Iterable[str], *, select: Sequence[str] | None = None
) -> dict[str, Record]:
    """The Dataverse records with these ids, keyed by normalized id; missing ones are absent.

    ``select`` defaults to :func:`dataverse_fields`; pass ``()`` for every attribute.
    """
    kind = dataverse_kind(mapping)
    fields = dataverse_fields(mapping) if select is None else tuple(select)
    return await _fetch(session.dataverse, kind, mapping.dataverse_key, ids, fields)


async def _fetch(client: Any, kind: type[Entity], key: str, ids: Iterable[str], fields: Sequence[str]) -> dict[str, Record]:
    wanted = list(dict.fromkeys(normalize_id(i) for i in ids if i))
    chunks = [wanted[start : start + ID_CHUNK] for start in range(0, len(wanted), ID_CHUNK)]

    async def one(chunk: list[str]) -> list[Record]:
        found: list[Record] = []
        async for page in client.pages(kind, filter=ids_filter(key, chunk), select=fields or None, page_size=PAGE_SIZE):
            found.extend(to_record(entity) for entity in page)
        return found

    with as_sync_error():
        pages = await asyncio.gather(*(one(chunk) for chunk in chunks))
    return {normalize_id(str(r[key])): r for page in pages for r in page}


# --- one record -----------------------------------------------------------------------------------


async def get_bc(session: SyncSession, mapping: TableMapping, bc_id: str) -> Record | None:
    """One BC record with every field, or None when it does not exist (deleted)."""
    with as_sync_error():
        try:
            return to_record(await session.bc.get(bc_kind(mapping), normalize_id(bc_id)))
        except NotFound:
            return None


async def get_dataverse(session: SyncSession, mapping: TableMapping, dataverse_id: str) -> Record | None:
    """One Dataverse record with every attribute, or None when it does not exist (deleted)."""
    with as_sync_error():
        try:
            return to_record(await session.dataverse.get(dataverse_kind(mapping), normalize_id(dataverse_id)))
        except NotFound:
            return None


# --- whole tables, streamed -----------------------------------------------------------------------


async def bc_pages(
    session: SyncSession,
    mapping: TableMapping,
    filter: str | None = None,
    *,
    table_filter: bool = True,
    select: Sequence[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[list[Record]]:
    """The mapping's BC records page by page, inside its table filter (unless ``table_filter=False``)
    and ``filter`` (an OData expression built with ``connectors.filters``)."""
    combined = odata.and_(conditions_filter(mapping.table_filter) if table_filter else "", filter or "")
    fields = bc_fields(mapping) if select is None else tuple(select)
    with as_sync_error():
        async for page in session.bc.pages(
            bc_kind(mapping), filter=combined or None, select=fields or None, page_size=page_size
        ):
            yield [to_record(entity) for entity in page]


async def dataverse_pages(
    session: SyncSession,
    mapping: TableMapping,
    filter: str | None = None,
    *,
    table_filter: bool = True,
    select: Sequence[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[list[Record]]:
    """The mapping's Dataverse records page by page, inside its integration table filter (unless
    ``table_filter=False``) and ``filter``."""
    combined = odata.and_(conditions_filter(mapping.integration_table_filter) if table_filter else "", filter or "")
    fields = dataverse_fields(mapping) if select is None else tuple(select)
    with as_sync_error():
        async for page in session.dataverse.pages(
            dataverse_kind(mapping), filter=combined or None, select=fields or None, page_size=page_size
        ):
            yield [to_record(entity) for entity in page]


async def iter_bc(
    session: SyncSession, mapping: TableMapping, filter: str | None = None, *, table_filter: bool = True,
    select: Sequence[str] | None = None,
) -> AsyncIterator[Record]:
    """The mapping's BC records one at a time (read page by page); see :func:`bc_pages`."""
    async for page in bc_pages(session, mapping, filter, table_filter=table_filter, select=select):
        for record in page:
            yield record


async def iter_dataverse(
    session: SyncSession, mapping: TableMapping, filter: str | None = None, *, table_filter: bool = True,
    select: Sequence[str] | None = None,
) -> AsyncIterator[Record]:
    """The mapping's Dataverse records one at a time (read page by page); see :func:`dataverse_pages`."""
    async for page in dataverse_pages(session, mapping, filter, table_filter=table_filter, select=select):
        for record in page:
            yield record


def _guid(value: str) -> uuid.UUID | str:
    try:
        return uuid.UUID(normalize_id(value))
    except ValueError:
        # Not a GUID: quoted as a string it matches nothing, and cannot become syntax.
        return value


# --- records by the value of a field (numbers, names) -------------------------------------------

#: Values per ``field eq … or …`` filter (names can be long).
VALUE_CHUNK = 40


async def bc_rows_where(
    session: SyncSession,
    kind: type[BcEntity],
    field: str,
    values: Iterable[Any],
    *,
    filter: str | None = None,
    select: Sequence[str] | None = None,
) -> list[Record]:
    """BC rows of ``kind`` whose ``field`` equals one of ``values`` (chunked, concurrent, escaped)."""
    return await _rows_where(session.bc, kind, field, values, filter, select)


async def dataverse_rows_where(
    session: SyncSession,
    kind: type[DataverseEntity],
    field: str,
    values: Iterable[Any],
    *,
    filter: str | None = None,
    select: Sequence[str] | None = None,
) -> list[Record]:
    """Dataverse rows of ``kind`` whose ``field`` equals one of ``values`` (chunked, concurrent, escaped)."""
    return await _rows_where(session.dataverse, kind, field, values, filter, select)


async def _rows_where(
    client: Any, kind: type[Entity], field: str, values: Iterable[Any], filter: str | None,
    select: Sequence[str] | None,
) -> list[Record]:
    wanted = list(dict.fromkeys(v for v in values if v not in (None, "")))
    chunks = [wanted[start : start + VALUE_CHUNK] for start in range(0, len(wanted), VALUE_CHUNK)]

    async def one(chunk: list[Any]) -> list[Record]:
        expression = odata.and_(filter or "", odata.in_(field, chunk))
        found: list[Record] = []
        async for page in client.pages(kind, filter=expression, select=select or None, page_size=PAGE_SIZE):
            found.extend(to_record(entity) for entity in page)
        return found

    with as_sync_error():
        pages = await asyncio.gather(*(one(chunk) for chunk in chunks))
    return [row for page in pages for row in page]
