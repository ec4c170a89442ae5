"""Watermarks for "synchronize modified records": per mapping and side, and only forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from bc_tui.store.records import Side
from bc_tui.store.watermarks import advance_watermark, get_watermark

T0 = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)


def test_watermarks_move_forward_only_and_per_side(store: peewee.Database) -> None:
    assert get_watermark("CUSTOMER", Side.BC) is None
    assert advance_watermark("CUSTOMER", Side.BC, T0) == T0
    assert advance_watermark("CUSTOMER", Side.BC, T0 - timedelta(minutes=1)) == T0
    assert advance_watermark("CUSTOMER", Side.BC, T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=1)
    assert get_watermark("CUSTOMER", Side.DATAVERSE) is None
    assert get_watermark("CONTACT", Side.BC) is None
