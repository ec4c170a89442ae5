"""Which fields to read from each service for a table mapping (the ``$select`` lists)."""

from __future__ import annotations

from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def bc_select(mapping: TableMapping) -> tuple[str, ...]:
    """BC API fields needed to name, filter, compare and synchronize the mapping's records.

    (``@odata.etag`` always comes back and cannot be selected.)
    """
    names = ["id", "number", "displayName", BC_MODIFIED]
    names += [c.field for c in mapping.table_filter]
    for fm in mapping.enabled_fields:
        names += bc_fields_of(fm)
    return _unique(names)


def dataverse_select(mapping: TableMapping) -> tuple[str, ...]:
    """Dataverse attributes needed to name, filter, compare and synchronize the mapping's records."""
    names = [mapping.dataverse_key, mapping.dataverse_name_field, DATAVERSE_MODIFIED]
    names += [c.field for c in mapping.integration_table_filter]
    if mapping.dataverse_table == "contacts":
        names.append("_parentcustomerid_value")  # the parent account comes from the company's coupling
    for fm in mapping.enabled_fields:
        names += dataverse_fields_of(fm)
    return _unique(names)
