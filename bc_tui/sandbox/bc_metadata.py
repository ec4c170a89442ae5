"""The Business Central API v2.0 ``$metadata`` document (OData CSDL XML) for what the sandbox serves.

Built from ``bc_entities`` (companies, and the entities under ``companies(…)/``), so a property
added there is described here without further work. Namespace ``Microsoft.NAV`` and entity
container ``NAV``, as Business Central names them; option fields are enum types whose members
are the option captions (a blank caption is the member ``_x0020_``, XML-encoded as BC does);
a company contains its entities (``ContainsTarget``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache

from .bc_entities import COMPANIES, COMPANY_ENTITIES, EntityDef, FieldDef
from .http import ApiResponse

NAMESPACE = "Microsoft.NAV"
EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


def enum_name(entity: EntityDef, field: FieldDef) -> str:
    """The enum type of an option field, e.g. ``customerBlocked``."""
    return f"{entity.type_name}{field.name[:1].upper()}{field.name[1:]}"


def member_name(option: str) -> str:
    """An option caption as an enum member name (characters not allowed in names are ``_xHHHH_``)."""
    return "".join(ch if ch.isalnum() or ch == "_" else f"_x{ord(ch):04x}_" for ch in option)


def _entity_type(schema: ET.Element, entity: EntityDef, contained: tuple[EntityDef, ...] = ()) -> None:
    element = ET.SubElement(schema, "EntityType", {"Name": entity.type_name})
    ET.SubElement(ET.SubElement(element, "Key"), "PropertyRef", {"Name": "id"})
    for field in entity.fields.values():
        attrs = {"Name": field.name, "Type": field.edm_type}
        if field.kind == "option":
            attrs["Type"] = f"{NAMESPACE}.{enum_name(entity, field)}"
        if field.length is not None:
            attrs["MaxLength"] = str(field.length)
        if field.kind == "decimal":
            attrs["Scale"] = "Variable"
        if field.name == "id" or field.kind in ("decimal", "bool", "option"):
            attrs["Nullable"] = "false"
        prop = ET.SubElement(element, "Property", attrs)
        if field.read_only:
            # OData's core vocabulary marks what the service computes; a client reads from it
            # which fields it may not write (docs/sandbox-fidelity.md, "Business Central API v2.0").
            ET.SubElement(prop, "Annotation", {"Term": "Org.OData.Core.V1.Computed", "Bool": "true"})
    for child in contained:
        ET.SubElement(
            element,
            "NavigationProperty",
            {"Name": child.name, "Type": f"Collection({NAMESPACE}.{child.type_name})", "ContainsTarget": "true"},
        )


@lru_cache(maxsize=1)
def csdl_document() -> str:
    """The whole ``$metadata`` document as XML text."""
    ET.register_namespace("edmx", EDMX_NS)
    root = ET.Element(f"{{{EDMX_NS}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(root, f"{{{EDMX_NS}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"Namespace": NAMESPACE, "xmlns": EDM_NS})
    entities = tuple(COMPANY_ENTITIES.values())
    for entity in entities:
        for field in entity.fields.values():
            if field.kind != "option":
                continue
            enum = ET.SubElement(schema, "EnumType", {"Name": enum_name(entity, field)})
            for value, option in enumerate(field.options):
                ET.SubElement(enum, "Member", {"Name": member_name(option), "Value": str(value)})
    _entity_type(schema, COMPANIES, entities)
    for entity in entities:
        _entity_type(schema, entity)
    container = ET.SubElement(schema, "EntityContainer", {"Name": "NAV"})
    ET.SubElement(container, "EntitySet", {"Name": COMPANIES.name, "EntityType": f"{NAMESPACE}.{COMPANIES.type_name}"})
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")


def is_metadata_path(path: str) -> bool:
    """``$metadata`` at the API root, or under one company (``companies(<id>)/$metadata``)."""
    segments = [s for s in path.strip("/").split("/") if s]
    if segments == ["$metadata"]:
        return True
    return len(segments) == 2 and segments[1] == "$metadata" and segments[0].startswith("companies(")


def metadata_response() -> ApiResponse:
    """The CSDL document as BC sends it."""
    return ApiResponse(
        200, csdl_document().encode("utf-8"), {"content-type": "application/xml", "odata-version": "4.0"}
    )
