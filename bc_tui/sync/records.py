"""Reading the records of a table mapping from either side, as the domain wants them.

The domain works on plain dicts: the API's own fields plus ``@odata.etag`` (and the modified
field, ``lastModifiedDateTime`` / ``modifiedon``). Many records are read with OData
``id eq … or id eq …`` filters in chunks that run concurrently (the connectors cap the
concurrency per service), never one GET per record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

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


# --- the two sides -------------------------------------------------------------------------------

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class _Side(Generic[E]):
    """What reading differs in between BC and Dataverse; the reading itself is the same."""

    #: How the error for an unknown entity names it ("Business Central entity", "Dataverse table").
    noun: str
    kinds: Mapping[str, type[E]]
    extra: Mapping[str, tuple[str, ...]]
    entity: Callable[[TableMapping], str]
    select: Callable[[TableMapping], Sequence[str]]
    key: Callable[[TableMapping], str]
    table_filter: Callable[[TableMapping], Iterable[Condition]]
    client: Callable[[SyncSession], Any]

    def kind(self, mapping: TableMapping) -> type[E]:
        """The connector model of the mapping's entity on this side."""
        try:
            return self.kinds[self.entity(mapping)]
        except KeyError:
            raise SyncError(f"The table mapping {mapping.name} names the unknown {self.noun} {self.entity(mapping)}.") from None

    def fields(self, mapping: TableMapping) -> tuple[str, ...]:
        """The fields read for the mapping's records on this side (``$select``)."""
        return tuple(dict.fromkeys((*self.select(mapping), *self.extra.get(self.entity(mapping), ()))))


_BC: _Side[BcEntity] = _Side(
    noun="Business Central entity",
    kinds=_BC_KINDS,
    extra=_BC_EXTRA,
    entity=attrgetter("bc_entity"),
    select=bc_select,
    key=lambda mapping: "id",
    table_filter=attrgetter("table_filter"),
    client=attrgetter("bc"),
)
_DATAVERSE: _Side[DataverseEntity] = _Side(
    noun="Dataverse table",
    kinds=_DATAVERSE_KINDS,
    extra=_DATAVERSE_EXTRA,
    entity=attrgetter("dataverse_table"),
    select=dataverse_select,
    key=attrgetter("dataverse_key"),
    table_filter=attrgetter("integration_table_filter"),
    client=attrgetter("dataverse"),
)


# --- kinds, fields and conversions --------------------------------------------------------------


def bc_kind(mapping: TableMapping) -> type[BcEntity]:
    """The connector model of the mapping's BC entity (``BcCustomer``, ``BcContact``)."""
    return _BC.kind(mapping)


def dataverse_kind(mapping: TableMapping) -> type[DataverseEntity]:
    """The connector model of the mapping's Dataverse table (``DataverseAccount``, ``DataverseContact``)."""
    return _DATAVERSE.kind(mapping)


def bc_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The BC fields read for the mapping's records (``$select``)."""
    return _BC.fields(mapping)


def dataverse_fields(mapping: TableMapping) -> tuple[str, ...]:
    """The Dataverse attributes read for the mapping's records (``$select``)."""
    return _DATAVERSE.fields(mapping)


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
    return await _fetch(_BC, session, mapping, ids, select)


async def fetch_dataverse(
    session: SyncSession, mapping: TableMapping, ids: Iterable[str], *, select: Sequence[str] | None = None
) -> dict[str, Record]:
    """The Dataverse records with these ids, keyed by normalized id; missing ones are absent.

    ``select`` defaults to :func:`dataverse_fields`; pass ``()`` for every attribute.
    """
    return await _fetch(_DATAVERSE, session, mapping, ids, select)


async def _fetch(
    side: _Side[Any], session: SyncSession, mapping: TableMapping, ids: Iterable[str], select: Sequence[str] | None
) -> dict[str, Record]:
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
        pages = await asyncio.gather(*(one(chunk) for chunk in chunks))
    return {normalize_id(str(r[key])): r for page in pages for r in page}


# --- one record -----------------------------------------------------------------------------------


async def get_bc(session: SyncSession, mapping: TableMapping, bc_id: str) -> Record | None:
    """One BC record with every field, or None when it does not exist (deleted)."""
    return await _get(_BC, session, mapping, bc_id)


async def get_dataverse(session: SyncSession, mapping: TableMapping, dataverse_id: str) -> Record | None:
    """One Dataverse record with every attribute, or None when it does not exist (deleted)."""
    return await _get(_DATAVERSE, session, mapping, dataverse_id)


async def _get(side: _Side[Any], session: SyncSession, mapping: TableMapping, record_id: str) -> Record | None:
    with as_sync_error():
        try:
            return to_record(await side.client(session).get(side.kind(mapping), normalize_id(record_id)))
        except NotFound:
            return None


# --- whole tables, streamed -----------------------------------------------------------------------


def bc_pages(
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
    return _pages(_BC, session, mapping, filter, table_filter, select, page_size)


def dataverse_pages(
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
    return _pages(_DATAVERSE, session, mapping, filter, table_filter, select, page_size)


async def _pages(
    side: _Side[Any], session: SyncSession, mapping: TableMapping, filter: str | None, table_filter: bool,
    select: Sequence[str] | None, page_size: int,
) -> AsyncIterator[list[Record]]:
    combined = odata.and_(conditions_filter(side.table_filter(mapping)) if table_filter else "", filter or "")
    fields = side.fields(mapping) if select is None else tuple(select)
    with as_sync_error():
        async for page in side.client(session).pages(
            side.kind(mapping), filter=combined or None, select=fields or None, page_size=page_size
        ):
            yield [to_record(entity) for entity in page]


def iter_bc(
    session: SyncSession, mapping: TableMapping, filter: str | None = None, *, table_filter: bool = True,
    select: Sequence[str] | None = None,
) -> AsyncIterator[Record]:
    """The mapping's BC records one at a time (read page by page); see :func:`bc_pages`."""
    return _records(bc_pages(session, mapping, filter, table_filter=table_filter, select=select))


def iter_dataverse(
    session: SyncSession, mapping: TableMapping, filter: str | None = None, *, table_filter: bool = True,
    select: Sequence[str] | None = None,
) -> AsyncIterator[Record]:
    """The mapping's Dataverse records one at a time (read page by page); see :func:`dataverse_pages`."""
    return _records(dataverse_pages(session, mapping, filter, table_filter=table_filter, select=select))


async def _records(pages: AsyncIterator[list[Record]]) -> AsyncIterator[Record]:
    async for page in pages:
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
