"""Table mappings and field mappings: which BC entity pairs with which Dataverse table, and how.

Field names are the REST APIs' own names (BC API v2.0 on one side, Dataverse Web API v9.2
attributes on the other): see docs/coupling-and-sync.md "Table and field mappings" and "Field names of the APIs".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    """Direction of a table or field mapping (BC's "Bidirectional / To / From Integration Table")."""

    BIDIRECTIONAL = "bidirectional"
    TO_DATAVERSE = "to-dataverse"
    FROM_DATAVERSE = "from-dataverse"


class SyncDirection(StrEnum):
    """What the user chose for one synchronization: send, get or merge."""

    TO_DATAVERSE = "to-dataverse"
    FROM_DATAVERSE = "from-dataverse"
    MERGE = "merge"


class ConflictResolution(StrEnum):
    """A table mapping's *Resolve Update Conflicts* policy."""

    NONE = "none"
    SEND = "send"
    GET = "get"


class DeletionResolution(StrEnum):
    """A table mapping's *Resolve Deletion Conflicts* policy."""

    NONE = "none"
    RESTORE = "restore"
    REMOVE_COUPLING = "remove-coupling"


@dataclass(frozen=True)
class Condition:
    """One term of a table filter: ``field op value`` (terms of a filter are ANDed).

    Kept structured (not an OData string) so the domain can evaluate it locally *and* the
    connectors can render it as an escaped OData ``$filter``.
    """

    field: str
    op: str  # "eq" | "ne"
    value: Any


@dataclass(frozen=True)
class FieldMapping:
    """One BC field paired with one Dataverse attribute."""

    label: str  # the BC field's display name, e.g. "Name", "Post Code"
    bc_field: str  # BC API name, e.g. "displayName"
    dataverse_field: str  # Dataverse attribute, e.g. "name"
    direction: Direction = Direction.BIDIRECTIONAL
    enabled: bool = True
    constant: Any = None  # when set, this value is written instead of the source value
    validate: bool = False
    clear_on_failed_sync: bool = False
    not_null: bool = False  # skip the field when the new value is empty
    is_code: bool = False  # code values compare trimmed and case-insensitive
    use_for_matching: bool = False
    case_sensitive_matching: bool = False
    match_priority: int = 0
    # Name of a registered transformation (see ``transformations.py``) that reads and writes
    # this field's value; None means the plain field-to-field copy.
    transformation: str | None = None

    def allows(self, direction: SyncDirection) -> bool:
        """True when this field mapping may carry values in ``direction`` (send or get)."""
        if direction is SyncDirection.MERGE:
            return True
        return self.direction is Direction.BIDIRECTIONAL or self.direction.value == direction.value

    @property
    def bidirectional(self) -> bool:
        """True when values flow both ways, so both sides may change the field (conflict rule)."""
        return self.direction is Direction.BIDIRECTIONAL


@dataclass(frozen=True)
class TableMapping:
    """One BC entity paired with one Dataverse table."""

    name: str  # "CUSTOMER", "CONTACT"
    bc_entity: str  # BC API entity set: "customers", "contacts"
    dataverse_table: str  # Dataverse entity set: "accounts", "contacts"
    dataverse_key: str  # primary key attribute: "accountid", "contactid"
    dataverse_name_field: str  # what to show as the record's name: "name", "fullname"
    direction: Direction = Direction.BIDIRECTIONAL
    table_filter: tuple[Condition, ...] = ()
    integration_table_filter: tuple[Condition, ...] = ()
    sync_only_coupled: bool = True
    resolve_update_conflicts: ConflictResolution = ConflictResolution.NONE
    resolve_deletion_conflicts: DeletionResolution = DeletionResolution.NONE
    fields: tuple[FieldMapping, ...] = field(default_factory=tuple)

    @property
    def enabled_fields(self) -> tuple[FieldMapping, ...]:
        """The field mappings that take part in synchronization."""
        return tuple(f for f in self.fields if f.enabled)

    def field_by_label(self, label: str) -> FieldMapping:
        """The field mapping shown as ``label``; KeyError when there is none."""
        for f in self.fields:
            if f.label == label:
                return f
        raise KeyError(f"The table mapping {self.name} has no field mapping {label!r}.")

    def allows(self, direction: SyncDirection) -> bool:
        """True when this table mapping may synchronize in ``direction``.

        Merge needs a bidirectional mapping; send/get need the mapping's direction to allow it
        *and* at least one enabled field mapping that carries values that way
        (docs/coupling-and-sync.md "Table and field mappings").
        """
        if direction is SyncDirection.MERGE:
            return self.direction is Direction.BIDIRECTIONAL
        if self.direction is not Direction.BIDIRECTIONAL and self.direction.value != direction.value:
            return False
        return any(f.allows(direction) for f in self.enabled_fields)
