"""The Dataverse ``$metadata`` document (OData CSDL XML) for exactly what the sandbox serves.

Built from ``dataverse_tables.TABLES`` (the data tables, their properties, keys and lookups)
and ``dataverse_definitions`` (the ``EntityMetadata``/``AttributeMetadata`` types behind
``EntityDefinitions``), in the namespace ``Microsoft.Dynamics.CRM`` with alias ``mscrm`` and
the entity container ``System``, as the real service names them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .dataverse_definitions import ATTRIBUTE_NAVIGATION, CRM, attributes, entity
from .dataverse_tables import DATETIME, DECIMAL, TABLES

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


def _property(parent: ET.Element, name: str, edm: str, nullable: bool = True) -> None:
    attrs = {"Name": name, "Type": edm}
    if edm == DECIMAL:
        attrs["Scale"] = "Variable"
    if edm == DATETIME:
        attrs["Precision"] = "0"  # Dataverse keeps whole seconds
    if not nullable:
        attrs["Nullable"] = "false"
    ET.SubElement(parent, "Property", attrs)


def _complex_type_of(name: str, value: dict[str, Any]) -> str:
    if "LocalizedLabels" in value:
        return "mscrm.Label"
    if "CanBeChanged" in value:
        return (
            "mscrm.BooleanManagedProperty"
            if isinstance(value.get("Value"), bool)
            else "mscrm.AttributeRequiredLevelManagedProperty"
        )
    return "mscrm.ValueHolder"


def _edm_of(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int64" if abs(value) > 2**31 else "Edm.Int32"
    if isinstance(value, float):
        return "Edm.Double"
    if isinstance(value, dict):
        return _complex_type_of(name, value)
    if isinstance(value, list):
        return "Collection(Edm.String)"
    if name == "MetadataId":
        return "Edm.Guid"
    return "Edm.String"


def _complex_type(schema: ET.Element, name: str, properties: Mapping[str, str], *, nullable: bool = True) -> None:
    """A ``ComplexType`` with ``properties`` (name: EDM type), in order."""
    element = ET.SubElement(schema, "ComplexType", {"Name": name})
    for prop, edm in properties.items():
        _property(element, prop, edm, nullable=nullable)


def _entity_type(
    schema: ET.Element, name: str, key: str, properties: Mapping[str, str], *, base_type: str | None = None
) -> ET.Element:
    """An ``EntityType`` keyed by ``key`` with ``properties`` (name: EDM type), in order; only the
    key is not nullable."""
    attributes = {"Name": name} if base_type is None else {"Name": name, "BaseType": base_type}
    element = ET.SubElement(schema, "EntityType", attributes)
    ET.SubElement(ET.SubElement(element, "Key"), "PropertyRef", {"Name": key})
    for prop, edm in properties.items():
        _property(element, prop, edm, nullable=prop != key)
    return element


def _metadata_types(schema: ET.Element) -> None:
    """``EntityMetadata``, ``AttributeMetadata`` and its derived types, as the served definitions use them."""
    _complex_type(
        schema,
        "LocalizedLabel",
        {
            "Label": "Edm.String",
            "LanguageCode": "Edm.Int32",
            "IsManaged": "Edm.Boolean",
            "MetadataId": "Edm.Guid",
            "HasChanged": "Edm.Boolean",
        },
    )
    _complex_type(
        schema,
        "Label",
        {"LocalizedLabels": "Collection(mscrm.LocalizedLabel)", "UserLocalizedLabel": "mscrm.LocalizedLabel"},
    )
    for name, value_type in (
        ("BooleanManagedProperty", "Edm.Boolean"),
        ("AttributeRequiredLevelManagedProperty", "Edm.String"),
    ):
        _complex_type(
            schema,
            name,
            {"Value": value_type, "CanBeChanged": "Edm.Boolean", "ManagedPropertyLogicalName": "Edm.String"},
        )
    _complex_type(schema, "ValueHolder", {"Value": "Edm.String"})

    first = next(iter(TABLES))
    entity_type = _entity_type(
        schema, "EntityMetadata", "MetadataId", {name: _edm_of(name, value) for name, value in entity(first).items()}
    )
    for nav in ("Attributes", "Keys"):
        ET.SubElement(
            entity_type,
            "NavigationProperty",
            {
                "Name": nav,
                "Type": f"Collection(mscrm.{'AttributeMetadata' if nav == 'Attributes' else 'EntityKeyMetadata'})",
            },
        )
    _entity_type(schema, "EntityKeyMetadata", "MetadataId", {"MetadataId": "Edm.Guid"})

    by_type: dict[str, dict[str, Any]] = {}
    for entity_set in TABLES:
        for attribute in attributes(entity_set):
            by_type.setdefault(attribute.odata_type, {}).update(attribute.body)
    common = set.intersection(*(set(body) for body in by_type.values())) - {"@odata.type"}
    sample = next(iter(by_type.values()))
    _entity_type(
        schema, "AttributeMetadata", "MetadataId", {name: _edm_of(name, sample[name]) for name in sorted(common)}
    )
    for type_name, body in sorted(by_type.items()):
        derived = ET.SubElement(schema, "EntityType", {"Name": type_name, "BaseType": "mscrm.AttributeMetadata"})
        for name in sorted(set(body) - common - {"@odata.type"}):
            _property(derived, name, _edm_of(name, body[name]))
        if type_name in ("PicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata"):
            for nav in ATTRIBUTE_NAVIGATION:
                ET.SubElement(derived, "NavigationProperty", {"Name": nav, "Type": "mscrm.OptionSetMetadata"})
    _entity_type(
        schema,
        "OptionSetMetadata",
        "MetadataId",
        {
            "MetadataId": "Edm.Guid",
            "Name": "Edm.String",
            "OptionSetType": "Edm.String",
            "IsGlobal": "Edm.Boolean",
            "Options": "Collection(mscrm.OptionMetadata)",
        },
    )
    _complex_type(
        schema,
        "OptionMetadata",
        {"Value": "Edm.Int32", "Label": "mscrm.Label", "Description": "mscrm.Label", "State": "Edm.Int32"},
    )


def _alternate_key(entity_type: ET.Element, columns: tuple[str, ...]) -> None:
    """The ``OData.Community.Keys.V1.AlternateKeys`` annotation Dataverse puts on a table with an alternate key."""
    keys = ET.SubElement(
        ET.SubElement(entity_type, "Annotation", {"Term": "OData.Community.Keys.V1.AlternateKeys"}), "Collection"
    )
    record = ET.SubElement(keys, "Record", {"Type": "OData.Community.Keys.V1.AlternateKey"})
    refs = ET.SubElement(ET.SubElement(record, "PropertyValue", {"Property": "Key"}), "Collection")
    for column in columns:
        ref = ET.SubElement(refs, "Record", {"Type": "OData.Community.Keys.V1.PropertyRef"})
        ET.SubElement(ref, "PropertyValue", {"Property": "Alias", "String": column})
        ET.SubElement(ref, "PropertyValue", {"Property": "Name", "PropertyPath": column})


@lru_cache(maxsize=1)
def csdl_document() -> str:
    """The whole ``$metadata`` document as XML text."""
    ET.register_namespace("edmx", EDMX_NS)
    root = ET.Element(f"{{{EDMX_NS}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(root, f"{{{EDMX_NS}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"Namespace": CRM, "Alias": "mscrm", "xmlns": EDM_NS})
    ET.SubElement(schema, "EntityType", {"Name": "crmbaseentity", "Abstract": "true"})
    for table in TABLES.values():
        entity_type = _entity_type(
            schema, table.logical_name, table.primary_key, table.properties, base_type="mscrm.crmbaseentity"
        )
        if table.alternate_key is not None:
            _alternate_key(entity_type, table.alternate_key[1])
        for lookup in table.lookups:
            for navigation, target_set in lookup.targets.items():
                # Only lookups to tables the sandbox serves get a navigation property to follow.
                target = TABLES.get(target_set)
                if target is None:
                    continue
                nav = ET.SubElement(
                    entity_type, "NavigationProperty", {"Name": navigation, "Type": f"mscrm.{target.logical_name}"}
                )
                ET.SubElement(
                    nav,
                    "ReferentialConstraint",
                    {"Property": lookup.value_field, "ReferencedProperty": target.primary_key},
                )
    who = dict.fromkeys(("BusinessUnitId", "UserId", "OrganizationId"), "Edm.Guid")
    _complex_type(schema, "WhoAmIResponse", who, nullable=False)
    function = ET.SubElement(schema, "Function", {"Name": "WhoAmI"})
    ET.SubElement(function, "ReturnType", {"Type": "mscrm.WhoAmIResponse", "Nullable": "false"})
    _metadata_types(schema)

    container = ET.SubElement(schema, "EntityContainer", {"Name": "System"})
    for table in TABLES.values():
        entity_set = ET.SubElement(
            container, "EntitySet", {"Name": table.entity_set, "EntityType": f"{CRM}.{table.logical_name}"}
        )
        for lookup in table.lookups:
            for navigation, target_set in lookup.targets.items():
                if target_set in TABLES:
                    ET.SubElement(entity_set, "NavigationPropertyBinding", {"Path": navigation, "Target": target_set})
    ET.SubElement(container, "EntitySet", {"Name": "EntityDefinitions", "EntityType": f"{CRM}.EntityMetadata"})
    ET.SubElement(
        container,
        "FunctionImport",
        {"Name": "WhoAmI", "Function": f"{CRM}.WhoAmI", "IncludeInServiceDocument": "false"},
    )
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
