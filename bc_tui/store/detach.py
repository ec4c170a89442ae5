"""Rows into plain records: every store function hands out frozen dataclasses, never rows, so
callers cannot lazily query the database or save a half-changed row by accident."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_R = TypeVar("_R", bound="DataclassInstance")


def detached(record_type: type[_R], row: Any, **converted: Any) -> _R:
    """A ``record_type`` filled from the same-named attributes of ``row``.

    ``converted`` gives the fields whose stored form differs from the record's (an enum kept as
    its text, a flag kept as 0/1); every other field is copied as the row holds it.
    """
    values = {name: getattr(row, name) for name in _field_names(record_type) if name not in converted}
    return record_type(**values, **converted)


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    # Asked once per record type: building 10,000 records must not inspect the class 10,000 times.
    return tuple(field.name for field in dataclasses.fields(record_type))
