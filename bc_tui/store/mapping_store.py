"""Table and field mappings kept in the database, seeded from the domain's defaults.

The rows mirror ``bc_tui.domain.mappings`` dataclass by dataclass; callers only ever see the
dataclasses. Config-file overrides are validated here and written on top of the stored mappings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from enum import Enum
from typing import Any

import peewee

from bc_tui.domain.defaults import default_table_mappings
from bc_tui.domain.mappings import (
    Condition,
    ConflictResolution,
    DeletionResolution,
    Direction,
    FieldMapping,
    SyncDirection,
    TableMapping,
)
from bc_tui.store.database import atomic
from bc_tui.store.errors import MappingOverrideError
from bc_tui.store.models import FieldMappingRow, TableMappingRow

# Dataclass attributes that are not plain columns of the same name.
_TABLE_SPECIAL = {"fields", "table_filter", "integration_table_filter"}

# What a config override may change, and how each value is checked.
_TABLE_SETTINGS: dict[str, type] = {
    "direction": Direction,
    "sync_only_coupled": bool,
    "resolve_update_conflicts": ConflictResolution,
    "resolve_deletion_conflicts": DeletionResolution,
}
_FIELD_SETTINGS: dict[str, type] = {
    "direction": Direction,
    "enabled": bool,
    "validate": bool,
    "clear_on_failed_sync": bool,
    "not_null": bool,
    "use_for_matching": bool,
    "case_sensitive_matching": bool,
    "match_priority": int,
    # Custom fields: a field mapping may name any field of either API (docs/coupling-and-sync.md "Custom fields").
    "bc_field": str,
    "dataverse_field": str,
}
#: What a config entry needs to add a field mapping of its own (a custom field).
_NEW_FIELD_NEEDS = ("bc_field", "dataverse_field")


def load_table_mappings() -> tuple[TableMapping, ...]:
    """All stored table mappings, in their seeded order, as domain dataclasses."""
    rows = list(TableMappingRow.select().order_by(TableMappingRow.position, TableMappingRow.id))
    fields_by_table: dict[int, list[FieldMapping]] = {row.id: [] for row in rows}
    query = FieldMappingRow.select().order_by(FieldMappingRow.position, FieldMappingRow.id)
    for field_row in query:
        fields_by_table[field_row.table_mapping_id].append(_field_from_row(field_row))
    return tuple(_table_from_row(row, fields_by_table[row.id]) for row in rows)


def save_table_mappings(mappings: Iterable[TableMapping]) -> None:
    """Replace the stored table mappings with ``mappings`` (one transaction)."""
    with atomic():
        FieldMappingRow.delete().execute()
        TableMappingRow.delete().execute()
        for position, mapping in enumerate(mappings):
            _insert_table(position, mapping)


def ensure_table_mappings(defaults: Iterable[TableMapping] | None = None) -> tuple[TableMapping, ...]:
    """Seed the table mappings from ``defaults`` (the domain's) when none are stored; return them."""
    try:
        with atomic():
            if not TableMappingRow.select().exists():
                save_table_mappings(default_table_mappings() if defaults is None else defaults)
    except peewee.IntegrityError:
        pass  # another process seeded them at the same moment (PostgreSQL): use theirs
    return load_table_mappings()


def apply_overrides(overrides: dict[str, Any]) -> tuple[TableMapping, ...]:
    """Validate config-file ``overrides``, store the result and return all table mappings.

    Shape: ``{"CUSTOMER": {"direction": "to-dataverse", "fields": {"Phone No.": {"enabled": false}}}}``;
    fields are named by label (e.g. "Phone No.") or BC API field (e.g. "phoneNumber").
    Raises :class:`MappingOverrideError` with one plain sentence; nothing is stored then.
    """
    current = load_table_mappings()
    merged = tuple(merge_overrides(current, overrides))
    if merged != current:
        # Only a changed config rewrites the rows: every bc-tui start applies the overrides, and
        # a rewrite while another process reads the mappings would hand it a half-written set.
        save_table_mappings(merged)
    return load_table_mappings()


def merge_overrides(mappings: tuple[TableMapping, ...], overrides: dict[str, Any]) -> tuple[TableMapping, ...]:
    """``mappings`` with ``overrides`` applied (pure; see :func:`apply_overrides` for the shape)."""
    if not isinstance(overrides, dict):
        raise MappingOverrideError("The table mapping overrides in your config must be a table of mapping names.")
    by_name = {mapping.name: mapping for mapping in mappings}
    for name, override in overrides.items():
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            raise MappingOverrideError(
                f"Your config overrides a table mapping named {name!r}, which does not exist "
                f"(known table mappings: {known}); fix the name in your config."
            )
        by_name[name] = _override_table(by_name[name], override)
    return tuple(by_name[mapping.name] for mapping in mappings)


def _override_table(mapping: TableMapping, override: Any) -> TableMapping:
    where = f"the table mapping {mapping.name}"
    if not isinstance(override, dict):
        raise MappingOverrideError(f"The override for {where} in your config must be a table of settings.")
    changes = _checked_settings(where, {k: v for k, v in override.items() if k != "fields"}, _TABLE_SETTINGS)
    fields = list(mapping.fields)
    field_overrides = override.get("fields", {})
    if not isinstance(field_overrides, dict):
        raise MappingOverrideError(f"The fields override for {where} in your config must be a table of field names.")
    for key, field_override in field_overrides.items():
        if (
            isinstance(field_override, dict)
            and all(k in field_override for k in _NEW_FIELD_NEEDS)
            and not any(key in (f.label, f.bc_field) for f in fields)
        ):
            # A label the mapping does not have, naming both fields: a field mapping of its own.
            fields.append(FieldMapping(label=str(key), bc_field="", dataverse_field=""))
        index = _field_index(dataclasses.replace(mapping, fields=tuple(fields)), key)
        field_where = f"the field mapping {fields[index].label!r} of {where}"
        if not isinstance(field_override, dict):
            raise MappingOverrideError(f"The override for {field_where} in your config must be a table of settings.")
        fields[index] = dataclasses.replace(
            fields[index], **_checked_settings(field_where, field_override, _FIELD_SETTINGS)
        )
    result = dataclasses.replace(mapping, fields=tuple(fields), **changes)
    _check_direction_allowed(result)
    return result


def _checked_settings(where: str, settings: dict[str, Any], allowed: dict[str, type]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in allowed:
            raise MappingOverrideError(
                f"Your config sets {key!r} for {where}, which cannot be overridden "
                f"(allowed: {', '.join(allowed)}); remove or rename it."
            )
        checked[key] = _checked_value(where, key, value, allowed[key])
    return checked


def _checked_value(where: str, key: str, value: Any, kind: type) -> Any:
    if kind is str:
        # A field's API name: letters, digits and underscores, as both APIs name their fields.
        if (
            not isinstance(value, str)
            or not value
            or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in value)
        ):
            raise MappingOverrideError(
                f"Your config sets {key!r} for {where} to {value!r}; it must be a field's API name "
                "(letters, digits and underscores)."
            )
        return value
    if kind is bool or kind is int:
        # bool is an int in Python, so check the exact type: "enabled = 1" is a mistake.
        if type(value) is not kind:
            word = "true or false" if kind is bool else "a whole number"
            raise MappingOverrideError(f"Your config sets {key!r} for {where} to {value!r}; it must be {word}.")
        return value
    choices = [member.value for member in kind]  # type: ignore[attr-defined]
    if value not in choices:
        raise MappingOverrideError(
            f"Your config sets {key!r} for {where} to {value!r}; it must be one of {', '.join(choices)}."
        )
    return kind(value)


def _field_index(mapping: TableMapping, key: str) -> int:
    matches = [i for i, f in enumerate(mapping.fields) if key in (f.label, f.bc_field)]
    if len(matches) != 1:
        problem = "has no field mapping" if not matches else "has several field mappings"
        raise MappingOverrideError(
            f"Your config overrides the field {key!r} of the table mapping {mapping.name}, which "
            f"{problem} by that name; use the field's label as shown in the mapping screen, or set both "
            "bc_field and dataverse_field to add a field mapping of that name."
        )
    return matches[0]


def _check_direction_allowed(mapping: TableMapping) -> None:
    """A table direction is only allowed if some enabled field mapping supports it.

    See docs/coupling-and-sync.md "Table and field mappings".
    """
    needed = {
        Direction.TO_DATAVERSE: (SyncDirection.TO_DATAVERSE,),
        Direction.FROM_DATAVERSE: (SyncDirection.FROM_DATAVERSE,),
        Direction.BIDIRECTIONAL: (SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE),
    }[mapping.direction]
    for direction in needed:
        if not mapping.allows(direction):
            raise MappingOverrideError(
                f"With your config the table mapping {mapping.name} is {mapping.direction.value} but no "
                f"enabled field mapping carries values {direction.value}; enable such a field or change "
                "the direction."
            )


def _insert_table(position: int, mapping: TableMapping) -> None:
    columns = {
        f.name: _plain(getattr(mapping, f.name))
        for f in dataclasses.fields(TableMapping)
        if f.name not in _TABLE_SPECIAL
    }
    row = TableMappingRow.create(
        position=position,
        table_filter=_conditions_to_json(mapping.table_filter),
        integration_table_filter=_conditions_to_json(mapping.integration_table_filter),
        **columns,
    )
    field_rows = [
        {"table_mapping": row.id, "position": index, **_field_columns(field)}
        for index, field in enumerate(mapping.fields)
    ]
    if field_rows:
        FieldMappingRow.insert_many(field_rows).execute()


def _field_columns(field: FieldMapping) -> dict[str, Any]:
    return {f.name: _plain(getattr(field, f.name)) for f in dataclasses.fields(FieldMapping)}


def _table_from_row(row: TableMappingRow, fields: list[FieldMapping]) -> TableMapping:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(TableMapping) if f.name not in _TABLE_SPECIAL}
    return TableMapping(
        **{
            **values,
            "direction": Direction(row.direction),
            "resolve_update_conflicts": ConflictResolution(row.resolve_update_conflicts),
            "resolve_deletion_conflicts": DeletionResolution(row.resolve_deletion_conflicts),
            "table_filter": _conditions_from_json(row.table_filter),
            "integration_table_filter": _conditions_from_json(row.integration_table_filter),
            "fields": tuple(fields),
        }
    )


def _field_from_row(row: FieldMappingRow) -> FieldMapping:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(FieldMapping)}
    values["direction"] = Direction(row.direction)
    return FieldMapping(**values)


def _conditions_to_json(conditions: tuple[Condition, ...]) -> list[dict[str, Any]]:
    return [{"field": c.field, "op": c.op, "value": c.value} for c in conditions]


def _conditions_from_json(data: list[dict[str, Any]] | None) -> tuple[Condition, ...]:
    return tuple(Condition(item["field"], item["op"], item["value"]) for item in data or ())


def _plain(value: Any) -> Any:
    # Enums are stored by value so the rows read well in any SQL client (and any driver takes them).
    return value.value if isinstance(value, Enum) else value
