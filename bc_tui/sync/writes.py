"""Guarded writes in batches (docs/coupling-and-sync.md "Passing failures").

Every write carries the ETag the decision was based on, so a record someone changed in between
is answered with 412 (``ChangedSinceRead``) and reported as a conflict — never overwritten.
Writes go in batches (BC JSON ``$batch`` ≤ 100, Dataverse multipart ``$batch`` with
continue-on-error); when a batch's outcome is unknown (the connection broke after it was sent)
the records are read back and each is settled by its ETag: unchanged → not written, send
again; holding our values → written; anything else → someone else changed it (conflict).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import BatchOperation, ChangedSinceRead, ConnectorError, NotFound
from bc_tui.connectors.errors import ServiceError, Throttled, Unreachable
from bc_tui.connectors.models import Entity
from bc_tui.connectors.odata import holds_values
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import sentence
from bc_tui.store.records import normalize_id
from bc_tui.sync import pipeline
from bc_tui.sync.errors import SyncError
from bc_tui.sync.records import ETAG, Record, fetch, to_record
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import SideDescription

#: Updates per ``$batch`` request at most (and never more than the side's batch limit: BC's is
#: 100; Dataverse's 1,000, but a smaller batch keeps progress moving and a broken connection
#: costs less).
WRITE_BATCH = 100


#: How often a batch whose outcome was unknown is settled and sent again before each of its
#: records is written on its own.
SETTLE_ROUNDS = 3


#: HTTP statuses that say nothing about the record: the service was busy or failing.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Write:
    """One guarded update: PATCH ``changes`` to ``key`` if it still has ``etag``."""

    key: str
    etag: str
    changes: Mapping[str, Any]
    record: str  # names the record in messages


@dataclass(frozen=True)
class Written:
    """What became of a :class:`Write`: the record as stored, or the error."""

    row: Record | None = None
    error: ConnectorError | None = None


def is_transient(error: BaseException | None) -> bool:
    """True for failures that say nothing about the record (throttling, 5xx, timeouts, no
    connection): bc-tui retries them and never marks a record Skipped for them (docs/coupling-and-sync.md
    "Passing failures")."""
    if isinstance(error, (Throttled, Unreachable)):  # Unreachable includes ConnectionLost
        return True
    if isinstance(error, ServiceError):
        return error.status is None or error.status in TRANSIENT_STATUSES
    return isinstance(error, ConnectorError) and error.status in TRANSIENT_STATUSES


async def write_updates(
    session: SyncSession, mapping: TableMapping, side: SideDescription[Any], writes: Sequence[Write]
) -> list[Written]:
    """Apply guarded updates on ``side``; one :class:`Written` per write, in order.

    One write goes as a plain PATCH (the connector retries it and settles a lost answer);
    more go as batches. Transient trouble is retried here; a 412 comes back as
    ``ChangedSinceRead`` and the caller reports it as a conflict.
    """
    if not writes:
        return []
    kind, client = side.kind(mapping), side.client(session)
    if len(writes) == 1:
        return [await _write_one(client, kind, writes[0], uncertain=False)]
    size = min(WRITE_BATCH, side.batch_limit)
    batches = [list(writes[start : start + size]) for start in range(0, len(writes), size)]
    if pipeline.chunk_by_chunk():
        return [w for batch in batches for w in await _write_batch(session, mapping, side, client, kind, batch)]
    # The batches touch different records, so they may run at once; the connector keeps them
    # within the service's concurrency cap.
    done = await asyncio.gather(*(_write_batch(session, mapping, side, client, kind, batch) for batch in batches))
    return [written for batch in done for written in batch]


async def _write_batch(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    client: Any,
    kind: type[Entity],
    writes: list[Write],
) -> list[Written]:
    results: dict[int, Written] = {}
    todo = list(range(len(writes)))
    for _ in range(SETTLE_ROUNDS):
        if not todo:
            break
        operations = [
            BatchOperation.update(kind, writes[i].key, writes[i].etag, writes[i].changes, record=writes[i].record)
            for i in todo
        ]
        try:
            answers = await client.batch(operations, **side.batch_options)
        except ConnectorError as error:
            if not is_transient(error):
                for i in todo:
                    results[i] = Written(error=error)
                return [results[i] for i in range(len(writes))]
            # The batch may or may not have been applied: settle each record by its ETag.
            todo = await _settle(session, mapping, side, writes, todo, results)
            continue
        retry: list[int] = []
        for i, answer in zip(todo, answers, strict=True):
            if answer.ok:
                row = answer.body if isinstance(answer.body, Mapping) and answer.body.get(ETAG) else None
                results[i] = Written(row=dict(row)) if row else await _read_back(client, kind, writes[i])
            elif answer.status is None or is_transient(answer.error):
                retry.append(i)  # not processed, or the service was busy: it can go again
            else:
                results[i] = Written(error=answer.error)
        todo = retry
    # Whatever is still open goes one by one: the connector retries and settles each itself.
    for i in todo:
        results[i] = await _write_one(client, kind, writes[i], uncertain=True)
    return [results[i] for i in range(len(writes))]


async def _settle(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    writes: list[Write],
    todo: list[int],
    results: dict[int, Written],
) -> list[int]:
    """After a batch with an unknown outcome: which writes landed, which must go again."""
    keys = [writes[i].key for i in todo]
    try:
        current = await fetch(side, session, mapping, keys, select=())
    except (ConnectorError, SyncError):
        return todo  # the reads failed too: the single writes sort it out
    again: list[int] = []
    for i in todo:
        write = writes[i]
        row = current.get(normalize_id(write.key))
        if row is None:
            results[i] = Written(error=NotFound(f"{sentence(write.record)} no longer exists.", status=404))
        elif row.get(ETAG) == write.etag:
            again.append(i)  # untouched: our write did not land
        elif holds_values(row, write.changes):
            results[i] = Written(row=row)  # our write landed; the answer was lost
        else:
            results[i] = Written(
                error=ChangedSinceRead(f"{sentence(write.record)} was changed by someone else.", status=412)
            )
    return again


async def _write_one(client: Any, kind: type[Entity], write: Write, *, uncertain: bool) -> Written:
    try:
        entity = await client.update(kind, write.key, write.etag, write.changes, record=write.record)
        return Written(row=to_record(entity))
    except ChangedSinceRead as error:
        if uncertain:
            # An earlier batch may have carried this very change: then it is done, not a conflict.
            try:
                current = await client.get(kind, write.key)
            except ConnectorError:
                return Written(error=error)
            if holds_values(dict(current.data), write.changes):
                return Written(row=to_record(current))
        return Written(error=error)
    except ConnectorError as error:
        return Written(error=error)


async def _read_back(client: Any, kind: type[Entity], write: Write) -> Written:
    try:
        return Written(row=to_record(await client.get(kind, write.key)))
    except ConnectorError as error:
        return Written(error=error)
