"""The fields of an entity set as the service describes them: names and whether a client may write them.

Business Central describes its API pages in the ``$metadata`` CSDL document; Dataverse describes a
table's columns as ``AttributeMetadata`` under ``EntityDefinitions``. Both become one
:class:`FieldInfo` per field, so the sync layer can check field mappings against either service
(docs/coupling-and-sync.md "Schema check at connect").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import MalformedResponse

EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
#: OData's core vocabulary: either term marks a property the service computes (read-only).
COMPUTED = "Org.OData.Core.V1.Computed"
PERMISSIONS = "Org.OData.Core.V1.Permissions"
#: What a Dataverse ``$select`` of ``Attributes`` asks for: only what the check needs.
ATTRIBUTE_SELECT = (
    "LogicalName",
    "AttributeType",
    "AttributeOf",
    "IsValidForRead",
    "IsValidForCreate",
    "IsValidForUpdate",
)

#: The kind of value a field holds, from each service's type names: a value moves between two
#: fields of the same kind only (a decimal sent to a text column is refused). Unknown types
#: have no kind, and are not compared.
_BC_KINDS = {
    "Edm.String": "text",
    "Edm.Decimal": "number",
    "Edm.Double": "number",
    "Edm.Int32": "number",
    "Edm.Int64": "number",
    "Edm.Boolean": "yes/no",
    "Edm.Date": "date",
    "Edm.DateTimeOffset": "date",
    "Edm.Guid": "id",
}
_DATAVERSE_KINDS = {
    "String": "text",
    "Memo": "text",
    "Decimal": "number",
    "Money": "number",
    "Double": "number",
    "Integer": "number",
    "BigInt": "number",
    "Picklist": "number",
    "State": "number",
    "Status": "number",
    "Boolean": "yes/no",
    "DateTime": "date",
    "Uniqueidentifier": "id",
    "Lookup": "id",
    "Customer": "id",
    "Owner": "id",
}


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity set: whether a client may read it, set it on create, and change it."""

    name: str
    readable: bool = True
    creatable: bool = True
    updatable: bool = True
    #: "text", "number", "yes/no", "date" or "id"; None when the service's type is not one of those.
    kind: str | None = None

    @property
    def writable(self) -> bool:
        """True when a synchronization may write it: on new records and on coupled ones."""
        return self.creatable and self.updatable


#: Field name -> what the service says about it.
FieldList = Mapping[str, FieldInfo]


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _read_only(prop: ET.Element) -> bool:
    """True when the property carries ``Computed`` (true) or ``Permissions`` of Read only."""
    for annotation in _children(prop, "Annotation"):
        term = annotation.get("Term", "")
        if term == COMPUTED and annotation.get("Bool", "true").lower() == "true":
            return True
        if term == PERMISSIONS:
            members = annotation.get("EnumMember", "") + " ".join(
                (child.text or "") for child in annotation.iter() if _local(child.tag) == "EnumMember"
            )
            if "Write" not in members and "ReadWrite" not in members:
                return True
    return False


def parse_bc_fields(document: bytes, entity_set: str, *, service: str = "Business Central") -> dict[str, FieldInfo]:
    """The properties of the entity type behind ``entity_set`` in a BC ``$metadata`` document.

    BC's entity sets of a company are the company's contained navigation properties
    (``companies(…)/customers``); an entity set in the container is found too.
    """
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        raise MalformedResponse(
            f"{service} answered $metadata with something that is not XML; check the URL in your profile."
        ) from None
    types: dict[str, ET.Element] = {}
    enums: set[str] = set()
    type_name: str | None = None
    for schema in root.iter(f"{{{EDM_NS}}}Schema"):
        namespace = schema.get("Namespace", "")
        enums.update(f"{namespace}.{enum.get('Name', '')}" for enum in _children(schema, "EnumType"))
        for entity_type in _children(schema, "EntityType"):
            types[f"{namespace}.{entity_type.get('Name', '')}"] = entity_type
            for nav in _children(entity_type, "NavigationProperty"):
                if nav.get("Name") == entity_set:
                    type_name = nav.get("Type", "").removeprefix("Collection(").removesuffix(")")
        for container in _children(schema, "EntityContainer"):
            for entity_set_element in _children(container, "EntitySet"):
                if entity_set_element.get("Name") == entity_set and type_name is None:
                    type_name = entity_set_element.get("EntityType")
    found = types.get(type_name or "")
    if found is None:
        raise MalformedResponse(f"{service}'s $metadata does not describe {entity_set}; check the URL in your profile.")
    fields: dict[str, FieldInfo] = {}
    for prop in _children(found, "Property"):
        read_only = _read_only(prop)
        name = prop.get("Name", "")
        edm_type = prop.get("Type", "")
        # Option fields are enum types whose members are the option captions: text on the wire.
        kind = "text" if edm_type in enums else _BC_KINDS.get(edm_type)
        fields[name] = FieldInfo(name, creatable=not read_only, updatable=not read_only, kind=kind)
    return fields


def parse_dataverse_fields(payload: Any, entity_set: str, *, service: str = "Dataverse") -> dict[str, FieldInfo]:
    """The columns of the one table in an ``EntityDefinitions`` answer (``$expand=Attributes``).

    A lookup column is described once, by its own name (``ownerid``); the Web API reads it as
    ``_ownerid_value``, so it is listed under both names.
    """
    rows = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
        raise MalformedResponse(f"{service} has no table whose entity set is {entity_set}; check the mapping.")
    attributes = rows[0].get("Attributes")
    if not isinstance(attributes, list):
        raise MalformedResponse(f"{service} described {entity_set} without its columns.")
    fields: dict[str, FieldInfo] = {}
    for attribute in attributes:
        if not isinstance(attribute, dict) or not isinstance(attribute.get("LogicalName"), str):
            continue
        if attribute.get("AttributeOf"):
            continue  # a column derived from another (a lookup's name, a choice's label): not a mapping target
        name = attribute["LogicalName"]
        info = FieldInfo(
            name,
            readable=attribute.get("IsValidForRead") is not False,
            creatable=attribute.get("IsValidForCreate") is True,
            updatable=attribute.get("IsValidForUpdate") is True,
            kind=_DATAVERSE_KINDS.get(str(attribute.get("AttributeType"))),
        )
        fields[name] = info
        if attribute.get("@odata.type") == "#Microsoft.Dynamics.CRM.LookupAttributeMetadata" or attribute.get(
            "AttributeType"
        ) in ("Lookup", "Customer", "Owner"):
            fields[f"_{name}_value"] = FieldInfo(f"_{name}_value", info.readable, info.creatable, info.updatable, "id")
    return fields
