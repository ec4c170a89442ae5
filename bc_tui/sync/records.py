"""Reading the records of a table mapping from either side, as the domain wants them.

The domain works on plain dicts: the API's own fields plus ``@odata.etag`` (and the modified
field, ``lastModifiedDateTime`` / ``modifiedon``). Many records are read with OData
``id eq … or id eq …`` filters in chunks that run concurrently (the connectors cap the
concurrency per service), never one GET per record.

Each reading is written once for a side (``fetch``, ``get_record``, ``pages``, ``iter_records``,
``rows_where`` take a :class:`~bc_tui.sync.sides.SideDescription`); the ``bc_…`` / ``dataverse_…`` functions
name the side for callers that know it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict, Unpack

from bc_tui.connectors import NotFound
from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import BcEntity, DataverseEntity, Entity
from bc_tui.domain.mappings import Condition, TableMapping
from bc_tui.store.records import normalize_id
from bc_tui.sync.errors import SyncError, as_sync_error
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SideDescription

Record = dict[str, Any]

ETAG = "@odata.etag"
#: Ids per ``id eq … or …`` filter: keeps the URL well under 8 KB (a GUID term is ~45 characters).
ID_CHUNK = 60
#: Rows per page when streaming a whole table.
PAGE_SIZE = 1000

# --- kinds, fields and conversions --------------------------------------------------------------


def bc_kind(mapping: TableMapping) -> type[BcEntity]:
    """The connector model of the mapping's BC entity (``BcCustomer``, ``BcContact``)."""
    return BC_SIDE.kind(mapping)


def dataverse_kind(mapping: TableMapping) -> type[DataverseEntity]:
    """The connector model of the mapping's Dataverse table (``DataverseAccount``, ``DataverseContact``)."""
    return DATAVERSE_SIDE.kind(mapping)


def bc_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The BC fields read for the mapping's records (``$select``)."""
    return BC_SIDE.fields(mapping)


def dataverse_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The Dataverse attributes read for the mapping's records (``$select``)."""
    return DATAVERSE_SIDE.fields(mapping)


def to_record(entity: Entity) -> Record:
    """A connector model as the domain's dict: its fields plus ``@odata.etag``."""
    record = dict(entity.data)
    record[ETAG] = entity.etag
    return record


def record_id(mapping: TableMapping, record: Mapping[str, Any], *, dataverse: bool) -> str:
    """The normalized key of a record of either side."""
    return (DATAVERSE_SIDE if dataverse else BC_SIDE).record_id(mapping, record)


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
    return await fetch(BC_SIDE, session, mapping, ids, select=select)


async def fetch_dataverse(
    session: SyncSession, mapping: TableMapping, ids: Iterable[str], *, select: Sequence[str] | None = None
) -> dict[str, Record]:
    """The Dataverse records with these ids, keyed by normalized id; missing ones are absent.

    ``select`` defaults to :func:`dataverse_fields`; pass ``()`` for every attribute.
    """
    return await fetch(DATAVERSE_SIDE, session, mapping, ids, select=select)


async def fetch(
    side: SideDescription[Any],
    session: SyncSession,
    mapping: TableMapping,
    ids: Iterable[str],
    *,
    select: Sequence[str] | None = None,
) -> dict[str, Record]:
    """The records of ``side`` with these ids, keyed by normalized id; missing ones are absent.

    ``select`` defaults to the side's fields of the mapping; pass ``()`` for every field.
    """
    client, kind, key = side.client(session), side.kind(mapping), side.key(mapping)
    fields = side.fields(mapping) if select is None else tuple(select)
    wanted = list(dict.fromkeys(normalize_id(i) for i in ids if i))
    chunks = [wanted[start : start + ID_CHUNK] for start in range(0, len(wanted), ID_CHUNK)]

    async def one(chunk: list[str]) -> list[Record]:
        found: list[Record] = []
        async for page in client.pages(kind, filter=ids_filter(key, chunk), select=fields or None, page_size=PAGE_SIZE):
            found.extend(to_record(entity) for entity in page)
        return found

    with as_sync_error():
        found_pages = await asyncio.gather(*(one(chunk) for chunk in chunks))
    return {normalize_id(str(r[key])): r for page in found_pages for r in page}


# --- one record -----------------------------------------------------------------------------------


