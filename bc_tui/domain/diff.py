"""Three-way comparison of a coupled pair: last synced values, BC now, Dataverse now.

BC itself only compares modified times, which gives false "both modified" conflicts when the
times drift. bc-tui keeps a snapshot of every field mapping's values as last synchronized
(beyond, docs/coupling-and-sync.md "What a coupling remembers, and Skipped") and decides per field which side
changed. Without a snapshot it falls back to the ETags, then to the modified times, as BC does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bc_tui.domain.mappings import FieldMapping, TableMapping
from bc_tui.domain.transformations import read_bc, read_dataverse
from bc_tui.domain.values import same_value

Record = Mapping[str, Any]
# The values of each field mapping as last synchronized, keyed by field mapping label, in the
# coupling store's JSON shape: {"bc": {label: value}, "dataverse": {label: value}}.
# (A mapping label → (BC value, Dataverse value) is accepted too.)
Snapshot = Mapping[str, Any]

ETAG = "@odata.etag"
BC_MODIFIED = "lastModifiedDateTime"
DATAVERSE_MODIFIED = "modifiedon"


class FieldState(StrEnum):
    """What happened to one field since the last synchronization."""

    UNCHANGED = "unchanged"
    CHANGED_IN_BC = "changed-in-bc"
    CHANGED_IN_DATAVERSE = "changed-in-dataverse"
    # Both sides changed, and either they agree now or the field only flows one way.
    CHANGED_ON_BOTH = "changed-on-both"
    # Both sides changed a bidirectional field to different values.
    CONFLICT = "conflict"
    # The values differ but no history says which side changed them.
    DIFFERENT = "different"


class ChangeBasis(StrEnum):
    """What a side's "modified since the last sync" verdict rests on."""

    SNAPSHOT = "snapshot"
    ETAG = "etag"
    TIMESTAMP = "timestamp"
    NONE = "none"  # never synchronized: counts as modified, as in BC


@dataclass(frozen=True)
class LastSync:
    """What the coupling remembers of the last synchronization of one pair."""

    snapshot: Snapshot | None = None
    bc_etag: str | None = None
    dataverse_etag: str | None = None
    bc_modified_on: datetime | str | None = None
    dataverse_modified_on: datetime | str | None = None
    to_dataverse_failed: bool = False  # BC's "Last Synch. CRM Result" = Failure
    from_dataverse_failed: bool = False  # BC's "Last Synch. Result" = Failure
    skipped: bool = False

    @property
    def never_synced(self) -> bool:
        """True for a coupling that has no baseline yet (coupled, never synchronized)."""
        return (
            self.snapshot is None
            and self.bc_etag is None
            and self.dataverse_etag is None
            and self.bc_modified_on is None
            and self.dataverse_modified_on is None
        )


@dataclass(frozen=True)
class FieldDiff:
    """One field mapping compared three ways."""

    field: FieldMapping
    state: FieldState
    bc: Any
    dataverse: Any
    last_bc: Any = None
    last_dataverse: Any = None
    has_history: bool = False

    @property
    def label(self) -> str:
        return self.field.label

    @property
    def differs(self) -> bool:
        """True when BC and Dataverse hold different values now."""
        return not same_value(self.bc, self.dataverse, is_code=self.field.is_code)

    @property
    def bc_changed(self) -> bool:
        return self.state in (FieldState.CHANGED_IN_BC, FieldState.CHANGED_ON_BOTH, FieldState.CONFLICT)

    @property
    def dataverse_changed(self) -> bool:
        return self.state in (FieldState.CHANGED_IN_DATAVERSE, FieldState.CHANGED_ON_BOTH, FieldState.CONFLICT)


@dataclass(frozen=True)
class RecordDiff:
    """A coupled pair compared three ways, per field and per side."""

    fields: tuple[FieldDiff, ...]
    bc_modified: bool
    dataverse_modified: bool
    bc_basis: ChangeBasis
    dataverse_basis: ChangeBasis
    retry_to_dataverse: bool = False  # the last send failed: BC counts as modified
    retry_from_dataverse: bool = False  # the last get failed: Dataverse counts as modified

    def field(self, label: str) -> FieldDiff:
        """The diff of the field mapping shown as ``label``."""
        for diff in self.fields:
            if diff.label == label:
                return diff
        raise KeyError(label)

    def labels(self, *states: FieldState) -> tuple[str, ...]:
        """Labels of the fields in any of ``states``, in mapping order."""
        return tuple(d.label for d in self.fields if d.state in states)

    @property
    def conflicts(self) -> tuple[str, ...]:
        """Bidirectional fields both sides changed to different values."""
        return self.labels(FieldState.CONFLICT)


