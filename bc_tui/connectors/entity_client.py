"""What both service clients do with typed rows: page through, read, create, update, delete.

``BusinessCentralClient`` and ``DataverseClient`` subclass ``EntityClient``; ``kind`` is always a
model class (``BcCustomer``, ``DataverseAccount`` …), which says where its rows live.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypedDict, TypeVar, Unpack

from .batch import entity_path
from .models import Entity
from .odata import ODataService, Row

E = TypeVar("E", bound=Entity)

#: Default page size: big enough to be quick, small enough to show progress.
DEFAULT_PAGE_SIZE = 1000


class ReadQuery(TypedDict, total=False):
    """What a read of an entity set asks for; every part may be left out.

    ``filter`` is built with ``filters``; ``select`` names the fields wanted (the key and the
    modification time are always added); ``page_size`` defaults to ``DEFAULT_PAGE_SIZE``."""

    filter: str | None
    select: Sequence[str] | None
    orderby: str | None
    top: int | None
    page_size: int


class EntityClient:
    """Typed CRUD over one ``ODataService``; ``root`` prefixes every entity set path."""

    def __init__(self, service: ODataService, root: str = "") -> None:
        self.service = service
        self._root = root

    async def __aenter__(self) -> EntityClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self.service.aclose()

    def path(self, kind: type[Entity], key: str | None = None) -> str:
        """The path of an entity set, or of one row in it."""
        return self._root + (entity_path(kind, key) if key is not None else kind.ENTITY_SET)

    @staticmethod
    def _query(kind: type[Entity], query: ReadQuery) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if filter := query.get("filter"):
            params["$filter"] = filter
        if select := query.get("select"):
            # The key and the modification time are needed to build a typed row.
            fields = list(dict.fromkeys([kind.KEY, kind.MODIFIED, *select]))
            params["$select"] = ",".join(fields)
        if orderby := query.get("orderby"):
            params["$orderby"] = orderby
        if (top := query.get("top")) is not None:
            params["$top"] = int(top)
        return params

    async def pages(self, kind: type[E], **query: Unpack[ReadQuery]) -> AsyncGenerator[list[E], None]:
        """Yield the rows of ``kind`` page by page (``filter`` built with ``filters``)."""
        params = self._query(kind, query)
        page_size = query.get("page_size", DEFAULT_PAGE_SIZE)
        async for page in self.service.iter_pages(self.path(kind), params, page_size=page_size, what=f"{kind.NOUN}s"):
            # The rows were parsed for this page alone: typed rows take them over, no copy.
            yield [kind.take_row(row) for row in page]

    async def rows(self, kind: type[E], **query: Unpack[ReadQuery]) -> AsyncIterator[E]:
        """Yield the rows of ``kind`` one at a time (read page by page)."""
        async for page in self.pages(kind, **query):
            for row in page:
                yield row

    async def count(self, kind: type[Entity], *, filter: str | None = None) -> int:
        """The entity set's ``$count`` (with ``filter``, built with ``filters``, when given).

        Dataverse's count stops at 5,000 (see ``DataverseClient.COUNT_LIMIT``); the caller
        decides what a count that high means."""
        params = {"$filter": filter} if filter else None
        answer = await self.service.get_json(self.path(kind) + "/$count", params=params, record="the count")
        return int(answer)

    async def server_time(self, kind: type[Entity]) -> datetime | None:
        """The service's clock now: the ``Date`` header of a one-row read of ``kind`` (UTC, whole
        seconds, truncated), or None when the service sent no usable ``Date``.

        Modified times are stamped by the service, so "what changed since" must be measured
        with the service's clock, never with ours. The read is the cheapest one the entity set
        allows (one key column of one row); it is retried like any read.
        """
        response = await self.service.request(
            "GET", self.path(kind), params={"$top": 1, "$select": kind.KEY}, record=f"{kind.NOUN}s"
        )
        return server_date(response.headers.get("date"))

    async def get(self, kind: type[E], key: str) -> E:
        """Read one row; NotFound when it does not exist."""
        row = await self.service.get(self.path(kind, key), record=f"{kind.NOUN} {key}")
        return self._typed(kind, row)

    async def find_one(self, kind: type[E], filter: str) -> E | None:
        """The first row matching ``filter``, or None."""
        async with aclosing(self.pages(kind, filter=filter, top=1, page_size=1)) as pages:
            async for page in pages:
                return page[0] if page else None
        return None

    async def update(
        self, kind: type[E], key: str, etag: str, changes: Mapping[str, Any], *, record: str | None = None
    ) -> E:
        """PATCH ``changes`` guarded by ``etag`` (ChangedSinceRead when someone changed the row)."""
        row = await self.service.update(
            self.path(kind, key), changes, if_match=etag, record=record or f"{kind.NOUN} {key}"
        )
        return self._typed(kind, row)

    async def delete(self, kind: type[Entity], key: str, etag: str, *, record: str | None = None) -> None:
        """DELETE guarded by ``etag`` (ChangedSinceRead when someone changed the row)."""
        await self.service.delete(self.path(kind, key), if_match=etag, record=record or f"{kind.NOUN} {key}")

    async def _create(
        self,
        kind: type[E],
        data: Mapping[str, Any],
        *,
        record: str,
        reconcile: Callable[[], Awaitable[Row | None]] | None,
    ) -> E:
        row = await self.service.create(self.path(kind), data, record=record, reconcile=reconcile)
        return self._typed(kind, row)

    @staticmethod
    def _typed(kind: type[E], row: Row) -> E:
        """A typed row (MalformedResponse when the service left out its key or ETag)."""
        return kind.from_row(row)


def server_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header (``Tue, 01 Dec 2026 07:19:38 GMT``) as an aware UTC datetime."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by the RFC, but no zone said
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
