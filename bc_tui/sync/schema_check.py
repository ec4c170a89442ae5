"""The schema check at connect: every field mapping against the fields the two services describe.

A field mapping that names a field the service does not have, or writes a field the service
does not let a client write, gives a *finding*: one sentence naming the table mapping, the field
mapping, the field and the fix. The session's table mappings then run without that field mapping
(or without the direction that writes the read-only field), so a synchronization never fails
halfway with a 400 (docs/coupling-and-sync.md "Schema check at connect").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bc_tui.connectors.schema import FieldInfo
from bc_tui.domain.mappings import Direction, FieldMapping, TableMapping
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of

if TYPE_CHECKING:
    from bc_tui.sync.session import SyncSession

BC = "Business Central"
DATAVERSE = "Dataverse"


@dataclass(frozen=True)
class SchemaFinding:
    """One field mapping that cannot run as configured, and what bc-tui does about it."""

    mapping: str  # the table mapping, e.g. "CONTACT"
    label: str  # the field mapping, e.g. "Job Title"
    service: str  # "Business Central" or "Dataverse"
    field: str  # the field as the service names it
    problem: str  # "missing", "read-only" or "other-kind"
    message: str


def _config_fix(mapping: TableMapping, field_mapping: FieldMapping) -> str:
    return f'[mappings.{mapping.name}.fields."{field_mapping.label}"]'


def _missing(mapping: TableMapping, fm: FieldMapping, service: str, name: str) -> SchemaFinding:
    return SchemaFinding(
        mapping.name,
        fm.label,
        service,
        name,
        "missing",
        f"The field mapping {fm.label} of {mapping.name} names the {service} field {name}, which this "
        f"{'tenant' if service == BC else 'environment'} does not have, so it is left out; fix the field name "
        f"or set enabled = false under {_config_fix(mapping, fm)} in your config.",
    )


def _read_only(
    mapping: TableMapping, fm: FieldMapping, service: str, name: str, keeps: Direction | None
) -> SchemaFinding:
    outcome = f"so it only runs {keeps.value} now" if keeps is not None else "so it is left out"
    direction = Direction.TO_DATAVERSE if service == BC else Direction.FROM_DATAVERSE
    return SchemaFinding(
        mapping.name,
        fm.label,
        service,
        name,
        "read-only",
        f"The field mapping {fm.label} of {mapping.name} writes the {service} field {name}, which {service} "
        f'does not let bc-tui write, {outcome}; set direction = "{direction.value}" (or enabled = false) '
        f"under {_config_fix(mapping, fm)} in your config.",
    )


def _other_kind(mapping: TableMapping, fm: FieldMapping, bc: FieldInfo, dataverse: FieldInfo) -> SchemaFinding:
    return SchemaFinding(
        mapping.name,
        fm.label,
        DATAVERSE,
        dataverse.name,
        "other-kind",
        f"The field mapping {fm.label} of {mapping.name} pairs the Business Central field {bc.name} "
        f"({bc.kind}) with the Dataverse field {dataverse.name} ({dataverse.kind}), which neither service "
        f"accepts from the other, so it is left out; map fields of the same kind under "
        f"{_config_fix(mapping, fm)} in your config.",
    )


def _writes_bc(fm: FieldMapping) -> bool:
    return fm.constant is None and fm.direction in (Direction.BIDIRECTIONAL, Direction.FROM_DATAVERSE)


def _writes_dataverse(fm: FieldMapping) -> bool:
    return fm.direction in (Direction.BIDIRECTIONAL, Direction.TO_DATAVERSE)


def check_field(
    mapping: TableMapping, fm: FieldMapping, bc: Mapping[str, FieldInfo], dataverse: Mapping[str, FieldInfo]
) -> tuple[FieldMapping, list[SchemaFinding]]:
    """``fm`` as it can run against these field lists, and the findings that changed it."""
    findings: list[SchemaFinding] = []
    missing = [(BC, n) for n in bc_fields_of(fm) if n not in bc or not bc[n].readable]
    missing += [(DATAVERSE, n) for n in dataverse_fields_of(fm) if n not in dataverse or not dataverse[n].readable]
    if missing:
        return dataclasses.replace(fm, enabled=False), [_missing(mapping, fm, s, n) for s, n in missing]
    if fm.transformation is None and fm.constant is None:
        # A plain copy moves the value as it is: the two fields must hold the same kind of value.
        bc_info, dataverse_info = bc[fm.bc_field], dataverse[fm.dataverse_field]
        if None not in (bc_info.kind, dataverse_info.kind) and bc_info.kind != dataverse_info.kind:
            return dataclasses.replace(fm, enabled=False), [_other_kind(mapping, fm, bc_info, dataverse_info)]
    direction: Direction | None = fm.direction
    read_only_bc = [n for n in bc_fields_of(fm) if not bc[n].writable] if _writes_bc(fm) else []
    read_only_dv = [n for n in dataverse_fields_of(fm) if not dataverse[n].writable] if _writes_dataverse(fm) else []
    if read_only_bc:
        direction = Direction.TO_DATAVERSE if direction is Direction.BIDIRECTIONAL else None
    if read_only_dv:
        direction = Direction.FROM_DATAVERSE if direction is Direction.BIDIRECTIONAL else None
    keeps = direction
    findings += [_read_only(mapping, fm, BC, n, keeps) for n in read_only_bc]
    findings += [_read_only(mapping, fm, DATAVERSE, n, keeps) for n in read_only_dv]
    if not findings:
        return fm, []
    if direction is None:
        return dataclasses.replace(fm, enabled=False), findings
    return dataclasses.replace(fm, direction=direction), findings


def check_mapping(
    mapping: TableMapping, bc: Mapping[str, FieldInfo], dataverse: Mapping[str, FieldInfo]
) -> tuple[TableMapping, list[SchemaFinding]]:
    """``mapping`` with every enabled field mapping checked (disabled ones are not run, so not checked)."""
    fields: list[FieldMapping] = []
    findings: list[SchemaFinding] = []
    for fm in mapping.fields:
        if fm.enabled:
            fm, found = check_field(mapping, fm, bc, dataverse)
            findings += found
        fields.append(fm)
    return dataclasses.replace(mapping, fields=tuple(fields)), findings


def apply_findings(
    mappings: Mapping[str, TableMapping],
    bc: Mapping[str, Mapping[str, FieldInfo]],
    dataverse: Mapping[str, Mapping[str, FieldInfo]],
) -> tuple[dict[str, TableMapping], list[SchemaFinding]]:
    """Every table mapping checked against the field lists of its entity sets (keyed by entity set)."""
    checked: dict[str, TableMapping] = {}
    findings: list[SchemaFinding] = []
    for name, mapping in mappings.items():
        checked[name], found = check_mapping(mapping, bc[mapping.bc_entity], dataverse[mapping.dataverse_table])
        findings += found
    return checked, findings


async def check_schema(session: SyncSession) -> list[SchemaFinding]:
    """Read both services' field lists, check the session's table mappings, and run them as checked.

    The findings are kept on the session (``schema_findings``) and applied again whenever the
    session reloads its table mappings. Raises the connectors' typed error when a service's
    metadata cannot be read.
    """
    tables = session.mappings.values()
    bc = {m.bc_entity: await session.bc.fields(m.bc_entity) for m in tables}
    dataverse = {m.dataverse_table: await session.dataverse.fields(m.dataverse_table) for m in tables}
    session.schema = (bc, dataverse)
    session.mappings, session.schema_findings = apply_findings(session.mappings, bc, dataverse)
    return session.schema_findings