def parse_time(value: datetime | str | None) -> datetime | None:
    """An API timestamp as an aware datetime (naive ones are taken as UTC); None stays None."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fallback_modified(
    last_etag: str | None, etag: Any, last_time: datetime | str | None, time: Any
) -> tuple[bool, ChangeBasis]:
    """Modified-since-last-sync from the ETag, else the modified time, else "never synced"."""
    if last_etag and etag:
        return last_etag != etag, ChangeBasis.ETAG
    before, now = parse_time(last_time), parse_time(time)
    if before is not None and now is not None:
        # Timestamps only move forward: an older "now" is not a change.
        return now > before, ChangeBasis.TIMESTAMP
    return True, ChangeBasis.NONE


def _field_state(
    fm: FieldMapping, bc_changed: bool, dataverse_changed: bool, differs: bool, *, has_history: bool
) -> FieldState:
    """Classify one field from "changed on each side" and "the sides differ now".

    With history, the change flags come from the snapshot and are exact. Without it they are
    the record-level fallback (ETag/time), so a field whose sides agree is simply unchanged.
    """
    if not has_history and not differs:
        return FieldState.UNCHANGED
    if bc_changed and dataverse_changed:
        return FieldState.CONFLICT if fm.bidirectional and differs else FieldState.CHANGED_ON_BOTH
    if bc_changed:
        return FieldState.CHANGED_IN_BC
    if dataverse_changed:
        return FieldState.CHANGED_IN_DATAVERSE
    # Nobody changed it: with history the values were left apart on purpose (one-way field,
    # not-null); without history nothing says which side is right.
    return FieldState.DIFFERENT if not has_history else FieldState.UNCHANGED


def take_snapshot(mapping: TableMapping, bc_record: Record, dataverse_record: Record) -> dict[str, dict[str, Any]]:
    """The values to remember after a successful synchronization.

    Shape: ``{"bc": {label: value}, "dataverse": {label: value}}`` with the comparable values
    (after transformations) of every enabled field mapping. Take it from the records as they are
    *after* the writes (e.g. ``transfer.apply``). Constants are left out: they are written,
    never compared three ways.
    """
    fields = [fm for fm in mapping.enabled_fields if fm.constant is None]
    return {
        "bc": {fm.label: read_bc(fm, bc_record) for fm in fields},
        "dataverse": {fm.label: read_dataverse(fm, dataverse_record) for fm in fields},
    }


def snapshot_pairs(snapshot: Snapshot) -> dict[str, tuple[Any, Any]]:
    """A snapshot as label → (BC value, Dataverse value); labels on one side only are dropped."""
    if set(snapshot) <= {"bc", "dataverse"} and all(isinstance(v, Mapping) for v in snapshot.values()):
        bc, dataverse = snapshot.get("bc", {}), snapshot.get("dataverse", {})
        return {label: (bc[label], dataverse[label]) for label in bc if label in dataverse}
    return {label: (pair[0], pair[1]) for label, pair in snapshot.items()}


def diff_records(
    mapping: TableMapping, bc_record: Record, dataverse_record: Record, last: LastSync | None = None
) -> RecordDiff:
    """Compare a coupled pair with what was last synchronized.

    Per field: values against the snapshot (a field is changed on a side when its value moved
    away from the snapshot; equal values are never a change, whatever the ETag or time says).
    Per side, "modified since the last sync" is: any field changed on that side (with a
    snapshot), else the ETag differs, else the modified time is later, else True (never
    synced); and it is also True when the last sync *from* that side failed and the coupling is
    not skipped, so the record is retried (docs/coupling-and-sync.md "What a coupling remembers, and Skipped").
    """
    last = last or LastSync()
    bc_fallback, bc_fallback_basis = _fallback_modified(
        last.bc_etag, bc_record.get(ETAG), last.bc_modified_on, bc_record.get(BC_MODIFIED)
    )
    dv_fallback, dv_fallback_basis = _fallback_modified(
        last.dataverse_etag,
        dataverse_record.get(ETAG),
        last.dataverse_modified_on,
        dataverse_record.get(DATAVERSE_MODIFIED),
    )
    snapshot = snapshot_pairs(last.snapshot) if last.snapshot is not None else None
    diffs = []
    for fm in mapping.enabled_fields:
        if fm.constant is not None:
            continue
        bc_now, dv_now = read_bc(fm, bc_record), read_dataverse(fm, dataverse_record)
        differs = not same_value(bc_now, dv_now, is_code=fm.is_code)
        if snapshot is not None and fm.label in snapshot:
            last_bc, last_dv = snapshot[fm.label]
            bc_changed = not same_value(bc_now, last_bc, is_code=fm.is_code)
            dv_changed = not same_value(dv_now, last_dv, is_code=fm.is_code)
            state = _field_state(fm, bc_changed, dv_changed, differs, has_history=True)
            diffs.append(FieldDiff(fm, state, bc_now, dv_now, last_bc, last_dv, has_history=True))
        elif last.never_synced:
            # No baseline at all (coupled, never synchronized): the sides differ, but nothing
            # says either changed, so not "changed on both" (docs/coupling-and-sync.md "States of
            # a coupled pair": the pair is "not synced yet" in the list and on the card alike).
            state = FieldState.DIFFERENT if differs else FieldState.UNCHANGED
            diffs.append(FieldDiff(fm, state, bc_now, dv_now))
        else:
            state = _field_state(fm, bc_fallback, dv_fallback, differs, has_history=False)
            diffs.append(FieldDiff(fm, state, bc_now, dv_now))
    if snapshot is not None:
        bc_modified = any(d.bc_changed for d in diffs)
        dv_modified = any(d.dataverse_changed for d in diffs)
        bc_basis = dv_basis = ChangeBasis.SNAPSHOT
    else:
        bc_modified, dv_modified = bc_fallback, dv_fallback
        bc_basis, dv_basis = bc_fallback_basis, dv_fallback_basis
    retry_to = last.to_dataverse_failed and not last.skipped
    retry_from = last.from_dataverse_failed and not last.skipped
    return RecordDiff(
        fields=tuple(diffs),
        bc_modified=bc_modified or retry_to,
        dataverse_modified=dv_modified or retry_from,
        bc_basis=bc_basis,
        dataverse_basis=dv_basis,
        retry_to_dataverse=retry_to,
        retry_from_dataverse=retry_from,
    )
