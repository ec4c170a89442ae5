"""Finding again a record that a create made without a planned key: a BC customer or contact
numbered by its number series (docs/coupling-and-sync.md "Creating the counterpart").

Many tenants refuse a number typed in, and users expect the series' next number anyway, so bc-tui
cannot plan the id an interrupted create is found again by. Its create intent keeps instead the
values sent and when the create was begun. The record it made is looked for by its name among
the records modified since then, less :data:`MARGIN`, and kept when it holds every other value
sent and is coupled to nothing. Exactly one such record is the one the create made; none means
the create never got through; more than one cannot be told apart, and the user couples by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.mappings import TableMapping
from bc_tui.store.records import CreateIntentRecord
from bc_tui.sync.records import Record, rows_where, service_time
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import SideDescription

#: How long before the intent's time a record it made may say it was modified. The time is the
#: service's clock (its ``Date`` header, whole seconds, cut), so the record is stamped after it;
#: the margin covers the servers of one service disagreeing, and our own clock where the
#: service sent no ``Date``.
MARGIN = timedelta(minutes=5)

#: The field a record is looked for by: BC's name of customers and contacts alike.
NAME = "displayName"


async def begun_at(session: SyncSession, mapping: TableMapping, destination: SideDescription[Any]) -> datetime:
    """Now, on the service's clock when it tells it (else ours): an intent's time, taken before
    its create is sent, so the record it makes is modified at this time or later."""
    return await service_time(session, mapping, destination) or datetime.now(UTC)


async def candidates(
    session: SyncSession,
    mapping: TableMapping,
    destination: SideDescription[Any],
    intents: Sequence[CreateIntentRecord],
) -> dict[int, list[Record]]:
    """For each intent (by its id), the uncoupled records of ``destination`` its create may have
    made: same name, every other value sent, modified since it was begun (less :data:`MARGIN`).

    Two intents that sent the same values may both name one record: the first to be settled
    adopts it, and the other, finding it coupled, fails and is looked for again next time. An
    intent from a bc-tui older than schema 5 (no body kept) planned a number: its record is
    looked for by that number.
    """
    with_body = [i for i in intents if i.body is not None]
    planned = [i for i in intents if i.body is None and i.planned_id]
    rows: list[Record] = []
    if with_body:
        since = min(_since(i) for i in with_body)
        names = [str(i.body.get(NAME) or "") for i in with_body if i.body is not None]
        fields = {key for i in with_body if i.body is not None for key in i.body}
        select = tuple(dict.fromkeys((*destination.identity_fields(mapping), destination.modified_field, *fields)))
        rows = await rows_where(
            destination,
            session,
            destination.kind(mapping),
            NAME,
            names,
            filter=f"{odata.field(destination.modified_field)} ge {odata.quote(since)}",
            select=select,
        )
    if planned:
        rows += await rows_where(
            destination,
            session,
            destination.kind(mapping),
            "number",
            [i.planned_id for i in planned],
            select=destination.identity_fields(mapping),
        )
    found = {destination.record_id(mapping, row): row for row in rows}
    coupled = await session.db(destination.couplings_by_id, mapping.name, list(found))
    uncoupled = [row for record_id, row in found.items() if record_id not in coupled]
    return {intent.id: [row for row in uncoupled if _made_by(intent, row, destination)] for intent in intents}


def _made_by(intent: CreateIntentRecord, row: Mapping[str, Any], destination: SideDescription[Any]) -> bool:
    """Whether ``row`` may be the record the create of ``intent`` made."""
    if intent.body is None:
        return bool(intent.planned_id) and str(row.get("number") or "") == intent.planned_id
    modified = parse_datetime(row.get(destination.modified_field))
    if modified is None or modified < _since(intent):
        return False
    return all(_same(sent, row.get(field)) for field, sent in intent.body.items())


def _since(intent: CreateIntentRecord) -> datetime:
    return (intent.begun_at or intent.created_at) - MARGIN


def _same(sent: Any, shown: Any) -> bool:
    """Whether the service shows ``sent`` as ``shown``: text compared as the look-up by name does
    (case and runs of spaces aside, whichever way the tenant compares text), numbers by value."""
    if _blank(sent) or _blank(shown):
        return _blank(sent) and _blank(shown)
    if isinstance(sent, str) or isinstance(shown, str):
        return _folded(sent) == _folded(shown)
    try:
        return float(sent) == float(shown)
    except (TypeError, ValueError):
        return bool(sent == shown)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _folded(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


__all__ = ["MARGIN", "NAME", "begun_at", "candidates"]
