"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import peewee


class UTCDateTimeField(peewee.DateTimeField):
    """A point in time, always returned timezone-aware in UTC.

    Stored as naive UTC (SQLite text ``YYYY-MM-DD HH:MM:SS.ffffff``, PostgreSQL ``timestamp``) so
    values sort and compare the same way on both databases. Naive datetimes are refused: guessing
    their zone is how "modified since the last sync" goes wrong by hours.
    """

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
            # Fixed width, so SQLite's text comparison orders times correctly; PostgreSQL casts
            # the literal to timestamp.
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        # peewee's stubs leave db_value / python_value unannotated and omit format_date_time.
        return super().db_value(value)  # type: ignore[no-untyped-call]

    def python_value(self, value: Any) -> Any:
        value = super().python_value(value)  # type: ignore[no-untyped-call]
        if isinstance(value, str):  # SQLite hands back text
            value = peewee.format_date_time(value, self.formats)  # type: ignore[attr-defined]
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class JSONTextField(peewee.TextField):
    """JSON kept as text: portable, and readable with any SQL client."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, default=_json_default)

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC, at the precision the store keeps."""
    return datetime.now(UTC)


def _json_default(value: Any) -> Any:
    # Snapshots hold field values as read from the APIs; dates and decimals are the odd ones out.
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
