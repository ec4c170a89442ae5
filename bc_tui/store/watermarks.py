"""Watermarks for "synchronize modified records": per table mapping and side, the latest
modified time already synchronized, so the next run only reads records changed after it."""

from __future__ import annotations

from datetime import datetime

from bc_tui.store.database import atomic
from bc_tui.store.models import SyncWatermark
from bc_tui.store.records import Side


def get_watermark(mapping: str, side: Side) -> datetime | None:
    """The modified time up to which ``side`` of ``mapping`` has been synchronized, or None."""
    row = SyncWatermark.get_or_none((SyncWatermark.mapping == mapping) & (SyncWatermark.side == Side(side).value))
    return row.modified_at if row else None


def advance_watermark(mapping: str, side: Side, modified_at: datetime) -> datetime:
    """Move the watermark forward to ``modified_at`` (never back); return the stored value.

    Safe with other jobs advancing the same watermark at once: the row is made if missing
    (a second maker does nothing) and only ever updated to a later time.
    """
    side = Side(side)
    with atomic():
        SyncWatermark.insert(mapping=mapping, side=side.value, modified_at=modified_at).on_conflict_ignore().execute()
        SyncWatermark.update(modified_at=modified_at).where(
            (SyncWatermark.mapping == mapping)
            & (SyncWatermark.side == side.value)
            & (SyncWatermark.modified_at < modified_at)
        ).execute()
        return get_watermark(mapping, side) or modified_at
