"""Named, pure transformations that read and write a field mapping's value on each side.

A field mapping normally copies one field to one attribute. Some pairs need more: BC API v2.0
exposes a contact's name only as ``displayName`` while Dataverse keeps ``firstname``,
``middlename`` and ``lastname``. A transformation says how to read a comparable value from each
side's record and which fields to write for a new value. Field mappings refer to one by name
(``FieldMapping.transformation``) so the mapping stays plain, storable data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.mappings import FieldMapping

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Transformation:
    """How one field mapping reads and writes its values.

    ``read_*`` return the comparable value of a record (the value compared, diffed, matched and
    snapshotted); ``write_*`` return the API fields to write for a new value, given the
    destination record as it is now (so a transformation can keep what need not change).
    """

    name: str
    read_bc: Callable[[FieldMapping, Record], Any]
    read_dataverse: Callable[[FieldMapping, Record], Any]
    write_bc: Callable[[FieldMapping, Any, Record], dict[str, Any]]
    write_dataverse: Callable[[FieldMapping, Any, Record], dict[str, Any]]
    bc_fields: Callable[[FieldMapping], tuple[str, ...]]
    dataverse_fields: Callable[[FieldMapping], tuple[str, ...]]


def bc_value(value: Any, current: Any) -> Any:
    """``value`` as Business Central can store it: BC has no null, so an empty value becomes the
    empty form of the field's present value ("" for text, 0 for a number).

    BC API v2.0 refuses null for its (non-nullable) properties, which would fail the whole
    record when a value was cleared in Dataverse (where an empty attribute is null).
    """
    if value is not None:
        return value
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        return 0
    return ""


def _plain() -> Transformation:
    return Transformation(
        name="copy",
        read_bc=lambda fm, record: record.get(fm.bc_field),
        read_dataverse=lambda fm, record: record.get(fm.dataverse_field),
        write_bc=lambda fm, value, current: {fm.bc_field: bc_value(value, current.get(fm.bc_field))},
        write_dataverse=lambda fm, value, _current: {fm.dataverse_field: value},
        bc_fields=lambda fm: (fm.bc_field,),
        dataverse_fields=lambda fm: (fm.dataverse_field,),
    )


# --- person name: BC displayName <-> Dataverse firstname / middlename / lastname ------------

PERSON_NAME = "person-name"
_NAME_PARTS = ("firstname", "middlename", "lastname")


def normalize_person_name(text: Any) -> str:
    """A display name with runs of whitespace collapsed and the ends trimmed."""
    return " ".join(str(text).split()) if text is not None else ""


def join_person_name(record: Record) -> str:
    """Dataverse contact → one display name: first, middle and last name joined by spaces.

    The computed ``fullname`` is deliberately not used: it follows the parts only after the
    server recomputes it, and its format is an organization setting ("Last, First" …).
    """
    parts = [normalize_person_name(record.get(part)) for part in _NAME_PARTS]
    return " ".join(part for part in parts if part)


def split_person_name(display_name: Any, current: Record | None = None) -> dict[str, str | None]:
    """BC display name → Dataverse ``firstname``/``middlename``/``lastname``.

    The last word is the last name (Dataverse requires one), everything before it the first
    name, and the middle name is cleared. When the current record's first and middle name
    already spell everything before the last word they are kept, so a split made by a person
    in Dataverse ("Mary" / "Ann" / "Smith") survives a change of surname.
    """
    words = normalize_person_name(display_name).split(" ")
    words = [w for w in words if w]
    last = words[-1] if words else None
    lead = " ".join(words[:-1])
    if current is not None:
        first_now = normalize_person_name(current.get("firstname"))
        middle_now = normalize_person_name(current.get("middlename"))
        if " ".join(p for p in (first_now, middle_now) if p) == lead:
            return {"firstname": first_now or None, "middlename": middle_now or None, "lastname": last}
    return {"firstname": lead or None, "middlename": None, "lastname": last}


def _person_name() -> Transformation:
    return Transformation(
        name=PERSON_NAME,
        read_bc=lambda fm, record: normalize_person_name(record.get(fm.bc_field)),
        read_dataverse=lambda fm, record: join_person_name(record),
        write_bc=lambda fm, value, _current: {fm.bc_field: normalize_person_name(value)},
        write_dataverse=lambda fm, value, current: split_person_name(value, current),
        bc_fields=lambda fm: (fm.bc_field,),
        dataverse_fields=lambda fm: _NAME_PARTS,
    )


COPY = _plain()
TRANSFORMATIONS: Mapping[str, Transformation] = {PERSON_NAME: _person_name()}


def transformation_of(field_mapping: FieldMapping) -> Transformation:
    """The transformation a field mapping uses (the plain copy when it names none).

    Raises KeyError naming the field mapping when the name is not registered.
    """
    if field_mapping.transformation is None:
        return COPY
    try:
        return TRANSFORMATIONS[field_mapping.transformation]
    except KeyError:
        raise KeyError(
            f"The field mapping {field_mapping.label} uses the unknown transformation {field_mapping.transformation!r}."
        ) from None


def read_bc(field_mapping: FieldMapping, record: Record) -> Any:
    """The comparable value of ``field_mapping`` in a BC record."""
    return transformation_of(field_mapping).read_bc(field_mapping, record)


def read_dataverse(field_mapping: FieldMapping, record: Record) -> Any:
    """The comparable value of ``field_mapping`` in a Dataverse record."""
    return transformation_of(field_mapping).read_dataverse(field_mapping, record)


def bc_fields_of(field_mapping: FieldMapping) -> tuple[str, ...]:
    """The BC API fields ``field_mapping`` reads (for ``$select``)."""
    return transformation_of(field_mapping).bc_fields(field_mapping)


def dataverse_fields_of(field_mapping: FieldMapping) -> tuple[str, ...]:
    """The Dataverse attributes ``field_mapping`` reads (for ``$select``)."""
    return transformation_of(field_mapping).dataverse_fields(field_mapping)
