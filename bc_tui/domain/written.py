"""What to remember of a record bc-tui has just written.

After a write, the coupling remembers the destination record as it now is: its ETag (a record
read again later with that ETag is left out as "nothing new") and its values (the snapshot that
later changes are measured against). That is right for the record the write itself answered
with. But the record is sometimes read back instead: the write's answer was lost on the way and
the write is settled by reading the record, or the service answered without the record. Such a
read can already hold a colleague's edit made *after* our write. Remembered as it is, that edit
would count as synchronized: no later run would carry it over, and nothing would report it.

So a written record that differs from the record before the write in a field mapping the write
did not touch is remembered with the ETag the write was based on and, for those field mappings,
the values from before the write. The next run then reads the record again (its ETag differs)
and sees those fields as changed on that side, as they are.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bc_tui.domain.diff import ETAG
from bc_tui.domain.mappings import FieldMapping, TableMapping
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of, read_bc, read_dataverse
from bc_tui.domain.values import same_value

Record = dict[str, Any]


def changed_by_others(
    mapping: TableMapping, before: Record, written: Record, labels: Collection[str], *, dataverse: bool
) -> tuple[FieldMapping, ...]:
    """The field mappings whose value in ``written`` differs from ``before`` although the write
    (which changed ``labels``) did not touch them; ``dataverse``: the records are Dataverse's."""
    read = read_dataverse if dataverse else read_bc
    return tuple(
        fm
        for fm in mapping.enabled_fields
        if fm.constant is None
        and fm.label not in labels
        and not same_value(read(fm, written), read(fm, before), is_code=fm.is_code)
    )


def record_to_remember(
    mapping: TableMapping, before: Record, written: Record, labels: Collection[str], *, dataverse: bool
) -> Record:
    """``written`` as the coupling should remember it (see the module docstring): unchanged when
    only the field mappings in ``labels`` moved; otherwise with the ETag of ``before`` and, for
    the field mappings someone else changed, the values of ``before``."""
    foreign = changed_by_others(mapping, before, written, labels, dataverse=dataverse)
    if not foreign:
        return written
    fields_of = dataverse_fields_of if dataverse else bc_fields_of
    # An attribute that a written field mapping reads too keeps its written value.
    ours = {name for fm in mapping.enabled_fields if fm.label in labels for name in fields_of(fm)}
    remembered = dict(written)
    for fm in foreign:
        for name in fields_of(fm):
            if name in ours:
                continue
            if name in before:
                remembered[name] = before[name]
            else:
                remembered.pop(name, None)
    remembered[ETAG] = before.get(ETAG)
    return remembered


__all__ = ["changed_by_others", "record_to_remember"]