async def get_bc(session: SyncSession, mapping: TableMapping, bc_id: str) -> Record | None:
    """One BC record with every field, or None when it does not exist (deleted)."""
    return await get_record(BC_SIDE, session, mapping, bc_id)


async def get_dataverse(session: SyncSession, mapping: TableMapping, dataverse_id: str) -> Record | None:
    """One Dataverse record with every attribute, or None when it does not exist (deleted)."""
    return await get_record(DATAVERSE_SIDE, session, mapping, dataverse_id)


async def get_record(
    side: SideDescription[Any], session: SyncSession, mapping: TableMapping, record_id: str
) -> Record | None:
    """One record of ``side`` with every field, or None when it does not exist (deleted)."""
    with as_sync_error():
        try:
            return to_record(await side.client(session).get(side.kind(mapping), normalize_id(record_id)))
        except NotFound:
            return None


# --- whole tables, streamed -----------------------------------------------------------------------


class TableRead(TypedDict, total=False):
    """How a whole-table read is asked for; every part may be left out.

    ``table_filter`` (default True) keeps the read inside the side's table filter; ``select``
    defaults to the side's fields of the mapping (``()`` for every field); ``page_size``
    defaults to ``PAGE_SIZE``."""

    table_filter: bool
    select: Sequence[str] | None
    page_size: int


async def service_time(session: SyncSession, mapping: TableMapping, side: SideDescription[Any]) -> datetime | None:
    """``side``'s clock now (the ``Date`` header of a one-row read of the mapping's table), or
    None when the service sends no ``Date``."""
    with as_sync_error():
        # The side's client is typed loosely (Any): the annotation restores what server_time returns.
        now: datetime | None = await side.client(session).server_time(side.kind(mapping))
    return now


async def pages(
    side: SideDescription[Any],
    session: SyncSession,
    mapping: TableMapping,
    filter: str | None = None,
    **read: Unpack[TableRead],
) -> AsyncIterator[list[Record]]:
    """The mapping's records of ``side`` page by page, inside the side's table filter (unless
    ``table_filter=False``) and ``filter`` (an OData expression built with ``connectors.filters``)."""
    table_filter = conditions_filter(side.table_filter(mapping)) if read.get("table_filter", True) else ""
    combined = odata.and_(table_filter, filter or "")
    select = read.get("select")
    fields = side.fields(mapping) if select is None else tuple(select)
    with as_sync_error():
        async for page in side.client(session).pages(
            side.kind(mapping),
            filter=combined or None,
            select=fields or None,
            page_size=read.get("page_size", PAGE_SIZE),
        ):
            yield [to_record(entity) for entity in page]


def iter_records(
    side: SideDescription[Any],
    session: SyncSession,
    mapping: TableMapping,
    filter: str | None = None,
    **read: Unpack[TableRead],
) -> AsyncIterator[Record]:
    """The mapping's records of ``side`` one at a time (read page by page); see :func:`pages`."""
    return _records(pages(side, session, mapping, filter, **read))


async def _records(stream: AsyncIterator[list[Record]]) -> AsyncIterator[Record]:
    async for page in stream:
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


async def rows_where(
    side: SideDescription[Any],
    session: SyncSession,
    kind: type[Entity],
    field: str,
    values: Iterable[Any],
    *,
    filter: str | None = None,
    select: Sequence[str] | None = None,
) -> list[Record]:
    """Rows of ``kind`` on ``side`` whose ``field`` equals one of ``values`` (chunked, concurrent, escaped)."""
    client = side.client(session)
    wanted = list(dict.fromkeys(v for v in values if v not in (None, "")))
    chunks = [wanted[start : start + VALUE_CHUNK] for start in range(0, len(wanted), VALUE_CHUNK)]

    async def one(chunk: list[Any]) -> list[Record]:
        # BC compares text case-sensitively unless the tenant's collation says otherwise; tolower
        # gives the same rows either way (docs/sandbox-fidelity.md, "Business Central API v2.0").
        # Dataverse always ignores case, and has no tolower.
        expression = odata.and_(filter or "", odata.in_(field, chunk, ignore_case=not side.is_dataverse))
        found: list[Record] = []
        async for page in client.pages(kind, filter=expression, select=select or None, page_size=PAGE_SIZE):
            found.extend(to_record(entity) for entity in page)
        return found

    with as_sync_error():
        found_pages = await asyncio.gather(*(one(chunk) for chunk in chunks))
    return [row for page in found_pages for row in page]
